import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "hsm_soft_delete_retention",
  area: "hsm",
  title: "Managed HSM keeps deleted keys recoverable for at least the policy's retention period",
  severity: "medium",
  risk: "A short soft-delete retention shrinks the window in which an accidentally or maliciously deleted HSM or CMK can be recovered before it is purged for good, taking every DEK it wraps with it.",
  remediation: {
    summary:
      "Keep soft delete on and set softDeleteRetentionInDays to at least the policy's minimum (7 to 90 days). ARM may refuse to change it on an existing HSM (it does for vaults); then it can only be set when the HSM is created.",
    cli: "az keyvault update-hsm --hsm-name <hsm-name> --resource-group <resource-group> --set properties.softDeleteRetentionInDays=<days>",
    bicep: "resource hsm 'Microsoft.KeyVault/managedHSMs@2025-05-01': set properties.enableSoftDelete: true and properties.softDeleteRetentionInDays: <days> (at least the policy minimum)",
  },
  mappings: {
    pciDss: ["3.7.3", "3.7.5"],
    cis: ["2.0.0 8.5", "3.0.0 3.3.5", "4.0.0 9.3.5"],
    azurePolicy: [],
  },
};
