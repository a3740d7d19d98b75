import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, contosoPolicy, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

describe("keys_days_to_expiry", () => {
  it("passes on the reference estate, with the days left", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS", "PASS", "PASS"]);
    expect(results[0]?.evidence).toMatchObject({ observed: { daysLeft: 345 }, expected: { daysLeftAbove: 30 } });
  });

  it("fails critical on exactly the planted near-expiry key of the drifted estate", () => {
    const results = check(contextFor(loadSnapshot("contoso-drifted")));
    const failed = results.filter((r) => r.status !== "PASS");
    expect(failed.map((r) => [r.resourceName, r.status, r.severity])).toEqual([["Contoso-STORAGE-CMK", "FAIL", "critical"]]);
    expect(failed[0]?.evidence.observed).toMatchObject({ daysLeft: 5, expiresOn: "2026-12-03T00:00:00.000Z" });
  });

  it("grades by the policy's thresholds: high under the warning, critical once expired", () => {
    const snapshot = loadSnapshot();
    expect(check(contextFor(snapshot, { now: "2027-10-20T00:00:00.000Z" }))[0]).toMatchObject({ status: "FAIL", severity: "high" });
    expect(check(contextFor(snapshot, { now: "2027-11-09T00:00:00.000Z" }))[0]).toMatchObject({ status: "FAIL", severity: "critical" });
    const policy = contextFor(snapshot).policy;
    policy.thresholds.keyExpiryWarningDays = 400;
    policy.thresholds.keyExpiryCriticalDays = 350;
    expect(check(contextFor(snapshot, { policy }))[0]).toMatchObject({ status: "FAIL", severity: "critical" });
  });

  it("is UNKNOWN when the key could not be read", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.keys = hsm.keys!.filter((k) => k.name !== "Contoso-STORAGE-CMK");
    pushError(snapshot, { part: "key", resourceId: `${hsm.hsmUri!.replace(/\/$/, "")}/keys/Contoso-STORAGE-CMK`, operation: "keys.getKey", statusCode: 403, code: "Forbidden", message: "denied" });
    const result = check(contextFor(snapshot))[2];
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.code).toBe("Forbidden");
  });
});

describe("keys_days_to_expiry with a key's own notifyBefore", () => {
  it("warns earlier when the key's notifyBefore is longer than the estate-wide threshold", () => {
    const policy = contosoPolicy();
    const snapshot = loadSnapshot();
    const pol = structuredClone(policy) as typeof policy;
    (pol.managedHsms[0]!.keys[0]!.rotation as { notifyBefore: { iso: string; days: number } }).notifyBefore = { iso: "P400D", days: 400 };
    const results = check(contextFor(snapshot, { policy: pol }));
    const first = results.find((r) => r.resourceName === pol.managedHsms[0]!.keys[0]!.name);
    expect(first?.status).toBe("FAIL");
    expect(first?.evidence.expected).toEqual({ daysLeftAbove: 400 });
    expect(results.filter((r) => r.status === "PASS")).toHaveLength(2);
  });
});
