import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "keys_rotation_policy_configured",
  area: "keys",
  title: "Each customer-managed key has a rotation policy that rotates and expires versions within the configured cryptoperiod",
  severity: "high",
  risk: "Without a fitting Rotate action and expiresIn, versions outlive their cryptoperiod or expire before a new one exists; no Azure Policy built-in checks Managed HSM rotation.",
  remediation: {
    summary: "Set a rotation policy with a Rotate action at or before rotateAfter and an expiresIn no longer than expireAfter (Managed HSM supports Rotate only, no Notify).",
    cli: "az keyvault key rotation-policy update --hsm-name <hsm-name> --name <key-name> --value '{\"lifetimeActions\":[{\"trigger\":{\"timeAfterCreate\":\"<P180D>\"},\"action\":{\"type\":\"Rotate\"}}],\"attributes\":{\"expiryTime\":\"<P1Y>\"}}'",
    bicep: "resource key 'Microsoft.KeyVault/managedHSMs/keys@2025-05-01': set properties.rotationPolicy: { attributes: { expiryTime: '<P1Y>' }, lifetimeActions: [ { action: { type: 'rotate' }, trigger: { timeAfterCreate: '<P180D>' } } ] }",
  },
  mappings: {
    pciDss: ["3.7.4", "3.7.5"],
    cis: ["2.0.0 8.8", "3.0.0 3.3.8", "4.0.0 9.3.9"],
    azurePolicy: [],
  },
};
