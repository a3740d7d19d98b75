import type { ConfigIssue } from "./errors.js";
import { describeDuration } from "./durations.js";
import type { PolicyDocument } from "./types.js";

/**
 * Advice about a valid policy: settings Azure accepts and that do not contradict each other, but that
 * will probably hurt. Reported (CLI: on stderr; functions: logged once at start), never fatal.
 */
export function policyWarnings(policy: PolicyDocument): ConfigIssue[] {
  const warnings: ConfigIssue[] = [];
  const catchUpDays = policy.thresholds.storageCatchUpHours / 24;
  for (const [hsmIndex, hsm] of policy.managedHsms.entries()) {
    if (hsm.keys.length === 0) {
      warnings.push({ path: `managedHsms[${hsmIndex}].keys`, message: `no keys are listed for ${hsm.name}: none will be checked or rotated` });
    }
    for (const [keyIndex, key] of hsm.keys.entries()) {
      const path = `managedHsms[${hsmIndex}].keys[${keyIndex}].rotation`;
      const { rotateAfter, expireAfter, notifyBefore } = key.rotation;
      const overlap = expireAfter.days - rotateAfter.days;
      if (overlap > 0 && overlap < catchUpDays) {
        warnings.push({
          path: `${path}.expireAfter`,
          message:
            `${describeDuration(expireAfter)} leaves less than ${policy.thresholds.storageCatchUpHours} hours after rotateAfter ${describeDuration(rotateAfter)}: ` +
            `storage accounts may still use the old version when it expires`,
        });
      }
      if (notifyBefore.days >= overlap && overlap > 0) {
        warnings.push({
          path: `${path}.notifyBefore`,
          message:
            `${describeDuration(notifyBefore)} reaches back to before the rotation (rotateAfter ${describeDuration(rotateAfter)}, expireAfter ${describeDuration(expireAfter)}): ` +
            `every version raises a near-expiry alert while it is still the current version`,
        });
      }
    }
  }
  return warnings;
}
