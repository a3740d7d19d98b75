import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "sql_managed_instance_identity",
  area: "sql",
  title: "SQL Managed Instance has a managed identity to reach its TDE key",
  severity: "high",
  risk: "Without a managed identity the instance cannot wrap or unwrap its DEKs in the HSM (AzureKeyVaultNoServerIdentity), and its databases become inaccessible.",
  remediation: {
    summary: "Give the instance a system-assigned identity, or a user-assigned one set as its primary identity, and grant it Managed HSM Crypto Service Encryption User on the key.",
    cli: "az sql mi update --resource-group <resource-group> --name <instance-name> --assign-identity --identity-type SystemAssigned",
    bicep:
      "resource 'Microsoft.Sql/managedInstances': set identity: { type: 'SystemAssigned' }, or identity: { type: 'UserAssigned', userAssignedIdentities: { '<uami-id>': {} } } with properties.primaryUserAssignedIdentityId: '<uami-id>'",
  },
  mappings: {
    pciDss: ["3.7.3"],
    cis: [],
    azurePolicy: [],
  },
};
