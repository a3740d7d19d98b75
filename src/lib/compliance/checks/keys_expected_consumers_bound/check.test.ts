import { describe, expect, it } from "vitest";
import { contextFor, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

describe("keys_expected_consumers_bound", () => {
  it("passes on the reference estate: every consumer the policy names uses its key", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => [r.resourceName, r.status])).toEqual([
      ["contoso-sqlmi-01", "PASS"],
      ["des-contoso-southindia", "PASS"],
      ["des-contoso-centralindia", "PASS"],
      ["contosoprodcmkst01", "PASS"],
    ]);
  });

  it("passes on the drifted estate: a DES pinned to an old version still uses the key", () => {
    expect(check(contextFor(loadSnapshot("contoso-drifted"))).map((r) => r.status)).toEqual(["PASS", "PASS", "PASS", "PASS"]);
  });

  it("fails a storage account switched back to platform-managed keys, with evidence", () => {
    const snapshot = loadSnapshot();
    const account = snapshot.consumers.storageAccounts![0]!;
    Object.assign(account, { keySource: "Microsoft.Storage", keyReference: null, keyName: undefined, keyVaultUri: undefined });
    const result = check(contextFor(snapshot)).find((r) => r.resourceName === "contosoprodcmkst01");
    expect(result).toMatchObject({ status: "FAIL", evidence: { observed: { keySource: "Microsoft.Storage", key: null } } });
    expect(result?.message).toMatch(/no longer uses Contoso-STORAGE-CMK: it is on platform-managed keys/);
  });

  it("fails a consumer that is gone", () => {
    const snapshot = loadSnapshot();
    snapshot.consumers.sqlManagedInstances = [];
    const result = check(contextFor(snapshot)).find((r) => r.resourceName === "contoso-sqlmi-01");
    expect(result).toMatchObject({ status: "FAIL", evidence: { observed: "not found" } });
  });

  it("is UNKNOWN when the consumer list could not be read", () => {
    const snapshot = loadSnapshot();
    snapshot.consumers.diskEncryptionSets = [];
    pushError(snapshot, { part: "consumers.diskEncryptionSets", resourceId: `/subscriptions/${snapshot.subscriptions[0]}`, operation: "diskEncryptionSets.list", statusCode: 503, message: "unavailable" });
    const results = check(contextFor(snapshot)).filter((r) => r.resourceName.startsWith("des-"));
    expect(results.map((r) => r.status)).toEqual(["UNKNOWN", "UNKNOWN"]);
    expect(results[0]?.evidence.collectionErrors?.[0]?.statusCode).toBe(503);
  });
});
