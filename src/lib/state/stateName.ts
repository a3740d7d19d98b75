import { InvalidStateNameError, StateStoreError } from "./errors.js";

export const MAX_STATE_NAME_LENGTH = 512;
/** Each segment becomes a file name in the local store; file systems stop at 255 bytes, less our suffix. */
export const MAX_STATE_SEGMENT_LENGTH = 200;

const NAME_CHARACTERS = /^[A-Za-z0-9._~/-]*$/;

/**
 * The one check of item names, used by both stores so that a name valid in one is valid in the other:
 * 1–512 characters of [A-Za-z0-9._~/-], no leading "/", no empty, "." or ".." segments, segments of at
 * most 200 characters. Names are case-sensitive (as in Blob Storage).
 */
export function assertStateName(name: string): void {
  const problem = nameProblem(name);
  if (problem !== undefined) throw new InvalidStateNameError(`Invalid state item name ${JSON.stringify(name.slice(0, 80))}: ${problem}`, { item: name });
}

/** A list prefix: "" or any start of a valid name (so it may end in "/" or part-way through a segment). */
export function assertStatePrefix(prefix: string): void {
  if (prefix === "") return;
  const problem = nameProblem(`${prefix}x`);
  if (problem !== undefined) throw new InvalidStateNameError(`Invalid state list prefix ${JSON.stringify(prefix.slice(0, 80))}: ${problem}`, { item: prefix });
}

function nameProblem(name: string): string | undefined {
  if (typeof name !== "string" || name.length === 0) return "it is empty";
  if (name.length > MAX_STATE_NAME_LENGTH) return `it is ${name.length} characters long (at most ${MAX_STATE_NAME_LENGTH})`;
  if (!NAME_CHARACTERS.test(name)) return "only letters, digits and . _ ~ / - are allowed";
  if (name.startsWith("/")) return 'it must not start with "/"';
  for (const segment of name.split("/")) {
    if (segment === "") return 'it has an empty segment ("//" or a trailing "/")';
    if (segment === "." || segment === "..") return `it has a "${segment}" segment`;
    if (segment.length > MAX_STATE_SEGMENT_LENGTH) return `a segment is ${segment.length} characters long (at most ${MAX_STATE_SEGMENT_LENGTH})`;
  }
  return undefined;
}

/** Lease durations Blob Storage allows (15–60 s, whole seconds); both stores enforce the same range. */
export function assertLeaseDuration(name: string, durationMs: number): void {
  if (!Number.isInteger(durationMs) || durationMs < 15_000 || durationMs > 60_000 || durationMs % 1000 !== 0) {
    throw new StateStoreError(`Invalid lease duration for ${name}: ${durationMs} ms (whole seconds from 15 000 to 60 000 ms)`, { item: name });
  }
}
