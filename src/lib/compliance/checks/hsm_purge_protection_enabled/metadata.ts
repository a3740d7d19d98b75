import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "hsm_purge_protection_enabled",
  area: "hsm",
  title: "Managed HSM has soft delete and purge protection enabled",
  severity: "critical",
  risk: "Without purge protection a deleted HSM or key can be purged at once, destroying every DEK it wraps and the data behind them.",
  remediation: {
    summary: "Enable purge protection (it cannot be turned off again) and keep soft delete on.",
    cli: "az keyvault update-hsm --hsm-name <hsm-name> --resource-group <resource-group> --enable-purge-protection true",
    bicep: "resource hsm 'Microsoft.KeyVault/managedHSMs@2025-05-01': set properties.enableSoftDelete: true and properties.enablePurgeProtection: true",
  },
  mappings: {
    pciDss: ["3.7.3", "3.7.5"],
    cis: ["2.0.0 8.5", "3.0.0 3.3.5", "4.0.0 9.3.5"],
    azurePolicy: ["c39ba22d-4428-4149-b981-70acb31fc383"],
  },
};
