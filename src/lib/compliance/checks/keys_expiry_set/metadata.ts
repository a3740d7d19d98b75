import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "keys_expiry_set",
  area: "keys",
  title: "The current version of each customer-managed key has an expiry date",
  severity: "medium",
  risk: "A version without an expiry has no enforced end of cryptoperiod, so nothing forces its rotation and retirement.",
  remediation: {
    summary: "Set an expiry on the current version and a rotation policy expiresIn so that every new version gets one.",
    cli: "az keyvault key set-attributes --hsm-name <hsm-name> --name <key-name> --expires <yyyy-mm-ddThh:mm:ssZ>",
    bicep: "resource key 'Microsoft.KeyVault/managedHSMs/keys@2025-05-01': set properties.rotationPolicy.attributes.expiryTime: '<P1Y>' (and properties.attributes.exp for the current version)",
  },
  mappings: {
    pciDss: ["3.6.1.1", "3.7.4"],
    cis: ["2.0.0 8.1", "3.0.0 3.3.1"],
    azurePolicy: ["1d478a74-21ba-4b9f-9d8f-8e6fced0eec5"],
  },
};
