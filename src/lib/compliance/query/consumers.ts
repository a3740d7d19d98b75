import type { ConsumerKind } from "../../config/types.js";
import type { CollectionError, KeyReference, SnapshotPart } from "../../estate/snapshot.js";
import { hsmHost } from "../../estate/keyReference.js";
import { findVersion, keyPairs, type KeyPair } from "../query.js";
import { errorsFor, withErrors, withMessage, type Results, type Subject } from "../result.js";
import { unreadSubscriptions } from "./unread.js";
import type { CheckContext, ControlResult, EvidenceValue } from "../types.js";

/** Shared lookups for the consumer controls (sql_, disks_, storage_). */

export type { Results } from "../result.js";

/** The configured keys a kind of consumer should use: those whose policy `consumers` lists the kind. */
export function configuredKeysFor(ctx: CheckContext, kind: ConsumerKind): KeyPair[] {
  return [...configuredKeys(ctx, kind).pairs];
}

interface ConfiguredKeys {
  pairs: KeyPair[];
  /** Per pair, what a reference must name to be bound to it: the HSM's host (undefined: unread) and the key name, lower-cased. */
  targets: { pair: KeyPair; host: string | undefined; keyName: string }[];
  /** Bindings already worked out, by reference (the DES a thousand disks use is matched once); shared, so frozen. */
  bindings: WeakMap<KeyReference, Readonly<KeyBinding>>;
}

/** Asked for every consumer by several controls: worked out once per evaluation (one context, one snapshot) and kind. */
const configuredKeysCache = new WeakMap<CheckContext, Map<ConsumerKind, ConfiguredKeys>>();

function configuredKeys(ctx: CheckContext, kind: ConsumerKind): ConfiguredKeys {
  let perKind = configuredKeysCache.get(ctx);
  if (perKind === undefined) {
    perKind = new Map();
    configuredKeysCache.set(ctx, perKind);
  }
  let found = perKind.get(kind);
  if (found === undefined) {
    const pairs = keyPairs(ctx).filter((pair) => pair.keyPolicy.consumers.includes(kind));
    const targets = pairs.map((pair) => ({ pair, host: pair.hsm.hsmUri === undefined ? undefined : hsmHost(pair.hsm.hsmUri), keyName: pair.keyPolicy.name.toLowerCase() }));
    found = { pairs, targets, bindings: new WeakMap() };
    perKind.set(kind, found);
  }
  return found;
}

/** The versionless URL(s) of those keys, as evidence: one URL, a list when several, null when none is configured. */
export function configuredKeyEvidence(ctx: CheckContext, kind: ConsumerKind): EvidenceValue {
  const urls = configuredKeysFor(ctx, kind).map((pair) => pair.keyResource.id);
  return urls.length === 0 ? null : urls.length === 1 ? (urls[0] as string) : urls;
}

export type KeyBinding =
  /** The reference names this configured key (any version). */
  | { status: "bound"; pair: KeyPair }
  /** It names no configured key for its kind (another key, another HSM, or no key at all). */
  | { status: "elsewhere" }
  /** A configured HSM's data-plane URI is unknown, so the reference cannot be matched. */
  | { status: "unknown"; errors: CollectionError[] };

const ELSEWHERE: Readonly<KeyBinding> = Object.freeze({ status: "elsewhere" });

/** Which configured key of `kind` a consumer's key reference points at (host and key name, case-insensitive). */
export function keyBinding(ctx: CheckContext, ref: KeyReference | null, kind: ConsumerKind): Readonly<KeyBinding> {
  const configured = configuredKeys(ctx, kind);
  const known = ref ? configured.bindings.get(ref) : undefined;
  if (known) return known;
  const keyName = ref?.keyName.toLowerCase();
  const target = ref ? configured.targets.find((t) => t.host !== undefined && t.host === ref.host && t.keyName === keyName) : undefined;
  if (target) {
    const bound = Object.freeze({ status: "bound" as const, pair: target.pair });
    configured.bindings.set(ref as KeyReference, bound);
    return bound;
  }
  const unread = configured.targets.filter((t) => t.host === undefined);
  // "unknown" carries its errors; each result gets its own list, so it is not kept.
  if (ref && unread.length > 0) return { status: "unknown", errors: unread.flatMap((t) => errorsFor(ctx, "managedHsm", t.pair.about)) };
  if (ref) configured.bindings.set(ref, ELSEWHERE);
  return ELSEWHERE;
}

