import type { DiagnosticSettingSnapshot } from "./snapshot.js";

/** Whether a diagnostic setting sends AuditEvent (Managed HSM's only log category; the audit and allLogs groups include it). */
export function sendsAuditEvent(setting: DiagnosticSettingSnapshot): boolean {
  return setting.logs.some((log) => {
    if (!log.enabled) return false;
    const category = log.category?.toLowerCase();
    const group = log.categoryGroup?.toLowerCase();
    return category === "auditevent" || group === "audit" || group === "alllogs";
  });
}

/**
 * The Log Analytics workspace the HSM's AuditEvent rows should arrive in: that of the first setting (by name) that sends
 * AuditEvent to a workspace, or undefined when none does.
 */
export function auditWorkspaceOf(settings: readonly DiagnosticSettingSnapshot[]): { id: string; diagnosticSetting: string } | undefined {
  const setting = [...settings].sort((a, b) => a.name.localeCompare(b.name)).find((s) => sendsAuditEvent(s) && Boolean(s.workspaceId?.trim()));
  return setting ? { id: setting.workspaceId!.trim(), diagnosticSetting: setting.name } : undefined;
}
