import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "sql_tde_protector_on_hsm_key",
  area: "sql",
  title: "SQL Managed Instance TDE protector is the configured Managed HSM key",
  severity: "high",
  risk: "A service-managed or substituted TDE protector means the databases are not protected by the key the organisation controls, rotates and can revoke.",
  remediation: {
    summary: "Add the configured HSM key to the instance and make it the TDE protector (server key type AzureKeyVault).",
    cli: "az sql mi tde-key set --resource-group <resource-group> --mi <instance-name> --server-key-type AzureKeyVault --kid https://<hsm-name>.managedhsm.azure.net/keys/<key-name>/<key-version> --auto-rotation-enabled true",
    bicep:
      "resource 'Microsoft.Sql/managedInstances/keys' named '<hsm-name>_<key-name>_<key-version>' with serverKeyType: 'AzureKeyVault' and uri: the HSM key URL; resource 'Microsoft.Sql/managedInstances/encryptionProtector' named 'current' with serverKeyType: 'AzureKeyVault', serverKeyName: that key's name",
  },
  mappings: {
    pciDss: ["3.5.1.1", "3.6.1", "3.7.7"],
    cis: ["2.0.0 4.1.3", "3.0.0 5.1.3"],
    azurePolicy: ["ac01ad65-10e5-46df-bdd9-6b0cad13e1d2"],
  },
};
