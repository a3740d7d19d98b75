import type { OutgoingEvent } from "../azure/eventGrid.js";
import { keyPairs } from "../compliance/query.js";
import { versionAttributes } from "../compliance/query/keys.js";
import type { CheckContext } from "../compliance/types.js";
import type { PolicyDocument } from "../config/types.js";
import type { EstateSnapshot } from "../estate/snapshot.js";
import { eventIdFor } from "./eventIdentity.js";

/** The Key Vault event types (Microsoft.KeyVault system topics), which Managed HSM does not send. */
export const KEY_VAULT_EVENT_TYPES = {
  nearExpiry: "Microsoft.KeyVault.KeyNearExpiry",
  expired: "Microsoft.KeyVault.KeyExpired",
  newVersion: "Microsoft.KeyVault.KeyNewVersionCreated",
} as const;

/** An event with the fact it reports; `requires`: publish only once the event of that identity was published. */
export interface EventToPublish {
  identity: string;
  event: OutgoingEvent;
  requires?: string;
}

/**
 * The Key Vault events each managed key's current version calls for now, as a vault would send them:
 * KeyNewVersionCreated for it, KeyNearExpiry within the policy's notifyBefore of its expiry, KeyExpired once it
 * has expired. Pure: (snapshot, policy, now). Each carries an identity per (key, version, type), so publishing
 * it again is a no-op (src/lib/events/outbox.ts).
 *
 * Data is the Key Vault schema exactly: PascalCase `Id, VaultName, ObjectType, ObjectName, Version, NBF, EXP`,
 * NBF/EXP in Unix seconds or null; subject the key's name; source (CloudEvents) the HSM's resource id.
 */
export function keyVaultEvents(snapshot: EstateSnapshot, policy: PolicyDocument, now: Date): EventToPublish[] {
  const ctx: CheckContext = { snapshot, policy, now };
  const out: EventToPublish[] = [];
  for (const pair of keyPairs(ctx)) {
    const key = pair.key;
    if (!key?.currentVersion) continue;
    const version = versionAttributes(key, key.currentVersion);
    if (!version) continue;
    const data = {
      Id: version.id,
      VaultName: pair.policy.name.toLowerCase(),
      ObjectType: "Key",
      ObjectName: key.name,
      Version: version.version,
      NBF: unixSeconds(version.notBefore),
      EXP: unixSeconds(version.expiresOn),
    };
    const make = (type: string, time: string): EventToPublish => {
      const identity = `${type}|${version.id.toLowerCase()}`;
      return { identity, event: { id: eventIdFor(identity), type, subject: key.name, source: pair.policy.resourceId, time, dataVersion: "1", data } };
    };
    out.push(make(KEY_VAULT_EVENT_TYPES.newVersion, version.createdOn ?? now.toISOString()));
    const expires = version.expiresOn ? Date.parse(version.expiresOn) : undefined;
    if (expires !== undefined && Number.isFinite(expires)) {
      const notifyFrom = expires - pair.keyPolicy.rotation.notifyBefore.days * 86_400_000;
      if (now.getTime() >= expires) out.push(make(KEY_VAULT_EVENT_TYPES.expired, now.toISOString()));
      else if (now.getTime() >= notifyFrom) out.push(make(KEY_VAULT_EVENT_TYPES.nearExpiry, now.toISOString()));
    }
  }
  return out;
}

function unixSeconds(iso: string | undefined): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}
