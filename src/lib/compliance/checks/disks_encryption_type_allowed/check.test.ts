import { describe, expect, it } from "vitest";
import { contextFor, contosoPolicy, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

describe("disks_encryption_type_allowed", () => {
  it("passes on the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS", "PASS"]);
    expect(results[0]?.evidence.observed).toEqual({ encryptionType: "EncryptionAtRestWithCustomerKey" });
  });

  it("fails when the policy allows only double encryption (threshold from the policy)", () => {
    const policy = contosoPolicy();
    policy.thresholds.allowedDiskEncryptionTypes = ["EncryptionAtRestWithPlatformAndCustomerKeys"];
    const snapshot = loadSnapshot();
    const results = check(contextFor(snapshot, { policy }));
    expect(results.map((r) => r.status)).toEqual(["FAIL", "FAIL"]);
    expect(results[0]?.evidence.expected).toEqual({ encryptionType: ["EncryptionAtRestWithPlatformAndCustomerKeys"] });
    expect(results[0]?.resourceId).toBe(snapshot.consumers.diskEncryptionSets![0]!.resourceId);
  });

  it("is UNKNOWN when the DES list could not be read", () => {
    const snapshot = loadSnapshot();
    snapshot.consumers.diskEncryptionSets = [];
    pushError(snapshot, { part: "consumers.diskEncryptionSets", resourceId: `/subscriptions/${snapshot.subscriptions[0]}`, operation: "diskEncryptionSets.list", statusCode: 403, code: "AuthorizationFailed", message: "denied" });
    const results = check(contextFor(snapshot));
    expect(results.map((r) => r.status)).toEqual(["UNKNOWN"]);
    expect(results[0]?.evidence.collectionErrors?.[0]?.code).toBe("AuthorizationFailed");
  });

  it("is UNKNOWN when a DES does not report its encryption type", () => {
    const snapshot = loadSnapshot();
    delete snapshot.consumers.diskEncryptionSets![1]!.encryptionType;
    expect(check(contextFor(snapshot)).map((r) => r.status)).toEqual(["PASS", "UNKNOWN"]);
  });
});