export type LatestVersion =
  /** `createdOn` is when the latest version was created, when the HSM reported it. */
  | { status: "known"; version: string; id: string; createdOn?: string }
  | { status: "unknown"; errors: CollectionError[] }
  /** The HSM's key list was read and the configured key is not in it. */
  | { status: "absent" };

/** The latest version of a configured key: the key's currentVersion (what a versionless reference resolves to). */
export function latestVersion(ctx: CheckContext, pair: KeyPair): Readonly<LatestVersion> {
  // Asked per consumer of the key: the known outcomes (no lists in them) are worked out once per pair,
  // and shared (frozen) rather than copied for each consumer.
  const cached = latestCache.get(pair);
  if (cached) return cached;
  const latest = readLatestVersion(ctx, pair);
  if (latest.status !== "unknown") latestCache.set(pair, Object.freeze(latest));
  return latest;
}

/** Keyed on the pair, which belongs to one evaluation (keyPairs is memoised per context). */
const latestCache = new WeakMap<KeyPair, Readonly<Exclude<LatestVersion, { status: "unknown" }>>>();

function readLatestVersion(ctx: CheckContext, pair: KeyPair): LatestVersion {
  const { key } = pair;
  if (key === undefined) return { status: "absent" };
  if (key === null || !key.currentVersion) return { status: "unknown", errors: errorsFor(ctx, ["keys", "key"], pair.keyAbout) };
  const found = findVersion(key, key.currentVersion);
  const createdOn = found?.createdOn ?? key.createdOn;
  return { status: "known", version: key.currentVersion, id: found?.id ?? `${key.id}/${key.currentVersion}`, ...(createdOn ? { createdOn } : {}) };
}

/** Version ids compare case-insensitively; a missing version is never the latest. */
export function isVersion(version: string | null | undefined, latest: { version: string }): boolean {
  return !!version && version.toLowerCase() === latest.version.toLowerCase();
}

/** Evidence for "the latest version": its versioned id when known. */
export function latestEvidence(latest: LatestVersion | undefined): string {
  return latest?.status === "known" ? latest.id : "the latest version of the configured key";
}

/** FAIL (or UNKNOWN) for a consumer that is not on a configured key of its kind. */
export function notOnConfiguredKey(r: Results, subject: Subject, binding: Exclude<KeyBinding, { status: "bound" }>, kindLabel: string): ControlResult {
  const name = subject.resource.name;
  return binding.status === "unknown"
    ? r.unknown(withErrors(subject, `Whether ${name} uses the configured ${kindLabel} key is unknown: the configured HSM was not read.`, binding.errors))
    : r.fail(withMessage(subject, `${name} is not on the configured ${kindLabel} key, so it cannot be on its latest version; move it to that key.`));
}

/** FAIL (or UNKNOWN) for a consumer whose configured key's latest version is not known. */
export function latestNotKnown(r: Results, subject: Subject, latest: Exclude<LatestVersion, { status: "known" }>, pair: KeyPair): ControlResult {
  const name = subject.resource.name;
  return latest.status === "unknown"
    ? r.unknown(withErrors(subject, `Whether ${name} is on the latest version of ${keyLabel(pair)} is unknown: the key could not be read.`, latest.errors))
    : r.fail(withMessage(subject, `${name} uses ${keyLabel(pair)}, which does not exist in the HSM; restore or recreate it before its consumers lose access.`));
}

/** Readable label of a configured key: "<key> (<hsm>)". */
export function keyLabel(pair: KeyPair): string {
  return `${pair.keyPolicy.name} (${pair.policy.name})`;
}

/**
 * One UNKNOWN per subscription whose list (`part`) could not be read: its consumers are not in the
 * snapshot, while every other subscription's are, and are judged as usual.
 */
export function unreadListResults(ctx: CheckContext, r: Results, part: SnapshotPart | SnapshotPart[], what: string, expected: EvidenceValue): ControlResult[] {
  return unreadSubscriptions(ctx, part).map(({ subscriptionId, errors }) => {
    const scope = `/subscriptions/${subscriptionId}`;
    const message = `The ${what} of subscription ${subscriptionId} could not be read, so none of them could be checked.`;
    return r.unknown({ resource: { id: scope, name: `subscription ${subscriptionId}` }, message, expected, errors });
  });
}

/** Hours from an ISO time to `now` (negative when it is in the future). */
export function hoursSince(iso: string, now: Date): number {
  return (now.getTime() - new Date(iso).getTime()) / 3_600_000;
}
