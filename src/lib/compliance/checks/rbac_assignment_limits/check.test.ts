import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import type { EstateSnapshot } from "../../../estate/snapshot.js";
import { MANAGED_HSM_ROLES } from "../../../rbac/builtinRoles.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

function addAssignments(snapshot: EstateSnapshot, scope: string, count: number) {
  for (let i = 0; i < count; i++) {
    contosoHsm(snapshot).roleAssignments!.push({
      id: `${scope === "/" ? "" : scope}/providers/Microsoft.Authorization/roleAssignments/extra-${i}`,
      name: `extra-${i}`,
      scope,
      principalId: `c0000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      roleDefinitionId: `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${MANAGED_HSM_ROLES.cryptoAuditor.guid}`,
    });
  }
}

const byName = (snapshot: EstateSnapshot, name: string) => check(contextFor(snapshot)).find((r) => r.resourceName === name);

describe("rbac_assignment_limits", () => {
  it("passes the HSM scope and every key scope of the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => [r.resourceName, r.status, r.evidence.observed])).toEqual([
      ["Contoso-PROD-HSM HSM scope", "PASS", { assignments: 4 }],
      ["Contoso-PROD-HSM/keys/Contoso-SQLMI-CMK", "PASS", { assignments: 2 }],
      ["Contoso-PROD-HSM/keys/Contoso-DISK-CMK", "PASS", { assignments: 3 }],
      ["Contoso-PROD-HSM/keys/Contoso-STORAGE-CMK", "PASS", { assignments: 2 }],
    ]);
    expect(results[0]?.evidence.expected).toEqual({ limit: 50, warnAt: 40 });
  });

  it("fails at the per-key limit of 10", () => {
    const snapshot = loadSnapshot();
    addAssignments(snapshot, "/keys/Contoso-DISK-CMK", 7);
    const result = byName(snapshot, "Contoso-PROD-HSM/keys/Contoso-DISK-CMK");
    expect(result).toMatchObject({ status: "FAIL", severity: "medium", evidence: { observed: { assignments: 10 } } });
  });

  it("fails with lower severity within 20% of the limit", () => {
    const snapshot = loadSnapshot();
    addAssignments(snapshot, "/keys/Contoso-DISK-CMK", 5);
    expect(byName(snapshot, "Contoso-PROD-HSM/keys/Contoso-DISK-CMK")).toMatchObject({ status: "FAIL", severity: "low" });
    addAssignments(snapshot, "/keys", 36);
    expect(byName(snapshot, "Contoso-PROD-HSM HSM scope")).toMatchObject({ status: "FAIL", severity: "low", evidence: { observed: { assignments: 40 } } });
  });

  it('counts "/" and "/keys" together against the HSM-scope limit of 50', () => {
    const snapshot = loadSnapshot();
    addAssignments(snapshot, "/", 23);
    addAssignments(snapshot, "/keys", 23);
    expect(byName(snapshot, "Contoso-PROD-HSM HSM scope")).toMatchObject({ status: "FAIL", severity: "medium", evidence: { observed: { assignments: 50 } } });
  });

  it("reports a key scope that is not in the policy", () => {
    const snapshot = loadSnapshot();
    addAssignments(snapshot, "/keys/Legacy-CMK", 1);
    expect(byName(snapshot, "Contoso-PROD-HSM/keys/Legacy-CMK")?.status).toBe("PASS");
  });

  it("is UNKNOWN when the role assignments could not be read", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.roleAssignments = null;
    pushError(snapshot, { part: "rbac.roleAssignments", resourceId: `${hsm.hsmUri!.replace(/\/$/, "")}/keys/Contoso-DISK-CMK`, operation: "roleAssignments.list", statusCode: 429, code: "TooManyRequests", message: "throttled" });
    const results = check(contextFor(snapshot));
    expect(results.map((r) => r.status)).toEqual(["UNKNOWN", "UNKNOWN", "UNKNOWN", "UNKNOWN"]);
    expect(results[0]?.evidence.collectionErrors?.[0]?.code).toBe("TooManyRequests");
  });
});
