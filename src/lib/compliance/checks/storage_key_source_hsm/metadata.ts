import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "storage_key_source_hsm",
  area: "storage",
  title: "Storage account is encrypted with the configured Managed HSM key",
  severity: "high",
  risk: "A storage account on Microsoft-managed keys or on another key is not protected by the key the organisation controls, rotates and can revoke.",
  remediation: {
    summary: "Set the account's key source to Microsoft.Keyvault on the configured HSM key, versionless so it follows rotations.",
    cli: 'az storage account update --resource-group <resource-group> --name <account-name> --encryption-key-source Microsoft.Keyvault --encryption-key-vault https://<hsm-name>.managedhsm.azure.net --encryption-key-name <key-name> --encryption-key-version ""',
    bicep:
      "resource 'Microsoft.Storage/storageAccounts': set properties.encryption.keySource: 'Microsoft.Keyvault' and encryption.keyvaultproperties: { keyvaulturi: 'https://<hsm-name>.managedhsm.azure.net', keyname: '<key-name>' } (no keyversion)",
  },
  mappings: {
    pciDss: ["3.5.1.1", "3.6.1", "3.7.7"],
    cis: ["2.0.0 3.12", "3.0.0 4.11"],
    azurePolicy: ["6fac406b-40ca-413b-bf8e-0bf964659c25"],
  },
};
