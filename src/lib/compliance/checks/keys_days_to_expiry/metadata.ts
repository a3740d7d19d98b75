import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "keys_days_to_expiry",
  area: "keys",
  title: "The current version of each customer-managed key is not close to expiry",
  severity: "high",
  risk: "When the current version expires, SQL MI databases go inaccessible, CMK disks stop and storage returns 403; Managed HSM sends no near-expiry event.",
  remediation: {
    summary: "Rotate the key now (and let consumers pick up the new version), or extend the current version's expiry while the rotation is fixed.",
    cli: "az keyvault key rotate --hsm-name <hsm-name> --name <key-name>",
    bicep: "resource key 'Microsoft.KeyVault/managedHSMs/keys@2025-05-01': give properties.rotationPolicy a Rotate lifetime action that fires well before attributes.expiryTime",
  },
  mappings: {
    pciDss: ["3.7.4", "3.7.5"],
    cis: [],
    azurePolicy: ["ad27588c-0198-4c84-81ef-08efd0274653"],
  },
};
