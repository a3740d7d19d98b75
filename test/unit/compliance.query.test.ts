import { describe, expect, it } from "vitest";
import { consumerPrincipalIds } from "../../src/lib/compliance/query.js";
import type { SqlManagedInstanceConsumer, StorageAccountConsumer } from "../../src/lib/estate/snapshot.js";
import { loadSnapshot } from "../support/snapshots.js";

const UAMI = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/cmk";

describe("consumerPrincipalIds: the identity a consumer reaches its key with", () => {
  const sql = () => structuredClone(loadSnapshot().consumers.sqlManagedInstances![0]!) as SqlManagedInstanceConsumer;
  const storage = () => structuredClone(loadSnapshot().consumers.storageAccounts![0]!) as StorageAccountConsumer;
  const withBoth = <T extends SqlManagedInstanceConsumer | StorageAccountConsumer>(c: T): T => {
    c.identity = { type: "SystemAssigned,UserAssigned", principalId: "system-oid", userAssignedIdentities: [{ resourceId: UAMI, principalId: "uami-oid" }] };
    return c;
  };

  it("is the system-assigned identity by default", () => {
    expect(consumerPrincipalIds(sql())).toEqual(["b2000000-0000-4000-8000-000000000001"]);
  });

  it("is only the primary user-assigned identity of a SQL MI that names one", () => {
    const mi = withBoth(sql());
    mi.primaryUserAssignedIdentityId = UAMI.toUpperCase();
    expect(consumerPrincipalIds(mi)).toEqual(["uami-oid"]);
  });

  it("is only the encryption identity of a storage account that names one", () => {
    const sa = withBoth(storage());
    sa.encryptionUserAssignedIdentity = UAMI;
    expect(consumerPrincipalIds(sa)).toEqual(["uami-oid"]);
  });

  it("is every identity when the resource does not say which it uses (a possible false FAIL, never a false PASS)", () => {
    expect(consumerPrincipalIds(withBoth(storage()))).toEqual(["system-oid", "uami-oid"]);
  });

  it("is none for a resource without identity", () => {
    const sa = storage();
    sa.identity = { type: "None", userAssignedIdentities: [] };
    expect(consumerPrincipalIds(sa)).toEqual([]);
  });
});
