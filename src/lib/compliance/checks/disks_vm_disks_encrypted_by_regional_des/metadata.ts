import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "disks_vm_disks_encrypted_by_regional_des",
  area: "disks",
  title: "Every VM disk is encrypted through a DES of its own region bound to the disk key",
  severity: "high",
  risk: "A disk on platform keys, on another key, or on a DES outside its region is not protected by the key the organisation controls and rotates.",
  remediation: {
    summary: "Deallocate the VM and set the disk's encryption to customer key through the DES of the disk's region that is bound to the configured disk key.",
    cli: "az disk update --resource-group <resource-group> --name <disk-name> --encryption-type EncryptionAtRestWithCustomerKey --disk-encryption-set <regional-des-resource-id>",
    bicep:
      "resource 'Microsoft.Compute/virtualMachines': set storageProfile.osDisk.managedDisk.diskEncryptionSet.id and each dataDisks[].managedDisk.diskEncryptionSet.id to the DES of the VM's region",
  },
  mappings: {
    pciDss: ["3.5.1.1", "3.7.3"],
    cis: ["2.0.0 7.3", "3.0.0 8.3"],
    azurePolicy: ["702dd420-7fcc-42c5-afe8-4026edd20fe0", "d461a302-a187-421a-89ac-84acdb4edc04"],
  },
};
