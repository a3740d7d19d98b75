import { hsmPartUnknown } from "../../query/hsm.js";
import { hsmPairs } from "../../query.js";
import { resultsFor } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

/** The HSM account setting (settings.json 2025-07-01). */
export const ARM_KEY_MANAGEMENT_SETTING = "AllowKeyManagementOperationsThroughARM";

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  return hsmPairs(ctx).map((pair) => {
    const { resource, hsm, policy } = pair;
    const allowed = policy.allowKeyManagementThroughArm;
    const expected = { [ARM_KEY_MANAGEMENT_SETTING]: allowed ? "true or false (the policy allows ARM key management)" : "false" };
    if (hsm.settings === null) return hsmPartUnknown(ctx, r, pair, "managedHsm.settings", "account settings", expected);
    if (hsm.settings === undefined) {
      return r.unknown({ resource, message: `The account settings of ${resource.name} were not collected (a snapshot from before they were read).`, expected, errors: [] });
    }
    const setting = hsm.settings.find((s) => s.name.toLowerCase() === ARM_KEY_MANAGEMENT_SETTING.toLowerCase());
    // Azure's default is false; an HSM that does not list the setting has not turned it on.
    const value = setting?.value ?? null;
    const on = value !== null && value.toLowerCase() === "true";
    const observed = { [ARM_KEY_MANAGEMENT_SETTING]: value };
    if (!on) return r.pass({ resource, message: `${resource.name} does not let principals with ARM roles manage its keys (${ARM_KEY_MANAGEMENT_SETTING} is ${value ?? "not set"}).`, observed, expected });
    return allowed
      ? r.pass({ resource, message: `${resource.name} lets principals with ARM roles manage its keys, as the policy allows (allowKeyManagementThroughArm).`, observed, expected })
      : r.fail({
          resource,
          message: `${resource.name} has ${ARM_KEY_MANAGEMENT_SETTING} on: principals with ARM roles on the HSM can manage its keys outside its local RBAC. Turn it off, or allow it in the policy.`,
          observed,
          expected,
        });
  });
}
