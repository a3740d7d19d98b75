import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, roleAssignmentsUnreadable } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { MANAGED_HSM_ROLES } from "../../../rbac/builtinRoles.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const KEY_MANAGEMENT_TEAM = "a1000000-0000-4000-8000-000000000002";

describe("rbac_key_management_crypto_user", () => {
  it("passes every key-management principal of the reference estate (at \"/\"), and Crypto User at \"/keys\" too", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS"]);
    expect(results[0]?.evidence.observed).toContainEqual({ scope: "/", role: "Managed HSM Crypto User" });
    // KeyWarden itself holds Crypto User per key only (src/lib/permissions.ts), so it is not a key-management principal.
    const atKeys = loadSnapshot();
    const team = (atKeys.managedHsms[0]!.roleAssignments ?? []).filter((a) => a.principalId === KEY_MANAGEMENT_TEAM && a.roleName === "Managed HSM Crypto User");
    expect(team).toHaveLength(1);
    team[0]!.scope = "/keys";
    const moved = check(contextFor(atKeys));
    expect(moved.map((r) => r.status)).toEqual(["PASS"]);
    expect(moved[0]?.evidence.observed).toContainEqual({ scope: "/keys", role: "Managed HSM Crypto User" });
  });

  it("fails exactly the drifted key-management team, calling out the Crypto Officer confusion", () => {
    const results = check(contextFor(loadSnapshot("contoso-drifted")));
    const failed = results.filter((r) => r.status === "FAIL");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.resourceId).toMatch(new RegExp(`/principals/${KEY_MANAGEMENT_TEAM}$`));
    expect(failed[0]?.message).toContain("Crypto Officer instead of Crypto User");
    expect(failed[0]?.message).toContain("cannot create or rotate keys");
    expect(failed[0]?.evidence.observed).toEqual([{ scope: "/", role: "Managed HSM Crypto Officer" }]);
  });

  it("fails a principal holding Policy Administrator instead of Crypto User, as an administrative role", () => {
    const snapshot = loadSnapshot();
    const assignment = contosoHsm(snapshot).roleAssignments!.find((a) => a.principalId === KEY_MANAGEMENT_TEAM)!;
    assignment.roleDefinitionId = `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${MANAGED_HSM_ROLES.policyAdministrator.guid}`;
    assignment.roleName = MANAGED_HSM_ROLES.policyAdministrator.name;
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("Policy Administrator instead of Crypto User");
    expect(result?.message).toContain("can grant itself Administrator");
  });

  it("fails a principal holding Crypto User only at a key scope", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).roleAssignments!.find((a) => a.principalId === KEY_MANAGEMENT_TEAM)!.scope = "/keys/Contoso-SQLMI-CMK";
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("only at key scope");
  });

  it("fails a principal with no role at all", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.roleAssignments = hsm.roleAssignments!.filter((a) => a.principalId !== KEY_MANAGEMENT_TEAM);
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("no Crypto User role");
  });

  it("is UNKNOWN when the role assignments could not be read", () => {
    const snapshot = loadSnapshot();
    roleAssignmentsUnreadable(snapshot, "/keys");
    const results = check(contextFor(snapshot));
    expect(results.map((r) => r.status)).toEqual(["UNKNOWN"]);
    expect(results[0]?.evidence.collectionErrors?.[0]?.code).toBe("Forbidden");
  });
});
