import { hsmPartUnknown, isAzureValue } from "../../query/hsm.js";
import { hsmPairs } from "../../query.js";
import { resultsFor } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

const expected = { securityDomainActivationStatus: "Active" };

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  return hsmPairs(ctx).map((pair) => {
    const { resource } = pair;
    const p = pair.hsm.properties;
    if (p === null) return hsmPartUnknown(ctx, r, pair, "managedHsm", "properties", expected);
    const status = p.securityDomainActivationStatus ?? null;
    const observed = { securityDomainActivationStatus: status };
    if (isAzureValue(status, "Active")) {
      return r.pass({ resource, message: `${resource.name} has an active security domain.`, observed, expected });
    }
    // "Unknown" is Azure's own answer, not a finding: the service could not tell, so neither can we.
    if (isAzureValue(status, "Unknown")) {
      return r.unknown({ resource, message: `Azure reports the security domain activation status of ${resource.name} as Unknown; re-read it with az keyvault show --hsm-name before trusting this HSM for recovery.`, observed, expected, errors: [] });
    }
    return r.fail({ resource, message: `${resource.name}'s security domain activation status is ${status ?? "not reported"}, not Active: until it is activated the HSM serves no keys and has no security-domain backup.`, observed, expected });
  });
}
