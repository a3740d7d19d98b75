import type { StorageAccountConsumer } from "../../estate/snapshot.js";
import { parseKeyReference } from "../../estate/keyReference.js";
import type { StepHandler } from "./stepHandler.js";
import { requireTarget, sameVersion } from "./stepHandler.js";

/** The version a storage account encrypts with: its pinned version, else the one Storage reports in use. */
export function storageVersionInUse(account: StorageAccountConsumer): string | null {
  return account.keyVersion ?? parseKeyReference(account.currentVersionedKeyIdentifier)?.version ?? null;
}

/** Pins a storage account to the target version (PATCH); a versionless account is only verified. */
export const storageAccount: StepHandler<StorageAccountConsumer> = {
  read: (ctx) => ctx.clients.storage.getStorageAccount(ctx.step.resource.id),
  isDone: (account, ctx) => sameVersion(storageVersionInUse(account), requireTarget(ctx).version),
  precondition: async (account) => (account.keyVersion ? undefined : `${account.name} uses a versionless key: Storage moves it on its own`),
  apply: (account, ctx) => ctx.clients.storage.setKeyVersion(account, requireTarget(ctx).version, ctx.write),
  describe: (account) => ({ keyVersion: account.keyVersion ?? null, currentVersionedKeyIdentifier: account.currentVersionedKeyIdentifier ?? null }),
  consumer: (account) => account,
};
