import { createHash } from "node:crypto";

/** A state-store-safe name for an identity (identities hold URLs and ids). */
export function identityHash(identity: string): string {
  return createHash("sha256").update(identity).digest("hex").slice(0, 40);
}
