import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, contosoPolicy, loadSnapshot, hsmUnreadable } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

describe("hsm_soft_delete_retention", () => {
  it("passes on the reference and drifted estates (90 days, policy minimum 90)", () => {
    for (const fixture of ["contoso-reference", "contoso-drifted"] as const) {
      const results = check(contextFor(loadSnapshot(fixture)));
      expect(results.map((r) => r.status)).toEqual(["PASS"]);
      expect(results[0]?.evidence).toMatchObject({ observed: { enableSoftDelete: true, softDeleteRetentionInDays: 90 }, expected: { minSoftDeleteRetentionInDays: 90 } });
    }
  });

  it("fails when the retention is below the policy minimum, naming both numbers", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).properties!.softDeleteRetentionInDays = 30;
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("only 30 days");
    expect(result?.message).toContain("at least 90");
    expect(result?.resourceId).toBe(contosoHsm(snapshot).resourceId);
  });

  it("takes the minimum from the policy thresholds", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).properties!.softDeleteRetentionInDays = 30;
    const base = contosoPolicy();
    const policy = { ...base, thresholds: { ...base.thresholds, softDeleteRetentionMinDays: 30 } };
    const [result] = check(contextFor(snapshot, { policy }));
    expect(result?.status).toBe("PASS");
    expect(result?.evidence.expected).toEqual({ enableSoftDelete: true, minSoftDeleteRetentionInDays: 30 });
  });

  it("fails when soft delete is off or the retention is not reported", () => {
    const off = loadSnapshot();
    contosoHsm(off).properties!.enableSoftDelete = false;
    expect(check(contextFor(off))[0]?.status).toBe("FAIL");

    const unreported = loadSnapshot();
    delete contosoHsm(unreported).properties!.softDeleteRetentionInDays;
    const [result] = check(contextFor(unreported));
    expect(result?.status).toBe("FAIL");
    expect(result?.evidence.observed).toEqual({ enableSoftDelete: true, softDeleteRetentionInDays: null });
  });

  it("is UNKNOWN when the HSM could not be read", () => {
    const snapshot = loadSnapshot();
    hsmUnreadable(snapshot);
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.code).toBe("AuthorizationFailed");
  });

  it("gives one result per configured HSM, UNKNOWN for one missing from the snapshot", () => {
    const policy = contosoPolicy();
    const other = { ...policy.managedHsms[0]!, resourceId: policy.managedHsms[0]!.resourceId.replace("Contoso-PROD-HSM", "Contoso-DR-HSM"), name: "Contoso-DR-HSM" };
    policy.managedHsms.push(other);
    const results = check(contextFor(loadSnapshot(), { policy }));
    expect(results.map((r) => [r.resourceName, r.status])).toEqual([
      ["Contoso-PROD-HSM", "PASS"],
      ["Contoso-DR-HSM", "UNKNOWN"],
    ]);
  });
});
