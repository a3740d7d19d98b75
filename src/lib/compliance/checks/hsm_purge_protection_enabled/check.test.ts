import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, hsmUnreadable } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

describe("hsm_purge_protection_enabled", () => {
  it("passes on the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS"]);
    expect(results[0]?.evidence.observed).toEqual({ enableSoftDelete: true, enablePurgeProtection: true });
  });

  it("fails when purge protection is off, with evidence", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).properties!.enablePurgeProtection = false;
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.evidence).toMatchObject({ observed: { enablePurgeProtection: false }, expected: { enablePurgeProtection: true }, observedAt: snapshot.collectedAt });
    expect(result?.resourceId).toBe(contosoHsm(snapshot).resourceId);
  });

  it("is UNKNOWN when the HSM could not be read", () => {
    const snapshot = loadSnapshot();
    hsmUnreadable(snapshot);
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.code).toBe("AuthorizationFailed");
  });
});
