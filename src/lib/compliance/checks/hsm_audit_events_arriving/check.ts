import { hsmPairs } from "../../query.js";
import { armName } from "../../query/hsm.js";
import { hoursBetween, signalPartUnknown, signalsOrUnknown } from "../../query/signals.js";
import { resultsFor } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const maxAgeHours = ctx.policy.thresholds.auditEventMaxAgeHours;
  const expected = { newestAuditEventAtMost: `${maxAgeHours} hours old`, in: "the Log Analytics workspace the HSM's diagnostic setting sends AuditEvent to" };
  return hsmPairs(ctx).map((pair) => {
    const { resource } = pair;
    const signals = signalsOrUnknown(ctx, r, pair, expected, true);
    if (!("workspace" in signals)) return signals;
    if (signals.workspace === "none") {
      const observed = { workspace: null };
      return r.fail({ resource, message: `No diagnostic setting of ${resource.name} sends AuditEvent to a Log Analytics workspace, so no audit event can arrive in one.`, observed, expected });
    }
    const workspace = signals.workspace!;
    const events = signals.auditEvents;
    if (events === null) return signalPartUnknown(ctx, r, pair, "managedHsm.auditEvents", `audit events (in workspace ${armName(workspace.id)})`, expected);
    const observed = { workspace: workspace.id, diagnosticSetting: workspace.diagnosticSetting, newestEventAt: events.newestEventAt, windowHours: events.windowHours, events: events.count };
    const where = `workspace ${armName(workspace.id)} (diagnostic setting ${workspace.diagnosticSetting})`;
    if (events.newestEventAt === null) {
      return r.fail({ resource, message: `${resource.name} has no AuditEvent in ${where} in the ${events.windowHours} hours before the scan: the setting exists, but its audit events are not arriving.`, observed, expected });
    }
    // Judged at collection: rows that arrived since are not in the snapshot, so evaluating it later must not call them missing.
    const collectedAt = new Date(ctx.snapshot.collectedAt);
    const age = hoursBetween(events.newestEventAt, collectedAt);
    if (Date.parse(events.newestEventAt) < collectedAt.getTime() - maxAgeHours * 3_600_000) {
      return r.fail({ resource, message: `${resource.name}'s newest AuditEvent in ${where} is from ${events.newestEventAt}, ${age} hours before the scan (at most ${maxAgeHours} allowed): its audit events have stopped arriving.`, observed, expected });
    }
    return r.pass({ resource, message: `${resource.name}'s audit events arrive in ${where}: the newest is from ${events.newestEventAt} (${age} hours before the scan, at most ${maxAgeHours} allowed).`, observed, expected });
  });
}
