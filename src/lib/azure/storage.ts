import type { StorageManagementClient } from "@azure/arm-storage";
import type { StorageAccountConsumer } from "../estate/snapshot.js";
import { parseKeyReference, storageKeyUrl } from "../estate/keyReference.js";
import { requireResourceId } from "../estate/resourceId.js";
import { collectPages } from "./errors.js";
import { mapIdentity } from "./identity.js";
import { defined } from "./managedHsms.js";

/** Storage accounts' encryption settings through @azure/arm-storage; listed per subscription. */
export class StorageArm {
  constructor(private readonly client: (subscriptionId: string) => StorageManagementClient) {}

  listStorageAccounts(subscriptionId: string): Promise<StorageAccountConsumer[]> {
    return collectPages("storageAccounts.list", `/subscriptions/${subscriptionId}`, this.client(subscriptionId).storageAccounts.list(), (sa) => {
      const id = requireResourceId(sa.id ?? "", "storage account id");
      const enc = sa.encryption;
      const kv = enc?.keyVaultProperties;
      const keyVersion = kv?.keyVersion ? kv.keyVersion : undefined;
      return defined({
        kind: "storageAccount" as const,
        resourceId: sa.id ?? "",
        name: sa.name ?? id.name,
        subscriptionId: id.subscriptionId,
        resourceGroup: id.resourceGroup,
        location: sa.location,
        identity: mapIdentity(sa.identity),
        keySource: enc?.keySource,
        keyVaultUri: kv?.keyVaultUri,
        keyName: kv?.keyName,
        keyVersion,
        keyReference: parseKeyReference(storageKeyUrl(kv?.keyVaultUri, kv?.keyName, keyVersion)),
        currentVersionedKeyIdentifier: kv?.currentVersionedKeyIdentifier,
        lastKeyRotationTimestamp: kv?.lastKeyRotationTimestamp?.toISOString(),
        encryptionUserAssignedIdentity: enc?.encryptionIdentity?.encryptionUserAssignedIdentity,
      });
    });
  }
}
