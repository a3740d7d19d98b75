import { describe, expect, it } from "vitest";
import type { EstateSnapshot } from "../../../estate/snapshot.js";
import { contextFor, contosoHsm, contosoPolicy, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const signals = (snapshot: EstateSnapshot) => contosoHsm(snapshot).signals!;
const hoursBefore = (snapshot: EstateSnapshot, hours: number) => new Date(Date.parse(snapshot.collectedAt) - hours * 3_600_000).toISOString();

describe("hsm_audit_events_arriving", () => {
  it("passes on the reference and drifted estates (KeyWarden's previous scan an hour earlier is in law-contoso-security)", () => {
    for (const fixture of ["contoso-reference", "contoso-drifted"] as const) {
      const snapshot = loadSnapshot(fixture);
      expect(signals(snapshot).auditEvents?.count).toBeGreaterThan(0);
      const results = check(contextFor(snapshot));
      expect(results.map((r) => r.status)).toEqual(["PASS"]);
      expect(results[0]?.message).toContain("law-contoso-security (diagnostic setting hsm-audit)");
      expect(results[0]?.message).toContain("1 hours before the scan");
    }
  });

  it("fails an HSM whose diagnostic setting exists but whose newest AuditEvent is older than the threshold", () => {
    const snapshot = loadSnapshot();
    signals(snapshot).auditEvents!.newestEventAt = hoursBefore(snapshot, 30);
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("30 hours before the scan (at most 24 allowed)");
    expect(result?.evidence.observed).toMatchObject({ diagnosticSetting: "hsm-audit", newestEventAt: hoursBefore(snapshot, 30) });
  });

  it("judges the age at collection, not at evaluation (a later evaluation of the same snapshot agrees)", () => {
    const snapshot = loadSnapshot();
    const [result] = check(contextFor(snapshot, { now: "2027-10-15T00:00:00.000Z" }));
    expect(result?.status).toBe("PASS");
  });

  it("takes the threshold from the policy", () => {
    const snapshot = loadSnapshot();
    signals(snapshot).auditEvents!.newestEventAt = hoursBefore(snapshot, 30);
    const policy = contosoPolicy();
    const [result] = check(contextFor(snapshot, { policy: { ...policy, thresholds: { ...policy.thresholds, auditEventMaxAgeHours: 48 } } }));
    expect(result?.status).toBe("PASS");
  });

  it("fails when the workspace holds no AuditEvent of the HSM at all", () => {
    const snapshot = loadSnapshot();
    Object.assign(signals(snapshot).auditEvents!, { count: 0, newestEventAt: null });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("the setting exists, but its audit events are not arriving");
  });

  it("fails when no diagnostic setting sends AuditEvent to a workspace", () => {
    const snapshot = loadSnapshot();
    Object.assign(signals(snapshot), { workspace: "none", auditEvents: null, deniedRequests: null });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("No diagnostic setting of Contoso-PROD-HSM sends AuditEvent");
  });

  it("is UNKNOWN when the workspace could not be queried", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    signals(snapshot).auditEvents = null;
    pushError(snapshot, { part: "managedHsm.auditEvents", resourceId: hsm.resourceId, operation: "logs.queryResource(auditEvents)", statusCode: 403, code: "InsufficientAccessError", message: "denied" });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.map((e) => e.code)).toEqual(["InsufficientAccessError"]);
  });

  it("is UNKNOWN when the diagnostic settings could not be read, and when the signals were not collected", () => {
    const unreadable = loadSnapshot();
    const hsm = contosoHsm(unreadable);
    Object.assign(signals(unreadable), { workspace: null, auditEvents: null, deniedRequests: null });
    pushError(unreadable, { part: "managedHsm.diagnosticSettings", resourceId: hsm.resourceId, operation: "diagnosticSettings.list", statusCode: 403, code: "AuthorizationFailed", message: "denied" });
    const [first] = check(contextFor(unreadable));
    expect(first?.status).toBe("UNKNOWN");
    expect(first?.evidence.collectionErrors?.[0]?.operation).toBe("diagnosticSettings.list");

    const older = loadSnapshot();
    delete contosoHsm(older).signals;
    const [second] = check(contextFor(older));
    expect(second?.status).toBe("UNKNOWN");
    expect(second?.message).toContain("were not collected");
  });
});
