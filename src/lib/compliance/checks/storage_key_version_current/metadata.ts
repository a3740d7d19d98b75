import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "storage_key_version_current",
  area: "storage",
  title: "Storage account key is versionless or pinned to the latest version",
  severity: "medium",
  risk: "An account pinned to an old key version never follows rotation, stays on a key past its cryptoperiod, and returns 403 once that version expires or is disabled.",
  remediation: {
    summary: "Clear the key version so the account uses the latest version automatically (it checks daily).",
    cli: 'az storage account update --resource-group <resource-group> --name <account-name> --encryption-key-source Microsoft.Keyvault --encryption-key-vault https://<hsm-name>.managedhsm.azure.net --encryption-key-name <key-name> --encryption-key-version ""',
    bicep: "resource 'Microsoft.Storage/storageAccounts': remove properties.encryption.keyvaultproperties.keyversion",
  },
  mappings: {
    pciDss: ["3.7.4", "3.7.5"],
    cis: [],
    azurePolicy: [],
  },
};
