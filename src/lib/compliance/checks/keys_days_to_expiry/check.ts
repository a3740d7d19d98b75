import { daysBetween, perConfiguredKey, roundDays } from "../../query/keys.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  const { keyExpiryWarningDays: globalWarningDays, keyExpiryCriticalDays } = ctx.policy.thresholds;
  // A key's own notifyBefore can ask for earlier warning than the estate-wide threshold; the earlier wins.
  const warningDays = (pair: { keyPolicy: { rotation: { notifyBefore: { days: number } } } }) => Math.max(globalWarningDays, pair.keyPolicy.rotation.notifyBefore.days);
  return perConfiguredKey(ctx, metadata, {
    expected: (pair) => ({ daysLeftAbove: warningDays(pair) }),
    evaluate: (pair, r, expected) => {
      const { key, keyResource: resource } = pair;
      const keyExpiryWarningDays = warningDays(pair);
      if (!key.expiresOn) {
        const observed = { expiresOn: null, daysLeft: null };
        return r.pass({ resource, message: `The current version of key ${resource.name} has no expiry date, so it cannot expire (keys_expiry_set reports that).`, observed, expected });
      }
      const daysLeft = daysBetween(ctx.now, new Date(key.expiresOn));
      const observed = { currentVersion: key.currentVersion ?? null, expiresOn: key.expiresOn, daysLeft: roundDays(daysLeft) };
      if (daysLeft > keyExpiryWarningDays) {
        return r.pass({ resource, message: `The current version of key ${resource.name} expires in ${roundDays(daysLeft)} days.`, observed, expected });
      }
      if (daysLeft <= 0) {
        return r.fail({ resource, severity: "critical", message: `The current version of key ${resource.name} expired on ${key.expiresOn}: rotate it now and check that its consumers still have access.`, observed, expected });
      }
      const severity = daysLeft < keyExpiryCriticalDays ? "critical" : "high";
      return r.fail({ resource, severity, message: `The current version of key ${resource.name} expires in ${roundDays(daysLeft)} days (${key.expiresOn}): rotate it before its consumers lose access.`, observed, expected });
    },
  });
}
