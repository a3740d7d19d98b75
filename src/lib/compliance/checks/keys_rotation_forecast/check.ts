import type { CollectionError } from "../../../estate/snapshot.js";
import { keyForecastDetails, type KeyForecast, type KeyForecastDetail } from "../../../rotation/forecast.js";
import type { KeyPair } from "../../query.js";
import { daysBetween, perConfiguredKey, roundDays } from "../../query/keys.js";
import { unreadSubscriptions } from "../../query/unread.js";
import { errorsFor } from "../../result.js";
import type { CheckContext, ControlResult, EvidenceValue } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  const horizonDays = ctx.policy.thresholds.versionCapForecastDays;
  const expected = { consumersExpiringBeforeNextRotation: 0, versionCapNotWithinDays: horizonDays };
  const details = new Map<string, KeyForecastDetail>(keyForecastDetails(ctx).map((d) => [pairKey(d.pair), d]));
  // Any unread consumer list may hide a consumer of any key.
  const unreadLists = unreadSubscriptions(ctx, ["consumers.sqlManagedInstances", "consumers.diskEncryptionSets", "consumers.storageAccounts"]);
  return perConfiguredKey(ctx, metadata, {
    expected: () => expected,
    evaluate: (pair, r) => {
      const resource = pair.keyResource;
      const detail = details.get(pairKey(pair));
      if (!detail) throw new Error(`no forecast for key ${resource.name}`);
      const { forecast, consumersUnknown } = detail;
      const observed = forecastEvidence(forecast);
      const failures: string[] = [];
      const expiring = forecast.consumersExpiringBeforeNextRotation;
      if (expiring.length > 0) {
        const list = expiring.map((c) => `${c.resourceName} (version ${c.version}, expires ${c.expires})`).join(", ");
        failures.push(`${expiring.length === 1 ? "a consumer is" : `${expiring.length} consumers are`} on a version that expires before the next rotation: ${list}`);
      }
      if (forecast.versionCapReachedOn !== null && daysBetween(ctx.now, new Date(forecast.versionCapReachedOn)) <= horizonDays) {
        const days = daysBetween(ctx.now, new Date(forecast.versionCapReachedOn));
        failures.push(
          days <= 0
            ? `it reached the ${ctx.policy.thresholds.maxKeyVersions}-version cap on ${forecast.versionCapReachedOn} and cannot rotate`
            : `rotating every ${pair.keyPolicy.rotation.rotateAfter.iso} it reaches the ${ctx.policy.thresholds.maxKeyVersions}-version cap on ${forecast.versionCapReachedOn}, in ${roundDays(days)} days (horizon ${horizonDays} days)`,
        );
      }
      if (failures.length > 0) {
        return r.fail({ resource, message: `Key ${resource.name}: ${failures.join("; and ")}.`, observed, expected });
      }
      const unknown = unknownParts(ctx, pair, forecast, consumersUnknown, unreadLists);
      if (unknown.reasons.length > 0) {
        return r.unknown({ resource, message: `The forecast of key ${resource.name} is incomplete: ${unknown.reasons.join("; ")}.`, observed, expected, errors: unknown.errors });
      }
      const cap = forecast.versionCapReachedOn ?? "";
      return r.pass({
        resource,
        message: `Key ${resource.name} is next due on ${forecast.nextRotationDue ?? ""}, no consumer's version expires before then, and it reaches the version cap on ${cap}, beyond the ${horizonDays}-day horizon.`,
        observed,
        expected,
      });
    },
  });
}

function pairKey(pair: KeyPair): string {
  return `${pair.policy.resourceId.toLowerCase()}|${pair.keyPolicy.name.toLowerCase()}`;
}

function unknownParts(
  ctx: CheckContext,
  pair: KeyPair,
  forecast: KeyForecast,
  consumersUnknown: KeyForecastDetail["consumersUnknown"],
  unreadLists: ReturnType<typeof unreadSubscriptions>,
): { reasons: string[]; errors: CollectionError[] } {
  const reasons: string[] = [];
  const errors: CollectionError[] = [];
  if (forecast.versionCount === null) {
    reasons.push("its versions could not be listed, so when it reaches the version cap is unknown");
    errors.push(...errorsFor(ctx, "key.versions", pair.keyAbout));
  }
  if (forecast.nextRotationDue === null) {
    reasons.push("its current version did not report when it was created, so its next rotation is unknown");
    errors.push(...errorsFor(ctx, "key", pair.keyAbout));
  }
  if (consumersUnknown.length > 0) {
    reasons.push(`the expiry of the version used by ${consumersUnknown.map((c) => `${c.resourceName} (${c.version ?? "no version reported"})`).join(", ")} could not be read`);
    errors.push(...errorsFor(ctx, "key.versions", pair.keyAbout));
  }
  for (const { subscriptionId, errors: listErrors } of unreadLists) {
    reasons.push(`the consumers of subscription ${subscriptionId} could not all be listed`);
    errors.push(...listErrors);
  }
  return { reasons, errors: [...new Set(errors)] };
}

function forecastEvidence(f: KeyForecast): EvidenceValue {
  return {
    currentVersion: f.currentVersion,
    nextRotationDue: f.nextRotationDue,
    versionCount: f.versionCount,
    versionCapReachedOn: f.versionCapReachedOn,
    consumersExpiringBeforeNextRotation: f.consumersExpiringBeforeNextRotation.map((c) => ({ resourceId: c.resourceId, resourceName: c.resourceName, version: c.version, expires: c.expires })),
  };
}
