import { describe, expect, it } from "vitest";
import type { EstateSnapshot } from "../../../estate/snapshot.js";
import { contextFor, contosoHsm, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const setting = (snapshot: EstateSnapshot) => contosoHsm(snapshot).diagnosticSettings![0]!;

describe("hsm_audit_logging_enabled", () => {
  it("passes on the reference and drifted estates (hsm-audit → law-contoso-security)", () => {
    for (const fixture of ["contoso-reference", "contoso-drifted"] as const) {
      const results = check(contextFor(loadSnapshot(fixture)));
      expect(results.map((r) => r.status)).toEqual(["PASS"]);
      expect(results[0]?.message).toContain("hsm-audit");
    }
  });

  it("accepts the audit and allLogs category groups", () => {
    for (const categoryGroup of ["audit", "allLogs"]) {
      const snapshot = loadSnapshot();
      setting(snapshot).logs = [{ categoryGroup, enabled: true }];
      expect(check(contextFor(snapshot))[0]?.status).toBe("PASS");
    }
  });

  it("fails when there is no diagnostic setting", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).diagnosticSettings = [];
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("no diagnostic setting");
    expect(result?.evidence.observed).toEqual({ diagnosticSettings: [] });
  });

  it("fails when AuditEvent is disabled", () => {
    const snapshot = loadSnapshot();
    setting(snapshot).logs = [{ category: "AuditEvent", enabled: false }];
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("hsm-audit has AuditEvent disabled or absent");
  });

  it("fails when AuditEvent goes only to a storage account", () => {
    const snapshot = loadSnapshot();
    const s = setting(snapshot);
    delete s.workspaceId;
    s.storageAccountId = "/subscriptions/5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10/resourceGroups/rg-contoso-monitor/providers/Microsoft.Storage/storageAccounts/stcontosologs";
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("sends AuditEvent only to a storage account");
  });

  it("is UNKNOWN when the diagnostic settings could not be read", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.diagnosticSettings = null;
    pushError(snapshot, { part: "managedHsm.diagnosticSettings", resourceId: hsm.resourceId, operation: "diagnosticSettings.list", statusCode: 403, code: "AuthorizationFailed", message: "denied" });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.operation).toBe("diagnosticSettings.list");
  });
});
