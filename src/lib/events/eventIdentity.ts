import { createHash } from "node:crypto";

/**
 * An event's identity is the fact it reports ("key K's version V is near expiry"), not the run that saw it: the
 * event id is derived from it, so a resend carries the same id and subscribers (KeyWarden's handler among them)
 * deduplicate on it, and the outbox keys its records on it.
 */
export function eventIdFor(identity: string): string {
  const h = createHash("sha256").update(identity).digest("hex");
  // A version-4-shaped UUID (the variant and version nibbles set) from the hash: stable and well-formed.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
