import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "keys_not_exportable",
  area: "keys",
  title: "Customer-managed keys are not exportable and have no release policy",
  severity: "high",
  risk: "An exportable key with a release policy can leave the HSM (a Crypto Officer holds export rights), so the CMK would no longer be confined to the HSM boundary.",
  remediation: {
    summary: "Exportability is fixed at creation: create a new non-exportable version or key without a release policy and move the consumers to it.",
    cli: "az keyvault key create --hsm-name <hsm-name> --name <key-name> --kty RSA-HSM --size <key-size> --ops wrapKey unwrapKey --exportable false",
    bicep: "resource key 'Microsoft.KeyVault/managedHSMs/keys@2025-05-01': set properties.attributes.exportable: false and omit properties.release_policy",
  },
  mappings: {
    pciDss: ["3.6.1.2", "3.6.1.3", "3.6.1.4"],
    cis: [],
    azurePolicy: [],
  },
};
