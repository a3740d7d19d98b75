import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REGISTERED_CONTROLS } from "../../src/lib/compliance/checks/index.js";
import { evaluate } from "../../src/lib/compliance/evaluate.js";
import { loadControls } from "../../src/lib/compliance/registry.js";
import { consumerRef, hsmRef, keyRef, rbacScopeRef, refersTo, subscriptionRef } from "../../src/lib/estate/partRef.js";
import { readSnapshot, SnapshotError } from "../../src/lib/estate/readSnapshot.js";
import { SNAPSHOT_SCHEMA_VERSION, type EstateSnapshot } from "../../src/lib/estate/snapshot.js";
import { contextFor, contosoPolicy, loadSnapshot, pushError } from "../support/snapshots.js";

const HSM = "/subscriptions/5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10/resourceGroups/rg-contoso-hsm/providers/Microsoft.KeyVault/managedHSMs/Contoso-PROD-HSM";

describe("typed references on collection errors", () => {
  it("relates an HSM to its keys and scopes, and a subscription to its consumers", () => {
    expect(refersTo(hsmRef(HSM), keyRef(HSM.toLowerCase(), "k1"))).toBe(true);
    expect(refersTo(keyRef(HSM, "k1"), hsmRef(HSM))).toBe(true);
    expect(refersTo(keyRef(HSM, "k1"), keyRef(HSM, "K1"))).toBe(true);
    expect(refersTo(keyRef(HSM, "k1"), keyRef(HSM, "k10"))).toBe(false);
    expect(refersTo(rbacScopeRef(HSM, "/keys/"), rbacScopeRef(HSM, "/keys"))).toBe(true);
    expect(refersTo(subscriptionRef("s1"), consumerRef("/subscriptions/S1/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi"))).toBe(true);
    expect(refersTo(subscriptionRef("s1"), subscriptionRef("s10"))).toBe(false);
    expect(refersTo(subscriptionRef("s1"), hsmRef(HSM))).toBe(false);
  });
});

describe("readSnapshot", () => {
  const text = (s: unknown) => JSON.stringify(s);

  it("reads a current snapshot unchanged", () => {
    const snapshot = loadSnapshot();
    expect(snapshot.schemaVersion).toBe(SNAPSHOT_SCHEMA_VERSION);
    expect(readSnapshot(text(snapshot), "x")).toEqual(snapshot);
  });

  it("refuses what is not a snapshot, naming the field", () => {
    const snapshot = loadSnapshot() as unknown as Record<string, unknown>;
    expect(() => readSnapshot("{", "estate.json")).toThrow(/estate\.json: not JSON/);
    expect(() => readSnapshot(text({ ...snapshot, schemaVersion: 99 }), "estate.json")).toThrow(/schemaVersion 99 is not one this KeyWarden reads/);
    expect(() => readSnapshot(text({ ...snapshot, extra: 1 }), "estate.json")).toThrow(SnapshotError);
    const broken = loadSnapshot();
    (broken.managedHsms[0] as unknown as Record<string, unknown>).keys = "none";
    expect(() => readSnapshot(text(broken), "estate.json")).toThrow(/managedHsms\.0\.keys/);
  });

  it("migrates schema 1: a null consumer list becomes unknown for every subscription, never an empty list that passes", () => {
    const v1 = JSON.parse(text(loadSnapshot())) as Record<string, unknown> & { consumers: Record<string, unknown>; errors: unknown[] };
    v1.schemaVersion = 1;
    v1.subscriptions = ["sub-a", "sub-b"];
    v1.consumers.storageAccounts = null;
    v1.errors = [{ part: "consumers.storageAccounts", resourceId: "/subscriptions/sub-a", operation: "storageAccounts.list", statusCode: 403, message: "denied" }];
    const migrated = readSnapshot(text(v1), "old.json");
    expect(migrated.consumers.storageAccounts).toEqual([]);
    expect(migrated.errors.map((e) => [e.part, e.about])).toEqual([
      ["consumers.storageAccounts", { kind: "subscription", subscription: "sub-a" }],
      ["consumers.storageAccounts", { kind: "subscription", subscription: "sub-b" }],
    ]);
    const results = evaluate(migrated, contosoPolicy(), loadControls(REGISTERED_CONTROLS), { now: new Date(migrated.collectedAt) })
      .controls.filter((c) => c.metadata.id === "storage_key_source_hsm")
      .flatMap((c) => c.results);
    expect(results.map((r) => r.status)).toEqual(["UNKNOWN", "UNKNOWN"]);
  });

  it("derives what a schema 1 error was about from its part and id", () => {
    const v1 = JSON.parse(readFileSync(new URL("../fixtures/snapshots/contoso-reference.json", import.meta.url), "utf8")) as Record<string, unknown>;
    v1.schemaVersion = 1;
    v1.errors = [
      { part: "key.rotationPolicy", resourceId: "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-SQL-CMK", operation: "keys.getKeyRotationPolicy", message: "x" },
      { part: "rbac.roleAssignments", resourceId: "https://contoso-prod-hsm.managedhsm.azure.net/keys", operation: "roleAssignments.list", message: "x" },
    ];
    expect(readSnapshot(JSON.stringify(v1), "old.json").errors.map((e) => e.about)).toEqual([
      { kind: "key", hsm: HSM, key: "Contoso-SQL-CMK" },
      { kind: "rbacScope", hsm: HSM, scope: "/keys" },
    ]);
  });
});

describe("a subscription that cannot be read", () => {
  /** The reference estate with a second subscription whose every consumer list failed. */
  function withUnreadableSubscription(): EstateSnapshot {
    const snapshot = loadSnapshot();
    snapshot.subscriptions.push("00000000-0000-4000-8000-00000000dead");
    for (const [part, operation] of [
      ["consumers.sqlManagedInstances", "managedInstances.list"],
      ["consumers.diskEncryptionSets", "diskEncryptionSets.list"],
      ["consumers.disks", "disks.list"],
      ["consumers.virtualMachines", "virtualMachines.listAll"],
      ["consumers.storageAccounts", "storageAccounts.list"],
    ] as const) {
      pushError(snapshot, { part, resourceId: "/subscriptions/00000000-0000-4000-8000-00000000dead", operation, statusCode: 403, code: "AuthorizationFailed", message: "denied" });
    }
    return snapshot;
  }

  it("leaves the other subscription's consumer results intact, adding one UNKNOWN for it per consumer control", () => {
    const controls = loadControls(REGISTERED_CONTROLS);
    const consumerControls = controls.filter((c) => ["sql", "disks", "storage"].includes(c.metadata.area));
    expect(consumerControls.length).toBeGreaterThan(0);
    for (const control of consumerControls) {
      const clean = control.check(contextFor(loadSnapshot()));
      const partial = control.check(contextFor(withUnreadableSubscription()));
      const known = partial.filter((r) => !r.resourceId.includes("00000000dead"));
      // disks_des_every_region is judged across subscriptions: a region already covered stays PASS.
      expect(known.map((r) => [r.resourceId, r.status]), control.metadata.id).toEqual(clean.map((r) => [r.resourceId, r.status]));
      const unknown = partial.filter((r) => r.resourceId.includes("00000000dead"));
      if (control.metadata.id !== "disks_des_every_region") {
        expect(unknown.map((r) => r.status), control.metadata.id).toEqual(["UNKNOWN"]);
        expect(unknown[0]?.evidence.collectionErrors?.[0]?.code).toBe("AuthorizationFailed");
      }
    }
  });
});
