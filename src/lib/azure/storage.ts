import type { StorageAccount, StorageManagementClient } from "@azure/arm-storage";
import type { StorageAccountConsumer } from "../estate/snapshot.js";
import { parseKeyReference, storageKeyUrl } from "../estate/keyReference.js";
import { requireResourceId } from "../estate/resourceId.js";
import { call, collectPages } from "./errors.js";
import { writeOptions, type WriteOptions } from "./writeOptions.js";
import { mapIdentity } from "./identity.js";
import { defined } from "./managedHsms.js";

/** Storage accounts' encryption settings through @azure/arm-storage; listed per subscription. */
export class StorageArm {
  constructor(private readonly client: (subscriptionId: string) => StorageManagementClient) {}

  listStorageAccounts(subscriptionId: string): Promise<StorageAccountConsumer[]> {
    return collectPages("storageAccounts.list", `/subscriptions/${subscriptionId}`, this.client(subscriptionId).storageAccounts.list(), mapStorageAccount);
  }

  async getStorageAccount(accountId: string): Promise<StorageAccountConsumer> {
    const { subscriptionId, resourceGroup, name } = requireResourceId(accountId, "storage account id");
    return mapStorageAccount(await call("storageAccounts.getProperties", accountId, () => this.client(subscriptionId).storageAccounts.getProperties(resourceGroup, name)));
  }

  /** Pins the account's customer-managed key to a version (PATCH of encryption.keyvaultproperties); the identity it uses is kept. */
  async setKeyVersion(account: Pick<StorageAccountConsumer, "resourceId" | "keyVaultUri" | "keyName" | "encryptionUserAssignedIdentity">, keyVersion: string, options: WriteOptions): Promise<void> {
    const { subscriptionId, resourceGroup, name } = requireResourceId(account.resourceId, "storage account id");
    const encryption = {
      keySource: "Microsoft.Keyvault",
      keyVaultProperties: { keyVaultUri: account.keyVaultUri, keyName: account.keyName, keyVersion },
      ...(account.encryptionUserAssignedIdentity ? { encryptionIdentity: { encryptionUserAssignedIdentity: account.encryptionUserAssignedIdentity } } : {}),
    };
    const { onResponse } = writeOptions(options);
    await call("storageAccounts.update", account.resourceId, () => this.client(subscriptionId).storageAccounts.update(resourceGroup, name, { encryption }, { onResponse }));
  }
}

function mapStorageAccount(sa: StorageAccount): StorageAccountConsumer {
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
    provisioningState: sa.provisioningState,
    currentVersionedKeyExpirationTimestamp: kv?.currentVersionedKeyExpirationTimestamp?.toISOString(),
  });
}
