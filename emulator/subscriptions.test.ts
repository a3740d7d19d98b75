/** Fixtures spanning several subscriptions: validation, the indexed store, and listing through the real SDK clients. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ComputeManagementClient } from "@azure/arm-compute";
import { StorageManagementClient } from "@azure/arm-storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { materialise } from "./backend/materialise.js";
import { listChildren, listResources } from "./backend/state.js";
import { FIXTURE_DIR, parseFixture } from "./fixture.js";
import type { EmulatorHandle } from "./index.js";
import { startEmulator } from "./index.js";
import { call, staticCredential, SUBSCRIPTION_ID } from "./test-support.js";

const SUB_B = "7a0e9c4d-1b2f-4e3a-9c8d-000000000b0b";
const SUB_EMPTY = "7a0e9c4d-1b2f-4e3a-9c8d-00000000e0e0";
const UNKNOWN = "7a0e9c4d-1b2f-4e3a-9c8d-0000000dead0";
const KEYWARDEN = "a1000000-0000-4000-8000-000000000003";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function twoSubscriptions(): Json {
  const f = JSON.parse(readFileSync(join(FIXTURE_DIR, "contoso-reference.json"), "utf8")) as Json;
  f.name = "contoso-two-subscriptions";
  f.subscriptions = [{ subscriptionId: SUB_EMPTY, displayName: "empty" }];
  f.resourceGroups.push({ name: "rg-b-empty", location: "southindia", subscriptionId: SUB_B });
  f.diskEncryptionSets.push({ ...f.diskEncryptionSets[0], subscriptionId: SUB_B, resourceGroup: "rg-b-compute" });
  f.virtualMachines.push({ ...f.virtualMachines[0], name: "b-vm-01", subscriptionId: SUB_B, resourceGroup: "rg-b-compute" });
  f.storageAccounts.push({ ...f.storageAccounts[0], name: "bst01", subscriptionId: SUB_B, identity: undefined });
  // KeyWarden reads every subscription of its policy: Reader on each (the fixture grants it on the first only).
  for (const sub of [SUB_B, SUB_EMPTY]) f.armRoleAssignments.push({ principalId: KEYWARDEN, role: "Reader", scope: `/subscriptions/${sub}` });
  return f;
}

describe("multi-subscription fixtures (no network)", () => {
  it("places each resource in its own subscription and indexes it by type, subscription and group", () => {
    const state = materialise({ port: 1 }, parseFixture(twoSubscriptions()), new Date("2026-11-28T12:00:00Z"));
    expect([...state.subscriptions.keys()].sort()).toEqual([SUBSCRIPTION_ID, SUB_B, SUB_EMPTY].sort());
    const all = listResources(state, "microsoft.storage/storageaccounts");
    expect(all.map((r) => r.name).sort()).toEqual(["bst01", "contosologsst01", "contosoprodcmkst01"]);
    expect(all.map((r) => r.id)).toEqual(all.map((r) => r.id).sort((x, y) => x.localeCompare(y)));
    expect(listResources(state, "Microsoft.Storage/storageAccounts", { subscriptionId: SUB_B.toUpperCase() }).map((r) => r.name)).toEqual(["bst01"]);
    expect(listResources(state, "Microsoft.Compute/disks", { subscriptionId: SUB_B, resourceGroup: "RG-B-COMPUTE" }).map((r) => r.name)).toEqual(["b-vm-01-datadisk-0", "b-vm-01-osdisk"]);
    const bDisk = listResources(state, "Microsoft.Compute/disks", { subscriptionId: SUB_B })[0]!;
    // The VM's DES is named, so it is the DES of the VM's own subscription and group.
    expect((bDisk.body.properties as Json).encryption.diskEncryptionSetId).toBe(`/subscriptions/${SUB_B}/resourceGroups/rg-b-compute/providers/Microsoft.Compute/diskEncryptionSets/des-contoso-southindia`);
    expect(state.subscriptions.get(SUB_B)!.resourceGroups.get("rg-b-empty")).toBe("rg-b-empty");
    const mi = listResources(state, "Microsoft.Sql/managedInstances")[0]!;
    expect(listChildren(state, mi.id.toUpperCase(), "Microsoft.Sql/managedInstances/keys")).toHaveLength(2);
    expect(listResources(state, "Microsoft.Nothing/here")).toEqual([]);
  });

  it("names the field path of a bad subscription id, and of a DES missing from the VM's subscription", () => {
    const bad = twoSubscriptions();
    bad.storageAccounts[2].subscriptionId = "not-a-guid";
    expect(() => parseFixture(bad)).toThrow(/storageAccounts\.2\.subscriptionId: must be a GUID/);
    const missing = twoSubscriptions();
    missing.virtualMachines[2].subscriptionId = SUB_EMPTY;
    expect(() => parseFixture(missing)).toThrow(/virtualMachines\.2\.diskEncryptionSet: no disk encryption set 'des-contoso-southindia' in 'rg-b-compute' of subscription 7a0e9c4d/);
    const duplicate = twoSubscriptions();
    duplicate.storageAccounts[2].name = "contosologsst01";
    expect(() => parseFixture(duplicate)).toThrow(/storageAccounts\.2\.name: 'contosologsst01' is already defined at storageAccounts\.1\.name/);
  });
});

describe("multi-subscription fixtures through the real SDK clients", () => {
  let emu: EmulatorHandle;
  const arm = () => ({ endpoint: emu.endpoint, tlsOptions: { ca: emu.caPem }, retryOptions: { maxRetries: 0 } });
  beforeAll(async () => {
    emu = await startEmulator({ fixture: twoSubscriptions(), pageSize: 1 });
  });
  afterAll(() => emu?.close());

  it("lists each subscription's own resources, page by page", async () => {
    const names = async (sub: string): Promise<string[]> => {
      const out: string[] = [];
      for await (const a of new StorageManagementClient(staticCredential(), sub, arm()).storageAccounts.list()) out.push(a.name!);
      return out.sort();
    };
    expect(await names(SUBSCRIPTION_ID)).toEqual(["contosologsst01", "contosoprodcmkst01"]);
    expect(await names(SUB_B)).toEqual(["bst01"]);
    expect(await names(SUB_EMPTY)).toEqual([]);
    const compute = new ComputeManagementClient(staticCredential(), SUB_B, arm());
    const des = await compute.diskEncryptionSets.get("rg-b-compute", "des-contoso-southindia");
    expect(des.id).toBe(`/subscriptions/${SUB_B}/resourceGroups/rg-b-compute/providers/Microsoft.Compute/diskEncryptionSets/des-contoso-southindia`);
    const empty: string[] = [];
    for await (const d of compute.disks.listByResourceGroup("rg-b-empty")) empty.push(d.name!);
    expect(empty).toEqual([]);
  });

  it("answers 404 SubscriptionNotFound for a subscription the fixture does not know, and ResourceNotFound across subscriptions", async () => {
    const r = await call(emu, "GET", `/subscriptions/${UNKNOWN}/providers/Microsoft.Storage/storageAccounts?api-version=2023-05-01`);
    expect([r.status, r.body.error.code]).toEqual([404, "SubscriptionNotFound"]);
    const compute = new ComputeManagementClient(staticCredential(), SUB_EMPTY, arm());
    await expect(compute.diskEncryptionSets.get("rg-b-compute", "des-contoso-southindia")).rejects.toMatchObject({ statusCode: 404, code: "ResourceGroupNotFound" });
    const inB = new StorageManagementClient(staticCredential(), SUB_B, arm());
    await expect(inB.storageAccounts.getProperties("rg-contoso-storage", "contosologsst01")).rejects.toMatchObject({ statusCode: 404, code: "ResourceNotFound" });
  });
});
