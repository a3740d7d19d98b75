import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "keys_current_version_within_cryptoperiod",
  area: "keys",
  title: "The current version of each customer-managed key is younger than its rotation period",
  severity: "high",
  risk: "A version older than rotateAfter means rotation is not happening, and one older than expireAfter is beyond its cryptoperiod (PCI DSS 3.7.4).",
  remediation: {
    summary: "Rotate the key now, then find out why the rotation policy or KeyWarden's rotation did not run.",
    cli: "az keyvault key rotate --hsm-name <hsm-name> --name <key-name>",
    bicep: "resource key 'Microsoft.KeyVault/managedHSMs/keys@2025-05-01': set properties.rotationPolicy.lifetimeActions to rotate at timeAfterCreate '<P180D>'",
  },
  mappings: {
    pciDss: ["3.7.4", "3.7.5"],
    cis: [],
    azurePolicy: [],
  },
};
