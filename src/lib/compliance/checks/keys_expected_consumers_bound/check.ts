import { hsmHost } from "../../../estate/keyReference.js";
import { consumerRef } from "../../../estate/partRef.js";
import { unreadErrorsOf } from "../../query/unread.js";
import type { Consumer, ConsumersSnapshot, SnapshotPart } from "../../../estate/snapshot.js";
import { resourceKey } from "../../../estate/resourceId.js";
import { consumerKeyReference, keyPairs } from "../../query.js";
import { errorsFor, resultsFor } from "../../result.js";
import type { CheckContext, ControlResult, EvidenceValue } from "../../types.js";
import { metadata } from "./metadata.js";

const LISTS: Record<string, { list: keyof ConsumersSnapshot; part: SnapshotPart; label: string }> = {
  "microsoft.sql/managedinstances": { list: "sqlManagedInstances", part: "consumers.sqlManagedInstances", label: "SQL managed instance" },
  "microsoft.compute/diskencryptionsets": { list: "diskEncryptionSets", part: "consumers.diskEncryptionSets", label: "disk encryption set" },
  "microsoft.storage/storageaccounts": { list: "storageAccounts", part: "consumers.storageAccounts", label: "storage account" },
};

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const byId = new Map<string, Consumer>();
  for (const { list } of Object.values(LISTS)) for (const c of ctx.snapshot.consumers[list] as Consumer[]) byId.set(resourceKey(c.resourceId), c);
  return keyPairs(ctx).flatMap((pair) =>
    pair.keyPolicy.expectedConsumers.map((id): ControlResult => {
      const [, sub = "", type = "", name = id] = /^\/subscriptions\/([^/]+)\/resourceGroups\/[^/]+\/providers\/([^/]+\/[^/]+)\/([^/]+)$/i.exec(id) ?? [];
      const resource = { id, name };
      const expected = `${pair.keyResource.id} (any version)`;
      const target = LISTS[type.toLowerCase()];
      if (!target) return r.fail({ resource, message: `${id} is not a consumer KeyWarden can check.`, observed: "unsupported resource type", expected });
      const unread = unreadErrorsOf(ctx, target.part, sub);
      if (unread.length > 0 || !pair.hsm.hsmUri) {
        const errors = unread.length > 0 ? unread : errorsFor(ctx, "managedHsm", pair.about);
        return r.unknown({ resource, message: `Whether ${target.label} ${name} uses ${pair.keyResource.name} is unknown: the data could not be read.`, expected, errors });
      }
      const consumer = byId.get(resourceKey(id));
      if (!consumer) {
        return r.fail({
          resource,
          message: `${target.label} ${name} was not found in subscription ${sub}: it was deleted, moved or renamed, or is no longer visible to KeyWarden.`,
          observed: "not found",
          expected,
        });
      }
      if (consumer.kind === "sqlManagedInstance" && consumer.encryptionProtector === null) {
        return r.unknown({
          resource,
          message: `The TDE protector of ${name} could not be read.`,
          expected,
          errors: errorsFor(ctx, "consumers.sqlManagedInstance.encryptionProtector", consumerRef(consumer.resourceId)),
        });
      }
      const ref = consumerKeyReference(consumer);
      const observed = describeKey(consumer);
      const bound = ref !== null && ref.host === hsmHost(pair.hsm.hsmUri) && ref.keyName.toLowerCase() === pair.keyPolicy.name.toLowerCase();
      return bound
        ? r.pass({ resource, message: `${target.label} ${name} uses ${pair.keyResource.name} in ${pair.policy.name}.`, observed, expected })
        : r.fail({ resource, message: `${target.label} ${name} no longer uses ${pair.keyResource.name}: it is on ${keyLabel(observed)}.`, observed, expected });
    }),
  );
}

function describeKey(consumer: Consumer): { [key: string]: EvidenceValue } {
  switch (consumer.kind) {
    case "storageAccount":
      return { keySource: consumer.keySource ?? null, key: consumerKeyReference(consumer)?.url ?? null };
    case "sqlManagedInstance":
      return { serverKeyType: consumer.encryptionProtector?.serverKeyType ?? null, key: consumer.encryptionProtector?.uri ?? null };
    case "diskEncryptionSet":
      return { encryptionType: consumer.encryptionType ?? null, key: consumer.activeKeyUrl ?? null };
  }
}

function keyLabel(observed: { [key: string]: EvidenceValue }): string {
  if (typeof observed.key === "string") return observed.key;
  return observed.keySource === "Microsoft.Storage" || observed.serverKeyType === "ServiceManaged" ? "platform-managed keys" : "no customer-managed key";
}
