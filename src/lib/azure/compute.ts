import type { ComputeManagementClient } from "@azure/arm-compute";
import type { DiskEncryptionSetConsumer, DiskSnapshot, VirtualMachineSnapshot } from "../estate/snapshot.js";
import { parseKeyReference } from "../estate/keyReference.js";
import { requireResourceId } from "../estate/resourceId.js";
import type { DiskEncryptionSet } from "@azure/arm-compute";
import { call, collectPages } from "./errors.js";
import { writeOptions, type WriteOptions } from "./writeOptions.js";
import { mapIdentity } from "./identity.js";
import { siteRecoveryProtected } from "./siteRecovery.js";
import { defined } from "./managedHsms.js";

/** Disk encryption sets, disks and VMs through @azure/arm-compute; listed per subscription. */
export class ComputeArm {
  constructor(private readonly client: (subscriptionId: string) => ComputeManagementClient) {}

  listDiskEncryptionSets(subscriptionId: string): Promise<DiskEncryptionSetConsumer[]> {
    return collectPages("diskEncryptionSets.list", `/subscriptions/${subscriptionId}`, this.client(subscriptionId).diskEncryptionSets.list(), mapDiskEncryptionSet);
  }

  async getDiskEncryptionSet(desId: string): Promise<DiskEncryptionSetConsumer> {
    const { subscriptionId, resourceGroup, name } = requireResourceId(desId, "disk encryption set id");
    return mapDiskEncryptionSet(await call("diskEncryptionSets.get", desId, () => this.client(subscriptionId).diskEncryptionSets.get(resourceGroup, name)));
  }

  /**
   * Moves a DES to a key version (long-running PATCH of activeKey.keyUrl). The DES schema has no ETag, so there
   * is no If-Match to send; the executor re-reads the DES just before this call instead.
   */
  async setActiveKey(desId: string, keyUrl: string, options: WriteOptions): Promise<void> {
    const { subscriptionId, resourceGroup, name } = requireResourceId(desId, "disk encryption set id");
    await call("diskEncryptionSets.update", desId, () => this.client(subscriptionId).diskEncryptionSets.update(resourceGroup, name, { activeKey: { keyUrl } }, writeOptions(options)).pollUntilDone());
  }

  listDisks(subscriptionId: string): Promise<DiskSnapshot[]> {
    return collectPages("disks.list", `/subscriptions/${subscriptionId}`, this.client(subscriptionId).disks.list(), (d) => {
      const id = requireResourceId(d.id ?? "", "disk id");
      return defined({
        resourceId: d.id ?? "",
        name: d.name ?? id.name,
        subscriptionId: id.subscriptionId,
        resourceGroup: id.resourceGroup,
        location: d.location,
        managedBy: d.managedBy,
        encryptionType: d.encryption?.type,
        diskEncryptionSetId: d.encryption?.diskEncryptionSetId,
      });
    });
  }

  listVirtualMachines(subscriptionId: string): Promise<VirtualMachineSnapshot[]> {
    return collectPages("virtualMachines.listAll", `/subscriptions/${subscriptionId}`, this.client(subscriptionId).virtualMachines.listAll(), (vm) => {
      const id = requireResourceId(vm.id ?? "", "virtual machine id");
      const storage = vm.storageProfile;
      const disks: VirtualMachineSnapshot["disks"] = [];
      if (storage?.osDisk) {
        disks.push(defined({ role: "os" as const, diskId: storage.osDisk.managedDisk?.id, name: storage.osDisk.name, diskEncryptionSetId: storage.osDisk.managedDisk?.diskEncryptionSet?.id }));
      }
      for (const d of storage?.dataDisks ?? []) {
        disks.push(defined({ role: "data" as const, lun: d.lun, diskId: d.managedDisk?.id, name: d.name, diskEncryptionSetId: d.managedDisk?.diskEncryptionSet?.id }));
      }
      const siteRecovery = siteRecoveryProtected(vm.resources);
      return {
        resourceId: vm.id ?? "",
        name: vm.name ?? id.name,
        subscriptionId: id.subscriptionId,
        resourceGroup: id.resourceGroup,
        location: vm.location,
        disks,
        ...(siteRecovery === undefined ? {} : { siteRecoveryProtected: siteRecovery }),
      };
    });
  }
}

function mapDiskEncryptionSet(des: DiskEncryptionSet): DiskEncryptionSetConsumer {
  const id = requireResourceId(des.id ?? "", "disk encryption set id");
  const error = des.autoKeyRotationError;
  return defined({
    kind: "diskEncryptionSet" as const,
    resourceId: des.id ?? "",
    name: des.name ?? id.name,
    subscriptionId: id.subscriptionId,
    resourceGroup: id.resourceGroup,
    location: des.location,
    identity: mapIdentity(des.identity),
    encryptionType: des.encryptionType,
    activeKeyUrl: des.activeKey?.keyUrl,
    keyReference: parseKeyReference(des.activeKey?.keyUrl),
    previousKeyUrls: (des.previousKeys ?? []).map((k) => k.keyUrl),
    rotationToLatestKeyVersionEnabled: des.rotationToLatestKeyVersionEnabled,
    lastKeyRotationTimestamp: des.lastKeyRotationTimestamp?.toISOString(),
    autoKeyRotationError: error ? defined({ code: error.code, message: error.message }) : undefined,
    provisioningState: des.provisioningState,
  });
}
