/** ARM resource id helpers (pure). Resource ids compare case-insensitively in Azure. */

export interface ParsedResourceId {
  subscriptionId: string;
  resourceGroup: string;
  provider: string;
  /** e.g. "managedHSMs", or "managedInstances/keys" for a child resource */
  type: string;
  name: string;
}

const RESOURCE_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+)\/(.+)$/i;

/** Parses `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{childType}/{childName}...]`. */
export function parseResourceId(id: string): ParsedResourceId | undefined {
  const m = RESOURCE_ID.exec(id.trim());
  if (!m) return undefined;
  const [, subscriptionId, resourceGroup, provider, rest] = m as unknown as [string, string, string, string, string];
  const parts = rest.split("/").filter((p) => p.length > 0);
  if (parts.length < 2 || parts.length % 2 !== 0) return undefined;
  const types: string[] = [];
  for (let i = 0; i < parts.length; i += 2) types.push(parts[i] as string);
  return { subscriptionId, resourceGroup, provider, type: types.join("/"), name: parts[parts.length - 1] as string };
}

/** Like parseResourceId, but throws a clear error naming the id when it is not an ARM resource id. */
export function requireResourceId(id: string, what: string): ParsedResourceId {
  const parsed = parseResourceId(id);
  if (!parsed) throw new Error(`${what}: "${id}" is not an ARM resource id (/subscriptions/.../resourceGroups/.../providers/...)`);
  return parsed;
}

/** Resource ids compare case-insensitively: the key to index them by. */
export function resourceKey(id: string): string {
  return id.toLowerCase();
}

export function sameResourceId(a: string | undefined, b: string | undefined): boolean {
  // The same spelling (the usual case) needs no lower-cased copies.
  return a !== undefined && b !== undefined && (a === b || a.toLowerCase() === b.toLowerCase());
}

/** The subscription an ARM resource id names, lower-cased; undefined when it names none. */
export function subscriptionOf(id: string): string | undefined {
  return /^\/subscriptions\/([^/]+)/i.exec(id)?.[1]?.toLowerCase();
}
