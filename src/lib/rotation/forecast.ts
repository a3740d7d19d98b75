import type { PolicyDocument } from "../config/types.js";
import { consumerIndex, consumerKeyIndexKey, keyPairs, versionInUse, type KeyPair } from "../compliance/query.js";
import { versionAttributes } from "../compliance/query/keys.js";
import type { CheckContext } from "../compliance/types.js";
import { hsmHost } from "../estate/keyReference.js";
import { resourceKey } from "../estate/resourceId.js";
import type { Consumer, EstateSnapshot, KeySnapshot, KeyVersionSnapshot } from "../estate/snapshot.js";

/** A consumer whose key version expires before its key is next rotated: it loses the key unless it moves first. */
export interface ConsumerExpiringBeforeRotation {
  resourceId: string;
  resourceName: string;
  /** The version the consumer uses (a versionless one: the key's current version). */
  version: string;
  /** That version's expiry (ISO-8601). */
  expires: string;
}

/** What the policy's rotation cadence means for one configured key. */
export interface KeyForecast {
  /** ARM id of the HSM, as the policy names it. */
  hsmId: string;
  keyName: string;
  currentVersion: string | null;
  /**
   * When the policy makes the key due (as the planner judges it): the current version's creation plus `rotateAfter`,
   * or its expiry less `notifyBefore` when that is earlier. In the past when the key is overdue. Null: not known
   * (the key, or its current version's dates, could not be read).
   */
  nextRotationDue: string | null;
  /** Versions the key has; null when they could not be listed. */
  versionCount: number | null;
  /**
   * When a rotation creates the version that reaches the cap (thresholds.maxKeyVersions), rotating every
   * `rotateAfter` from the next rotation on; at or past the cap, when the newest version was created. Null: not known.
   */
  versionCapReachedOn: string | null;
  /** Consumers on a version that expires before the next rotation (or has already expired), by resource id. */
  consumersExpiringBeforeNextRotation: ConsumerExpiringBeforeRotation[];
}

/** A consumer of the key whose version's expiry could not be read. */
export interface ConsumerVersionUnknown {
  resourceId: string;
  resourceName: string;
  version: string | null;
}

/** A forecast together with what it is about and what it could not see (for the keys_rotation_forecast control). */
export interface KeyForecastDetail {
  pair: KeyPair;
  forecast: KeyForecast;
  /** Consumers whose version's expiry is unknown, so they may belong in consumersExpiringBeforeNextRotation. */
  consumersUnknown: ConsumerVersionUnknown[];
}

const DAY_MS = 86_400_000;

/** The forecast of every configured key of every configured HSM, in policy order: pure. */
export function keyForecasts(snapshot: EstateSnapshot, policy: PolicyDocument, now: Date): KeyForecast[] {
  return keyForecastDetails({ snapshot, policy, now }).map((d) => d.forecast);
}

/** keyForecasts with the key pairs and the consumers whose versions could not be judged. */
export function keyForecastDetails(ctx: CheckContext): KeyForecastDetail[] {
  const consumers = consumerIndex(ctx);
  return keyPairs(ctx).map((pair) => forecastKey(ctx, pair, consumers));
}

