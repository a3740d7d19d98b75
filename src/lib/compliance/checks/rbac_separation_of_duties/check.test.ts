import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, roleAssignmentsUnreadable } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { MANAGED_HSM_ROLES } from "../../../rbac/builtinRoles.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const SECURITY_OFFICERS = "a1000000-0000-4000-8000-000000000001";

describe("rbac_separation_of_duties", () => {
  it("passes every Administrator / Crypto Officer / Crypto User holder of the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS", "PASS", "PASS"]);
  });

  it("passes the drifted estate (its Crypto Officer holds no Crypto User)", () => {
    expect(check(contextFor(loadSnapshot("contoso-drifted"))).map((r) => r.status)).toEqual(["PASS", "PASS", "PASS"]);
  });

  it("fails an Administrator who also holds Crypto User", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).roleAssignments!.push({
      id: "/keys/providers/Microsoft.Authorization/roleAssignments/sod",
      name: "sod",
      scope: "/keys",
      principalId: SECURITY_OFFICERS,
      roleDefinitionId: `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${MANAGED_HSM_ROLES.cryptoUser.guid}`,
    });
    const failed = check(contextFor(snapshot)).filter((r) => r.status === "FAIL");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.resourceName).toContain("Security officers");
    expect(failed[0]?.evidence.observed).toEqual([
      { scope: "/", role: "Managed HSM Administrator" },
      { scope: "/keys", role: "Managed HSM Crypto User" },
    ]);
  });

  it("is UNKNOWN when the role assignments could not be read", () => {
    const snapshot = loadSnapshot();
    roleAssignmentsUnreadable(snapshot);
    const results = check(contextFor(snapshot));
    expect(results.map((r) => r.status)).toEqual(["UNKNOWN"]);
    expect(results[0]?.evidence.collectionErrors?.[0]?.code).toBe("Forbidden");
  });
});
