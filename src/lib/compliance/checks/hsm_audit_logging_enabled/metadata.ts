import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "hsm_audit_logging_enabled",
  area: "hsm",
  title: "Managed HSM sends its AuditEvent logs to a Log Analytics workspace",
  severity: "high",
  risk: "Without AuditEvent logs in a workspace, key use, key deletion and role-assignment changes on the HSM leave no searchable trail, so misuse or an outage-causing change cannot be detected or investigated.",
  remediation: {
    summary:
      "Add a diagnostic setting on the HSM that sends the AuditEvent category (or the audit / allLogs category group), enabled, to the security Log Analytics workspace.",
    cli: "az monitor diagnostic-settings create --name <setting-name> --resource <hsm-resource-id> --workspace <log-analytics-workspace-resource-id> --logs '[{\"category\":\"AuditEvent\",\"enabled\":true}]'",
    bicep:
      "resource diag 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = { name: '<setting-name>', scope: hsm, properties: { workspaceId: <workspace>.id, logs: [{ category: 'AuditEvent', enabled: true }] } }",
  },
  mappings: {
    pciDss: ["10.2.1", "10.2.1.2", "10.2.1.5", "10.2.1.7", "10.4.1"],
    cis: ["2.0.0 5.1.5", "3.0.0 6.1.4", "4.0.0 7.1.1.4"],
    azurePolicy: ["a2a5b911-5617-447e-a49e-59dbe0e0434b", "b88bfd90-4da5-43eb-936f-ae1481924291"],
  },
};