function forecastKey(ctx: CheckContext, pair: KeyPair, consumers: ReadonlyMap<string, readonly Consumer[]>): KeyForecastDetail {
  const base = { hsmId: pair.policy.resourceId, keyName: pair.keyPolicy.name };
  const key = pair.key;
  if (!key) {
    const forecast = { ...base, currentVersion: null, nextRotationDue: null, versionCount: null, versionCapReachedOn: null, consumersExpiringBeforeNextRotation: [] };
    return { pair, forecast, consumersUnknown: [] };
  }
  const due = nextRotationDue(key, pair, ctx.now);
  const versionCount = key.versions?.length ?? null;
  // An overdue key rotates at the next run, not in the past.
  const nextRotation = due === null ? null : Math.max(due, ctx.now.getTime());
  const expiring: ConsumerExpiringBeforeRotation[] = [];
  const consumersUnknown: ConsumerVersionUnknown[] = [];
  const host = pair.hsm.hsmUri ? hsmHost(pair.hsm.hsmUri) : undefined;
  // Thousands of consumers share a key's one or two versions: each version is looked up once.
  const byVersion = new Map<string, { attributes: KeyVersionSnapshot | undefined; expiresMs: number | null }>();
  const lookUp = (version: string) => {
    let found = byVersion.get(version);
    if (found === undefined) {
      const attributes = versionAttributes(key, version);
      found = { attributes, expiresMs: attributes?.expiresOn ? Date.parse(attributes.expiresOn) : null };
      byVersion.set(version, found);
    }
    return found;
  };
  for (const consumer of host === undefined ? [] : (consumers.get(consumerKeyIndexKey(host, pair.keyPolicy.name)) ?? [])) {
    const version = versionInUse(consumer) ?? key.currentVersion ?? null;
    const { attributes, expiresMs } = version ? lookUp(version) : { attributes: undefined, expiresMs: null };
    // Without a next rotation nothing can expire before it: the key's forecast is unknown as a whole.
    if (nextRotation === null) continue;
    if (!version || !attributes) {
      // A version missing from a version list that was read does not exist: keys_referenced_versions_usable reports it.
      if (version && !attributes && key.versions !== null) continue;
      consumersUnknown.push({ resourceId: consumer.resourceId, resourceName: consumer.name, version });
      continue;
    }
    if (attributes.expiresOn && expiresMs !== null && expiresMs <= nextRotation) {
      expiring.push({ resourceId: consumer.resourceId, resourceName: consumer.name, version: attributes.version, expires: attributes.expiresOn });
    }
  }
  // Few consumers expire before a rotation: sorting them (not the whole estate) keeps the order stable.
  expiring.sort((a, b) => compareIds(a.resourceId, b.resourceId));
  const forecast: KeyForecast = {
    ...base,
    currentVersion: key.currentVersion ?? null,
    nextRotationDue: due === null ? null : new Date(due).toISOString(),
    versionCount,
    versionCapReachedOn: capReachedOn(key, versionCount, nextRotation, pair, ctx),
    consumersExpiringBeforeNextRotation: expiring,
  };
  return { pair, forecast, consumersUnknown };
}

/** Epoch ms at which the policy makes the key due (see KeyForecast.nextRotationDue); null when its dates are unknown. */
function nextRotationDue(key: KeySnapshot, pair: KeyPair, now: Date): number | null {
  const current = key.currentVersion ? versionAttributes(key, key.currentVersion) : undefined;
  if (!current) return null;
  const { rotateAfter, notifyBefore } = pair.keyPolicy.rotation;
  // A version already disabled or expired is due now, whatever its dates say.
  if (current.enabled === false || (current.expiresOn !== undefined && Date.parse(current.expiresOn) <= now.getTime())) return now.getTime();
  // Without a creation time its age, and so its due date, is unknown.
  if (!current.createdOn) return null;
  const byAge = Date.parse(current.createdOn) + rotateAfter.days * DAY_MS;
  return current.expiresOn ? Math.min(byAge, Date.parse(current.expiresOn) - notifyBefore.days * DAY_MS) : byAge;
}

function capReachedOn(key: KeySnapshot, versionCount: number | null, nextRotation: number | null, pair: KeyPair, ctx: CheckContext): string | null {
  if (versionCount === null) return null;
  const cap = ctx.policy.thresholds.maxKeyVersions;
  if (versionCount >= cap) {
    const created = (key.versions ?? []).map((v) => (v.createdOn ? Date.parse(v.createdOn) : NaN)).filter((t) => !Number.isNaN(t));
    return created.length > 0 ? new Date(Math.max(...created)).toISOString() : null;
  }
  if (nextRotation === null) return null;
  const rotationsLeft = cap - versionCount;
  return new Date(nextRotation + (rotationsLeft - 1) * pair.keyPolicy.rotation.rotateAfter.days * DAY_MS).toISOString();
}

function compareIds(a: string, b: string): number {
  const x = resourceKey(a);
  const y = resourceKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
