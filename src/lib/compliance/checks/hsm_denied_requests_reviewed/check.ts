import type { DeniedRequestGroup } from "../../../estate/snapshot.js";
import { hsmPairs, type HsmPair } from "../../query.js";
import { armName } from "../../query/hsm.js";
import { signalPartUnknown, signalsOrUnknown } from "../../query/signals.js";
import { resultsFor } from "../../result.js";
import type { CheckContext, ControlResult, EvidenceValue } from "../../types.js";
import { metadata } from "./metadata.js";

/**
 * A 401 with no caller identity is an unauthenticated request: every Key Vault SDK client's first request is one (it
 * draws the bearer challenge), so those are counted, not reported. Every 403, and every 401 that names a caller, is.
 */
const namesCaller = (g: DeniedRequestGroup): boolean => g.statusCode === 403 || g.objectId !== undefined || g.appId !== undefined || g.upn !== undefined;

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const hours = ctx.policy.thresholds.signalsWindowHours;
  const expected = { deniedRequestsFromIdentifiedCallers: 0, window: `${hours} hours` };
  return hsmPairs(ctx).map((pair) => {
    const { resource } = pair;
    const signals = signalsOrUnknown(ctx, r, pair, expected, true);
    if (!("workspace" in signals)) return signals;
    if (signals.workspace === "none") {
      return r.unknown({
        resource,
        message: `No diagnostic setting of ${resource.name} sends AuditEvent to a Log Analytics workspace, so its denied requests cannot be read (hsm_audit_logging_enabled reports the setting).`,
        observed: { workspace: null },
        expected,
        errors: [],
      });
    }
    const denied = signals.deniedRequests;
    if (denied === null) return signalPartUnknown(ctx, r, pair, "managedHsm.deniedRequests", "denied requests (audit events)", expected);
    const identified = denied.groups.filter(namesCaller);
    const anonymous = denied.groups.filter((g) => !namesCaller(g)).reduce((n, g) => n + g.count, 0);
    const observed: EvidenceValue = {
      workspace: signals.workspace!.id,
      windowHours: denied.windowHours,
      denied: identified.map((g) => groupEvidence(pair, g)),
      unauthenticatedRequests: anonymous,
      truncated: denied.truncated,
    };
    if (identified.length === 0) {
      const note = anonymous > 0 ? ` (${anonymous} unauthenticated request${anonymous === 1 ? "" : "s"} answered 401, as every SDK client's first bearer challenge is)` : "";
      return r.pass({ resource, message: `${resource.name} refused no identified caller in the last ${hours} hours (workspace ${armName(signals.workspace!.id)})${note}.`, observed, expected });
    }
    const total = identified.reduce((n, g) => n + g.count, 0);
    const callers = identified.map((g) => `${callerName(pair, g)}: ${g.count}× ${g.statusCode} on ${g.operation}${g.callerIpAddress ? ` from ${g.callerIpAddress}` : ""}`);
    const more = denied.truncated ? " (and more groups than were read)" : "";
    return r.fail({ resource, message: `${resource.name} refused ${total} request${total === 1 ? "" : "s"} in the last ${hours} hours: ${callers.join("; ")}${more}.`, observed, expected });
  });
}

/** The caller as a person reads it: the policy's display name when it knows the principal, and the ids the log gives. */
function callerName(pair: HsmPair, g: DeniedRequestGroup): string {
  const ids = [g.objectId && `object id ${g.objectId}`, g.appId && `app id ${g.appId}`, g.upn].filter((x): x is string => Boolean(x));
  const known = g.objectId ? principalNames(pair).get(g.objectId.toLowerCase()) : undefined;
  const who = ids.length > 0 ? ids.join(", ") : "an unauthenticated caller";
  return known ? `${known} (${who})` : who;
}

const namesCache = new WeakMap<HsmPair["policy"], Map<string, string>>();

function principalNames(pair: HsmPair): Map<string, string> {
  let names = namesCache.get(pair.policy);
  if (!names) {
    names = new Map();
    for (const p of [...pair.policy.keyManagementPrincipals, ...pair.policy.administratorPrincipals, ...pair.policy.otherExpectedPrincipals]) {
      if (p.displayName) names.set(p.principalId.toLowerCase(), p.displayName);
    }
    namesCache.set(pair.policy, names);
  }
  return names;
}

function groupEvidence(pair: HsmPair, g: DeniedRequestGroup): EvidenceValue {
  return {
    caller: callerName(pair, g),
    objectId: g.objectId ?? null,
    appId: g.appId ?? null,
    upn: g.upn ?? null,
    callerIpAddress: g.callerIpAddress ?? null,
    operation: g.operation,
    statusCode: g.statusCode,
    count: g.count,
    lastSeen: g.lastSeen,
  };
}
