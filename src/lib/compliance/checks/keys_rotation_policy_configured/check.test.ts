import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import type { EstateSnapshot, RotationPolicySnapshot } from "../../../estate/snapshot.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

function withSqlPolicy(policy: RotationPolicySnapshot | null): EstateSnapshot {
  const snapshot = loadSnapshot();
  contosoHsm(snapshot).keys!.find((k) => k.name === "Contoso-SQLMI-CMK")!.rotationPolicy = policy;
  return snapshot;
}

describe("keys_rotation_policy_configured", () => {
  it("passes on the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS", "PASS", "PASS"]);
    expect(results[0]?.evidence).toMatchObject({
      observed: { expiresIn: "P1Y", lifetimeActions: [{ action: "Rotate", timeAfterCreate: "P180D", timeBeforeExpiry: null }] },
      expected: { action: "Rotate", rotateNoLaterThan: "P180D", expiresInAtMost: "P1Y" },
    });
  });

  it("passes a timeBeforeExpiry trigger that rotates by rotateAfter", () => {
    const [result] = check(contextFor(withSqlPolicy({ expiresIn: "P1Y", lifetimeActions: [{ action: "Rotate", timeBeforeExpiry: "P185D" }] })));
    expect(result?.status).toBe("PASS");
  });

  it("fails a policy with no lifetime actions (none set)", () => {
    const [result] = check(contextFor(withSqlPolicy({ lifetimeActions: [] })));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("no rotation policy is set");
  });

  it("fails a rotation later than rotateAfter and an expiresIn longer than expireAfter", () => {
    const [result] = check(contextFor(withSqlPolicy({ expiresIn: "P2Y", lifetimeActions: [{ action: "Rotate", timeBeforeExpiry: "P30D" }] })));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("longer than expireAfter P1Y");
    expect(result?.message).toContain("later than rotateAfter P180D");
  });

  it("fails when versions expire before they rotate, or expiresIn is missing", () => {
    expect(check(contextFor(withSqlPolicy({ expiresIn: "P90D", lifetimeActions: [{ action: "Rotate", timeAfterCreate: "P180D" }] })))[0]?.status).toBe("FAIL");
    expect(check(contextFor(withSqlPolicy({ lifetimeActions: [{ action: "Rotate", timeAfterCreate: "P90D" }] })))[0]?.message).toContain("expiresIn is not set");
  });

  it("is UNKNOWN when the rotation policy could not be read", () => {
    const snapshot = withSqlPolicy(null);
    pushError(snapshot, {
      part: "key.rotationPolicy",
      resourceId: "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-SQLMI-CMK",
      operation: "keys.getKeyRotationPolicy",
      statusCode: 403,
      code: "Forbidden",
      message: "denied",
    });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.operation).toBe("keys.getKeyRotationPolicy");
  });
});
