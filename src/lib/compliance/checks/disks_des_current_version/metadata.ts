import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "disks_des_current_version",
  area: "disks",
  title: "Disk encryption set follows the latest key version",
  severity: "medium",
  risk: "A DES pinned to an old version, or whose auto-rotation is in error, keeps every disk behind it on a key past its cryptoperiod, and the VMs stop when that version expires or is disabled.",
  remediation: {
    summary: "Turn on automatic rotation to the latest key version (disks follow within an hour) and clear any autoKeyRotationError, or set the DES to the latest version.",
    cli: "az disk-encryption-set update --resource-group <resource-group> --name <des-name> --key-url https://<hsm-name>.managedhsm.azure.net/keys/<key-name>/<latest-version> --enable-auto-key-rotation true",
    bicep: "resource 'Microsoft.Compute/diskEncryptionSets': set properties.rotationToLatestKeyVersionEnabled: true (activeKey.keyUrl stays versioned)",
  },
  mappings: {
    pciDss: ["3.7.4", "3.7.5"],
    cis: [],
    azurePolicy: [],
  },
};
