import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "keys_configured_key_exists",
  area: "keys",
  title: "Every configured customer-managed key exists in the Managed HSM and is enabled",
  severity: "critical",
  risk: "A missing or disabled CMK cannot wrap or unwrap DEKs: SQL MI databases go inaccessible, CMK disks stop and storage returns 403.",
  remediation: {
    summary: "Recover the key if it was soft-deleted, or create it, and enable its current version.",
    cli: "az keyvault key recover --hsm-name <hsm-name> --name <key-name>  # or: az keyvault key set-attributes --hsm-name <hsm-name> --name <key-name> --enabled true",
    bicep: "resource key 'Microsoft.KeyVault/managedHSMs/keys@2025-05-01': declare the key under the HSM with properties.attributes.enabled: true",
  },
  mappings: {
    pciDss: ["3.6.1.1", "3.7.3"],
    cis: [],
    azurePolicy: [],
  },
};
