import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "disks_encryption_type_allowed",
  area: "disks",
  title: "Disk encryption set uses an allowed encryption type",
  severity: "medium",
  risk: "A DES of a type the policy does not allow (for example customer key only where double encryption is required) leaves its disks outside the documented encryption architecture.",
  remediation: {
    summary: "Create a DES of an allowed encryption type bound to the configured disk key and move the disks to it (a DES's encryption type is set at creation).",
    cli: "az disk-encryption-set create --resource-group <resource-group> --name <des-name> --location <region> --key-url https://<hsm-name>.managedhsm.azure.net/keys/<key-name>/<key-version> --encryption-type <allowed-encryption-type> --mi-system-assigned --enable-auto-key-rotation true",
    bicep: "resource 'Microsoft.Compute/diskEncryptionSets': set properties.encryptionType to one of thresholds.allowedDiskEncryptionTypes",
  },
  mappings: {
    pciDss: ["3.6.1.1"],
    cis: [],
    azurePolicy: [],
  },
};
