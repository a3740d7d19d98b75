import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "keys_expected_consumers_bound",
  area: "keys",
  title: "Every consumer the policy names still uses its customer-managed key",
  severity: "high",
  risk: "A consumer switched to another key or back to platform-managed keys no longer depends on the HSM: its data has left the organisation's key custody without any key being touched.",
  remediation: {
    summary: "Point the consumer back at its key in the HSM (or, if the change was intended, remove it from the key's expectedConsumers).",
    cli: [
      "az storage account update --name <account> --resource-group <resource-group> --encryption-key-source Microsoft.Keyvault --encryption-key-vault https://<hsm-name>.managedhsm.azure.net --encryption-key-name <key-name>",
      "az sql mi tde-key set --resource-group <resource-group> --managed-instance <instance> --server-key-type AzureKeyVault --kid https://<hsm-name>.managedhsm.azure.net/keys/<key-name>/<version>",
      "az disk-encryption-set update --name <des> --resource-group <resource-group> --key-url https://<hsm-name>.managedhsm.azure.net/keys/<key-name>/<version>",
    ].join("\n"),
    bicep:
      "Storage: properties.encryption.keySource 'Microsoft.Keyvault' with keyvaultproperties.keyvaulturi/keyname; SQL MI: the encryptionProtector child with serverKeyType 'AzureKeyVault'; DES: properties.activeKey.keyUrl.",
  },
  mappings: {
    pciDss: ["3.6.1", "3.7.7"],
    cis: ["2.0.0 3.12", "3.0.0 4.11", "4.0.0 2.1.1.2.1", "2.0.0 4.1.3", "3.0.0 5.1.3", "2.0.0 7.3", "3.0.0 8.3"],
    azurePolicy: ["6fac406b-40ca-413b-bf8e-0bf964659c25", "ac01ad65-10e5-46df-bdd9-6b0cad13e1d2", "702dd420-7fcc-42c5-afe8-4026edd20fe0"],
  },
};
