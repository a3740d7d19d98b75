/**
 * A JSON.stringify replacer that writes every object's keys in code-unit order (undefined values are
 * dropped by JSON.stringify itself). The native serialiser does the rest, so sorting costs one small
 * copy per object that is not already in order, made and dropped as it is written, never a sorted copy
 * of the whole document. `keep` is written in its own key order (e.g. a document's leading fields).
 */
export function sortedKeys(keep?: object): (this: unknown, key: string, value: unknown) => unknown {
  return (_key, value) => {
    if (value === null || typeof value !== "object" || Array.isArray(value) || value === keep) return value;
    const keys = Object.keys(value);
    let ordered = true;
    for (let i = 1; i < keys.length && ordered; i++) ordered = (keys[i - 1] as string) < (keys[i] as string);
    if (ordered) return value;
    const sorted: Record<string, unknown> = {};
    for (const key of keys.sort()) sorted[key] = (value as Record<string, unknown>)[key];
    return sorted;
  };
}
