import { sendsAuditEvent } from "../../../estate/auditWorkspace.js";
import type { DiagnosticSettingSnapshot } from "../../../estate/snapshot.js";
import { armName, hsmPartUnknown } from "../../query/hsm.js";
import { hsmPairs } from "../../query.js";
import { resultsFor } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

const expected = { logs: ["category AuditEvent", "categoryGroup audit", "categoryGroup allLogs"], enabled: true, destination: "workspaceId (Log Analytics)" };

const toWorkspace = (setting: DiagnosticSettingSnapshot): boolean => Boolean(setting.workspaceId?.trim());

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  return hsmPairs(ctx).map((pair) => {
    const { resource } = pair;
    const settings = pair.hsm.diagnosticSettings;
    if (settings === null) return hsmPartUnknown(ctx, r, pair, "managedHsm.diagnosticSettings", "diagnostic settings", expected);
    const observed = {
      diagnosticSettings: settings.map((s) => ({
        name: s.name,
        auditEventEnabled: sendsAuditEvent(s),
        workspaceId: s.workspaceId ?? null,
        storageAccountId: s.storageAccountId ?? null,
        eventHubAuthorizationRuleId: s.eventHubAuthorizationRuleId ?? null,
      })),
    };
    const good = settings.find((s) => sendsAuditEvent(s) && toWorkspace(s));
    if (good) {
      return r.pass({ resource, message: `${resource.name} sends AuditEvent logs to Log Analytics workspace ${armName(good.workspaceId)} through diagnostic setting ${good.name}.`, observed, expected });
    }
    const detail = settings.length === 0 ? "it has no diagnostic setting at all" : settings.map(shortfall).join("; ");
    return r.fail({ resource, message: `${resource.name} does not send AuditEvent logs to a Log Analytics workspace: ${detail}.`, observed, expected });
  });
}

function shortfall(setting: DiagnosticSettingSnapshot): string {
  if (!sendsAuditEvent(setting)) return `${setting.name} has AuditEvent disabled or absent`;
  const elsewhere = [setting.storageAccountId ? "a storage account" : null, setting.eventHubAuthorizationRuleId ? "an event hub" : null].filter(Boolean);
  return `${setting.name} sends AuditEvent only to ${elsewhere.length > 0 ? elsewhere.join(" and ") : "no destination"}`;
}
