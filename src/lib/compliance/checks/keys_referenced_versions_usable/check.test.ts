import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import type { EstateSnapshot } from "../../../estate/snapshot.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const OLD_DISK_VERSION = "f6ffed80276011da401b0c6e393df4f8";

function diskKey(snapshot: EstateSnapshot) {
  return contosoHsm(snapshot).keys!.find((k) => k.name === "Contoso-DISK-CMK")!;
}

describe("keys_referenced_versions_usable", () => {
  it("passes on the reference estate, one result per consumer and key", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => [r.resourceName, r.status])).toEqual([
      ["contoso-sqlmi-01 -> Contoso-SQLMI-CMK", "PASS"],
      ["des-contoso-centralindia -> Contoso-DISK-CMK", "PASS"],
      ["des-contoso-southindia -> Contoso-DISK-CMK", "PASS"],
      ["contosoprodcmkst01 -> Contoso-STORAGE-CMK", "PASS"],
    ]);
    expect(results[3]?.evidence.observed).toMatchObject({ keyVersionId: "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-STORAGE-CMK/fe8a4f0a6020111e8ce29364923746ef" });
  });

  it("passes the drifted DES pinned to the older version, which is still enabled and unexpired", () => {
    const results = check(contextFor(loadSnapshot("contoso-drifted")));
    expect(results.map((r) => r.status)).toEqual(["PASS", "PASS", "PASS", "PASS"]);
    expect(results[1]?.evidence.observed).toMatchObject({ keyVersionId: expect.stringContaining(OLD_DISK_VERSION) });
  });

  it("fails exactly the pinned DES when its older version is disabled", () => {
    const snapshot = loadSnapshot("contoso-drifted");
    diskKey(snapshot).versions!.find((v) => v.version === OLD_DISK_VERSION)!.enabled = false;
    const failed = check(contextFor(snapshot)).filter((r) => r.status !== "PASS");
    expect(failed.map((r) => [r.resourceName, r.status, r.severity])).toEqual([["des-contoso-centralindia -> Contoso-DISK-CMK", "FAIL", "critical"]]);
    expect(failed[0]?.resourceId).toMatch(/diskEncryptionSets\/des-contoso-centralindia$/);
  });

  it("fails the storage account once the version it uses has expired", () => {
    const results = check(contextFor(loadSnapshot("contoso-drifted"), { now: "2026-12-04T00:00:00.000Z" }));
    expect(results.filter((r) => r.status === "FAIL").map((r) => r.resourceName)).toEqual(["contosoprodcmkst01 -> Contoso-STORAGE-CMK"]);
  });

  it("fails a reference to a version that does not exist, or is not active yet", () => {
    const snapshot = loadSnapshot();
    const des = snapshot.consumers.diskEncryptionSets![0]!;
    des.keyReference = { ...des.keyReference!, version: "0000" };
    const sqlVersion = contosoHsm(snapshot).keys!.find((k) => k.name === "Contoso-SQLMI-CMK")!.versions![1]!;
    sqlVersion.notBefore = "2027-01-01T00:00:00.000Z";
    const failed = check(contextFor(snapshot)).filter((r) => r.status === "FAIL");
    expect(failed.map((r) => r.resourceName)).toEqual(["contoso-sqlmi-01 -> Contoso-SQLMI-CMK", "des-contoso-centralindia -> Contoso-DISK-CMK"]);
    expect(failed[0]?.message).toContain("is not active until");
  });

  it("is UNKNOWN for a non-current version when versions could not be listed, but judges the current one from the key", () => {
    const snapshot = loadSnapshot("contoso-drifted");
    diskKey(snapshot).versions = null;
    pushError(snapshot, {
      part: "key.versions",
      resourceId: "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-DISK-CMK",
      operation: "keys.listPropertiesOfKeyVersions",
      statusCode: 403,
      code: "Forbidden",
      message: "denied",
    });
    const results = check(contextFor(snapshot)).filter((r) => r.resourceName.endsWith("Contoso-DISK-CMK"));
    expect(results.map((r) => r.status)).toEqual(["UNKNOWN", "PASS"]);
    expect(results[0]?.evidence.collectionErrors?.[0]?.code).toBe("Forbidden");
  });

  it("is UNKNOWN when a consumer list or a TDE protector could not be read", () => {
    const snapshot = loadSnapshot();
    snapshot.consumers.storageAccounts = [];
    pushError(snapshot, { part: "consumers.storageAccounts", resourceId: `/subscriptions/${snapshot.subscriptions[0]}`, operation: "storageAccounts.list", statusCode: 403, code: "AuthorizationFailed", message: "denied" });
    const mi = snapshot.consumers.sqlManagedInstances![0]!;
    mi.encryptionProtector = null;
    pushError(snapshot, { part: "consumers.sqlManagedInstance.encryptionProtector", resourceId: mi.resourceId, operation: "managedInstanceEncryptionProtectors.get", statusCode: 500, code: "InternalError", message: "boom" });
    const unknown = check(contextFor(snapshot)).filter((r) => r.status === "UNKNOWN");
    expect(unknown.map((r) => r.resourceName)).toEqual(["Contoso-SQLMI-CMK", "contoso-sqlmi-01 -> Contoso-SQLMI-CMK", "Contoso-DISK-CMK", "Contoso-STORAGE-CMK"]);
    expect(unknown[0]?.evidence.collectionErrors?.map((e) => e.code)).toEqual(["AuthorizationFailed"]);
    expect(unknown[1]?.evidence.collectionErrors?.map((e) => e.code)).toEqual(["InternalError"]);
  });
});
