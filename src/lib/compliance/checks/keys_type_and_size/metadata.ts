import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "keys_type_and_size",
  area: "keys",
  title: "Customer-managed keys have the configured type and at least the configured key size",
  severity: "high",
  risk: "A key of the wrong type cannot protect SQL, disks or storage, and an RSA key below the required size weakens every DEK it wraps.",
  remediation: {
    summary: "Create a new version (or a new key) of the required type and size, then move the consumers to it; a key's type cannot be changed in place.",
    cli: "az keyvault key create --hsm-name <hsm-name> --name <key-name> --kty RSA-HSM --size <key-size> --ops wrapKey unwrapKey",
    bicep: "resource key 'Microsoft.KeyVault/managedHSMs/keys@2025-05-01': set properties.kty: 'RSA-HSM' and properties.keySize: <key-size>",
  },
  mappings: {
    pciDss: ["3.6.1", "3.7.1"],
    cis: [],
    azurePolicy: ["1fd3b2cc-9904-40fa-b8da-050c02612da9", "86810a98-8e91-4a44-8386-ec66d0de5d57"],
  },
};
