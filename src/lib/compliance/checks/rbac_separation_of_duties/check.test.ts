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

  it.each([
    ["cryptoOfficer", "Managed HSM Crypto Officer"],
    ["policyAdministrator", "Managed HSM Policy Administrator"],
  ] as const)("fails a %s who also holds Crypto User: it can grant itself Administrator", (role, roleName) => {
    const snapshot = loadSnapshot();
    const KEY_MANAGEMENT_TEAM = "a1000000-0000-4000-8000-000000000002";
    contosoHsm(snapshot).roleAssignments!.push({
      id: "/providers/Microsoft.Authorization/roleAssignments/sod",
      name: "sod",
      scope: "/",
      principalId: KEY_MANAGEMENT_TEAM,
      roleDefinitionId: `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${MANAGED_HSM_ROLES[role].guid}`,
    });
    const failed = check(contextFor(snapshot)).filter((r) => r.status === "FAIL");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.resourceName).toContain("Key management team");
    expect(failed[0]?.evidence.observed).toEqual([
      { scope: "/", role: roleName },
      { scope: "/", role: "Managed HSM Crypto User" },
    ]);
  });

  it("passes a Policy Administrator without Crypto User, and fails a custom role that writes role assignments held with Crypto User", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    const STRANGER = "c0000000-0000-4000-8000-000000000099";
    const policyAdmin = `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${MANAGED_HSM_ROLES.policyAdministrator.guid}`;
    hsm.roleAssignments!.push({ id: "/providers/Microsoft.Authorization/roleAssignments/pa", name: "pa", scope: "/", principalId: STRANGER, roleDefinitionId: policyAdmin });
    const stranger = check(contextFor(snapshot)).find((r) => r.resourceId.endsWith(STRANGER));
    expect(stranger?.status).toBe("PASS");

    const custom = "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-4000-8000-00000000c0de";
    hsm.roleDefinitions!.push({
      id: custom,
      name: "00000000-0000-4000-8000-00000000c0de",
      roleName: "Grant anything",
      roleType: "CustomRole",
      assignableScopes: ["/"],
      permissions: [{ actions: [], notActions: [], dataActions: ["Microsoft.KeyVault/managedHsm/roleAssignments/*"], notDataActions: [] }],
    });
    const KEYWARDEN = "a1000000-0000-4000-8000-000000000003";
    hsm.roleAssignments!.push({ id: "/providers/Microsoft.Authorization/roleAssignments/c", name: "c", scope: "/", principalId: KEYWARDEN, roleDefinitionId: custom, roleName: "Grant anything" });
    const keywarden = check(contextFor(snapshot)).find((r) => r.resourceId.endsWith(KEYWARDEN));
    expect(keywarden?.status).toBe("FAIL");
    expect(keywarden?.message).toContain("Grant anything");
  });

  it("is UNKNOWN when the role assignments could not be read", () => {
    const snapshot = loadSnapshot();
    roleAssignmentsUnreadable(snapshot);
    const results = check(contextFor(snapshot));
    expect(results.map((r) => r.status)).toEqual(["UNKNOWN"]);
    expect(results[0]?.evidence.collectionErrors?.[0]?.code).toBe("Forbidden");
  });
});
