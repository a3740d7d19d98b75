import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "disks_des_every_region",
  area: "disks",
  title: "A disk encryption set bound to the disk key exists in every required region",
  severity: "high",
  risk: "A DES is regional: without one in the primary or extended (DR) region, disks there cannot be created or failed over with the customer-managed key.",
  remediation: {
    summary: "Create a DES in the missing region bound to the configured disk key, with auto-rotation on, and grant its identity Managed HSM Crypto Service Encryption User on the key.",
    cli: "az disk-encryption-set create --resource-group <resource-group> --name <des-name> --location <region> --key-url https://<hsm-name>.managedhsm.azure.net/keys/<key-name>/<key-version> --encryption-type EncryptionAtRestWithCustomerKey --mi-system-assigned --enable-auto-key-rotation true",
    bicep:
      "one resource 'Microsoft.Compute/diskEncryptionSets' per region (location: '<region>') with identity: { type: 'SystemAssigned' }, properties.activeKey.keyUrl: the versioned HSM key URL, rotationToLatestKeyVersionEnabled: true",
  },
  mappings: {
    pciDss: ["3.7.3", "12.10.1"],
    cis: [],
    azurePolicy: [],
  },
};
