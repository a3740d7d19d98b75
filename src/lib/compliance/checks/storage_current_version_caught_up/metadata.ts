import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "storage_current_version_caught_up",
  area: "storage",
  title: "Storage account has caught up with the latest key version",
  severity: "medium",
  risk: "An account still wrapping with an old version after the daily catch-up window is not following rotation, and disabling or expiring that version would cut it off (403 on every data operation).",
  remediation: {
    summary: "Find why the account has not picked up the new version (pinned version, identity lost its role on the key) and re-apply the versionless key; keep the old version enabled until it has.",
    cli: 'az storage account update --resource-group <resource-group> --name <account-name> --encryption-key-source Microsoft.Keyvault --encryption-key-vault https://<hsm-name>.managedhsm.azure.net --encryption-key-name <key-name> --encryption-key-version ""',
    bicep: "resource 'Microsoft.Storage/storageAccounts': leave properties.encryption.keyvaultproperties.keyversion unset",
  },
  mappings: {
    pciDss: ["3.7.4", "3.7.5"],
    cis: [],
    azurePolicy: [],
  },
};
