import type { KeySnapshot, KeyVersionSnapshot } from "../../estate/snapshot.js";
import { findVersion, keyPairs, type KeyPair } from "../query.js";
import { errorsFor, resultsFor, type Results } from "../result.js";
import type { CheckContext, ControlMetadata, ControlResult, EvidenceValue } from "../types.js";

/** Shared logic of the keys_ controls: per configured key, with the unknown/absent cases handled once. */

export type { Results } from "../result.js";

/** A configured key that was read and exists. */
export interface PresentKeyPair extends KeyPair {
  key: KeySnapshot;
}

const MS_PER_DAY = 86_400_000;

/** Whole and fractional days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: Date, to: Date): number {
  return (to.getTime() - from.getTime()) / MS_PER_DAY;
}

/** Days for evidence and messages: one decimal place. */
export function roundDays(days: number): number {
  return Math.round(days * 10) / 10;
}

/** The collection errors that explain why a configured key could not be read. */
export function keyReadErrors(ctx: CheckContext, pair: KeyPair) {
  return [...errorsFor(ctx, ["keys", "key"], pair.keyAbout), ...errorsFor(ctx, "managedHsm", pair.about)];
}

interface PerKeySpec {
  /** What the control requires of this key (evidence). */
  expected: (pair: KeyPair) => EvidenceValue;
  /** Judges a key that exists; `expected` is what `expected(pair)` returned. */
  evaluate: (pair: PresentKeyPair, r: Results, expected: EvidenceValue) => ControlResult | ControlResult[];
  /** A configured key that does not exist; by default one FAIL for the key. */
  absent?: (pair: KeyPair, r: Results) => ControlResult[];
}

/**
 * Runs a control over every configured key: UNKNOWN when the key could not be read, FAIL when it does
 * not exist (nothing about a missing CMK can pass), else the control's own judgement.
 */
export function perConfiguredKey(ctx: CheckContext, metadata: ControlMetadata, spec: PerKeySpec): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  return keyPairs(ctx).flatMap((pair) => {
    const resource = pair.keyResource;
    const expected = spec.expected(pair);
    if (pair.key === null) {
      return [r.unknown({ resource, message: `Key ${resource.name} in ${pair.policy.name} could not be read.`, expected, errors: keyReadErrors(ctx, pair) })];
    }
    if (pair.key === undefined) {
      return spec.absent
        ? spec.absent(pair, r)
        : [r.fail({ resource, message: `Configured key ${resource.name} does not exist in ${pair.policy.name}.`, observed: "key does not exist", expected })];
    }
    return spec.evaluate({ ...pair, key: pair.key }, r, expected);
  });
}

/** UNKNOWN for a key that was read but did not report an attribute the control needs. */
export function missingAttribute(ctx: CheckContext, pair: PresentKeyPair, r: Results, attribute: string, expected: EvidenceValue): ControlResult {
  return r.unknown({
    resource: pair.keyResource,
    message: `Key ${pair.keyResource.name} did not report its ${attribute}, so this cannot be judged.`,
    expected,
    errors: errorsFor(ctx, "key", pair.keyAbout),
  });
}

/**
 * The attributes of one version of a key: from its version list, or, for the current version, from the
 * key itself (a key read returns its current version), so the current version is known even when the
 * version list could not be read.
 */
export function versionAttributes(key: KeySnapshot, version: string): KeyVersionSnapshot | undefined {
  const listed = findVersion(key, version);
  if (listed) return listed;
  if (key.currentVersion?.toLowerCase() !== version.toLowerCase()) return undefined;
  const { enabled, createdOn, updatedOn, expiresOn, notBefore } = key;
  return { version, id: `${key.id}/${version}`, enabled, createdOn, updatedOn, expiresOn, notBefore };
}

/** Why a consumer cannot use this version now; empty when it can. */
export function versionUsabilityProblems(v: KeyVersionSnapshot, now: Date): string[] {
  const problems: string[] = [];
  if (v.enabled === false) problems.push("is disabled");
  if (v.expiresOn && new Date(v.expiresOn) <= now) problems.push(`expired on ${v.expiresOn}`);
  if (v.notBefore && new Date(v.notBefore) > now) problems.push(`is not active until ${v.notBefore}`);
  return problems;
}
