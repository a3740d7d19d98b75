import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "keys_referenced_versions_usable",
  area: "keys",
  title: "Every key version a consumer uses is enabled, active and unexpired",
  severity: "critical",
  risk: "A disabled, expired or not-yet-active version that SQL MI, a disk encryption set or a storage account still uses takes that consumer down (inaccessible databases, stopped VMs, 403s).",
  remediation: {
    summary: "Re-enable (or extend the expiry of) the referenced version at once, then move the consumer to the current version before retiring the old one.",
    cli: "az keyvault key set-attributes --hsm-name <hsm-name> --name <key-name> --version <key-version> --enabled true --expires <yyyy-mm-ddThh:mm:ssZ>",
    bicep: "Point the consumer at the current version (SQL MI encryptionProtector with autoRotationEnabled, DES activeKey with rotationToLatestKeyVersionEnabled, storage keyvaultproperties without keyversion) before disabling old versions",
  },
  mappings: {
    pciDss: ["3.7.5", "10.7.2"],
    cis: [],
    azurePolicy: [],
  },
};
