import type { DiskEncryptionSetConsumer, DiskSnapshot, VirtualMachineSnapshot } from "../../../estate/snapshot.js";
import { resourceKey } from "../../../estate/resourceId.js";
import { sameRegion } from "../../query.js";
import { configuredKeyEvidence, keyBinding, unreadListResults, type Results } from "../../query/consumers.js";
import { resultsFor, withMessage, withErrors } from "../../result.js";
import type { CheckContext, ControlResult, EvidenceValue } from "../../types.js";
import { metadata } from "./metadata.js";

/** Disk encryption types that go through a DES (customer key alone, or double encryption). */
const CUSTOMER_KEY_TYPES = ["EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys"];
/** The same, lower-cased: ARM's casing of enum values varies, and a disk is asked about once per VM disk. */
const CUSTOMER_KEY_TYPE_KEYS: ReadonlySet<string> = new Set(CUSTOMER_KEY_TYPES.map((t) => t.toLowerCase()));

/**
 * One result per disk of each in-scope VM (the VMs with any disk behind one of our DES). Which VMs
 * are in scope depends on a subscription's DES, disk and VM lists together, so a subscription with any
 * of them unread is one UNKNOWN.
 */
export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const { virtualMachines, disks, diskEncryptionSets } = ctx.snapshot.consumers;
  const expected = { encryptionType: CUSTOMER_KEY_TYPES, diskEncryptionSet: "a DES in the disk's region bound to the configured disk key", key: configuredKeyEvidence(ctx, "diskEncryptionSet") };
  const index: Index = { disks: byResourceId(disks), diskEncryptionSets: byResourceId(diskEncryptionSets) };
  return virtualMachines
    .flatMap((vm) => vm.disks.map((vmDisk) => checkDisk(ctx, r, index, vm, vmDisk, expected)))
    .concat(unreadListResults(ctx, r, ["consumers.virtualMachines", "consumers.disks", "consumers.diskEncryptionSets"], "in-scope virtual machines and disks", expected));
}

interface Index {
  disks: Map<string, DiskSnapshot>;
  diskEncryptionSets: Map<string, DiskEncryptionSetConsumer>;
}

function byResourceId<T extends { resourceId: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((item) => [resourceKey(item.resourceId), item]));
}

function checkDisk(ctx: CheckContext, r: Results, index: Index, vm: VirtualMachineSnapshot, vmDisk: VirtualMachineSnapshot["disks"][number], expected: EvidenceValue): ControlResult {
  // The label names the disk only where the disk list cannot (and a name is missing): made only then.
  const label = () => (vmDisk.role === "os" ? `${vm.name} OS disk` : `${vm.name} data disk LUN ${vmDisk.lun ?? "?"}`);
  const resource = { id: vmDisk.diskId ?? `${vm.resourceId}#${vmDisk.role}${vmDisk.lun ?? ""}`, name: vmDisk.name ?? label() };
  if (!vmDisk.diskId) return r.fail({ resource, observed: { managedDisk: false }, expected, message: `${label()} is not a managed disk, so it cannot be encrypted through a DES.` });
  const disk = index.disks.get(resourceKey(vmDisk.diskId));
  if (!disk) return r.unknown({ resource, message: `${label()} (${vmDisk.diskId}) was not in the collected disk list, so its encryption is unknown.`, expected, errors: [] });

  const des = disk.diskEncryptionSetId === undefined ? undefined : index.diskEncryptionSets.get(resourceKey(disk.diskEncryptionSetId));
  const observed = {
    location: disk.location,
    encryptionType: disk.encryptionType ?? null,
    diskEncryptionSetId: disk.diskEncryptionSetId ?? null,
    diskEncryptionSetLocation: des?.location ?? null,
    key: des?.activeKeyUrl ?? null,
  };
  const subject = { resource, observed, expected };
  const binding = des ? keyBinding(ctx, des.keyReference, "diskEncryptionSet") : undefined;
  if (binding?.status === "unknown") {
    return r.unknown(withErrors(subject, `The DES of ${disk.name} could not be matched to the configured disk key: the configured HSM was not read.`, binding.errors));
  }
  const problem = diskProblem(disk, des, binding?.status === "bound");
  return problem
    ? r.fail(withMessage(subject, `${disk.name} (${vm.name}) ${problem}.`))
    : r.pass(withMessage(subject, `${disk.name} (${vm.name}) is encrypted through ${des?.name} in ${disk.location}, bound to the configured disk key.`));
}

function diskProblem(disk: DiskSnapshot, des: DiskEncryptionSetConsumer | undefined, bound: boolean): string | undefined {
  if (disk.encryptionType === undefined || !CUSTOMER_KEY_TYPE_KEYS.has(disk.encryptionType.toLowerCase())) return `is encrypted with ${disk.encryptionType ?? "no reported encryption type"}, not a customer-managed key`;
  if (!disk.diskEncryptionSetId) return "has no disk encryption set";
  if (!des) return `uses ${disk.diskEncryptionSetId}, which is not a DES bound to our HSM`;
  if (!bound) return `uses ${des.name}, which is not bound to the configured disk key`;
  if (!sameRegion(des.location, disk.location)) return `is in ${disk.location} but uses ${des.name} from ${des.location}; use the DES of its own region`;
  return undefined;
}
