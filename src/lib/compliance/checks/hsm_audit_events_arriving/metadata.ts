import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "hsm_audit_events_arriving",
  area: "hsm",
  title: "Managed HSM audit events actually arrive in the Log Analytics workspace its diagnostic setting names",
  severity: "high",
  risk: "A diagnostic setting alone proves nothing: if the HSM's AuditEvent rows stop arriving (a deleted or moved workspace, a broken setting, a lost role), key use, key deletion and role changes go unrecorded while every configuration check still passes.",
  remediation: {
    summary:
      "Find why the workspace receives no recent AuditEvent rows for the HSM: check that the diagnostic setting still exists and is enabled, that its workspace still exists and accepts data (daily cap, retention), and re-create the setting if needed; then confirm with a query for the newest row.",
    cli: "az monitor log-analytics query --workspace <workspace-customer-id> --analytics-query \"AzureDiagnostics | where ResourceId =~ '<hsm-resource-id>' and Category == 'AuditEvent' | summarize max(TimeGenerated)\" && az monitor diagnostic-settings show --name <setting-name> --resource <hsm-resource-id>",
    bicep:
      "resource diag 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = { name: '<setting-name>', scope: hsm, properties: { workspaceId: <workspace>.id, logs: [{ category: 'AuditEvent', enabled: true }] } }",
  },
  mappings: {
    pciDss: ["10.2.1", "10.2.1.6", "10.5.1", "10.7.2"],
    cis: ["2.0.0 5.1.5", "3.0.0 6.1.4", "4.0.0 7.1.1.4"],
    azurePolicy: [],
  },
};
