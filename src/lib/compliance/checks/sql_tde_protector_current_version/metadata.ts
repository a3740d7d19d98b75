import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "sql_tde_protector_current_version",
  area: "sql",
  title: "SQL Managed Instance TDE protector follows the latest key version",
  severity: "medium",
  risk: "A protector pinned to an old version without auto-rotation keeps the databases on a key past its cryptoperiod, and they go inaccessible when that version expires or is disabled.",
  remediation: {
    summary: "Turn on TDE protector auto-rotation (the instance picks up a new version within an hour), or set the protector to the latest version.",
    cli: "az sql mi tde-key set --resource-group <resource-group> --mi <instance-name> --server-key-type AzureKeyVault --kid https://<hsm-name>.managedhsm.azure.net/keys/<key-name>/<latest-version> --auto-rotation-enabled true",
    bicep: "resource 'Microsoft.Sql/managedInstances/encryptionProtector' named 'current': set autoRotationEnabled: true",
  },
  mappings: {
    pciDss: ["3.7.4", "3.7.5"],
    cis: [],
    azurePolicy: [],
  },
};
