import type { IsoDuration, KeyRotationPolicy } from "../../config/types.js";
import { parseIsoDuration } from "../../config/durations.js";
import type { RotationPolicySnapshot } from "../../estate/snapshot.js";

/** Why an HSM rotation policy does not meet the configured rotation; empty when it does. */
export function rotationPolicyProblems(policy: RotationPolicySnapshot, wanted: KeyRotationPolicy): string[] {
  if (policy.lifetimeActions.length === 0) return ["no rotation policy is set (no lifetime actions)"];
  const problems: string[] = [];
  const expiresIn = duration(policy.expiresIn);
  if (!expiresIn) problems.push("expiresIn is not set, so new versions get no expiry");
  else if (expiresIn.days > wanted.expireAfter.days) problems.push(`expiresIn ${expiresIn.iso} is longer than expireAfter ${wanted.expireAfter.iso}`);

  const rotateDays = policy.lifetimeActions
    .filter((a) => a.action === "Rotate")
    .map((a) => rotationDay(a, expiresIn))
    .filter((d): d is number => d !== undefined && d > 0);
  if (rotateDays.length === 0) {
    problems.push("there is no Rotate action with a usable trigger (timeAfterCreate, or timeBeforeExpiry with expiresIn)");
    return problems;
  }
  const earliest = Math.min(...rotateDays);
  if (earliest > wanted.rotateAfter.days) problems.push(`the earliest rotation is ${earliest} days after creation, later than rotateAfter ${wanted.rotateAfter.iso}`);
  if (expiresIn && earliest >= expiresIn.days) problems.push(`versions expire (${expiresIn.iso}) before they are rotated (${earliest} days)`);
  return problems;
}

/** Days after a version's creation at which the action rotates it. */
function rotationDay(action: RotationPolicySnapshot["lifetimeActions"][number], expiresIn: IsoDuration | undefined): number | undefined {
  const afterCreate = duration(action.timeAfterCreate);
  if (afterCreate) return afterCreate.days;
  const beforeExpiry = duration(action.timeBeforeExpiry);
  return beforeExpiry && expiresIn ? expiresIn.days - beforeExpiry.days : undefined;
}

/** A duration as the HSM reports it; one that does not parse counts as not set (and so cannot pass). */
function duration(text: string | undefined): IsoDuration | undefined {
  if (!text) return undefined;
  try {
    return parseIsoDuration(text);
  } catch {
    return undefined;
  }
}
