import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, roleAssignmentsUnreadable, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import type { EstateSnapshot } from "../../../estate/snapshot.js";
import { MANAGED_HSM_ROLES } from "../../../rbac/builtinRoles.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const STRANGER = "c0000000-0000-4000-8000-000000000099";
const STORAGE_IDENTITY = "b2000000-0000-4000-8000-000000000004";

function grant(snapshot: EstateSnapshot, principalId: string, scope: string, role: keyof typeof MANAGED_HSM_ROLES) {
  contosoHsm(snapshot).roleAssignments!.push({
    id: `${scope === "/" ? "" : scope}/providers/Microsoft.Authorization/roleAssignments/${principalId}`,
    name: principalId,
    scope,
    principalId,
    roleDefinitionId: `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${MANAGED_HSM_ROLES[role].guid}`,
  });
}

const resultFor = (snapshot: EstateSnapshot, principalId: string) => check(contextFor(snapshot)).find((r) => r.resourceId.endsWith(`/principals/${principalId}`));

describe("rbac_unexpected_principals", () => {
  it("passes every principal with key access in the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS", "PASS", "PASS", "PASS", "PASS", "PASS", "PASS"]);
    // The Administrator role has no key data actions, but it can grant itself any: the security officers are listed.
    expect(results.find((r) => r.resourceName.includes("Security officers"))?.status).toBe("PASS");
  });

  it("fails exactly the drifted storage identity, whose grant at \"/\" reaches keys it does not use", () => {
    const failed = check(contextFor(loadSnapshot("contoso-drifted"))).filter((r) => r.status === "FAIL");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.resourceId).toMatch(new RegExp(`/principals/${STORAGE_IDENTITY}$`));
    expect(failed[0]?.resourceName).toContain("contosoprodcmkst01");
    expect(failed[0]?.message).toContain("the consumer identity of Contoso-STORAGE-CMK only");
  });

  it("fails a principal the policy does not know", () => {
    const snapshot = loadSnapshot();
    grant(snapshot, STRANGER, "/keys/Contoso-SQLMI-CMK", "cryptoAuditor");
    const result = resultFor(snapshot, STRANGER);
    expect(result?.status).toBe("FAIL");
    expect(result?.evidence.observed).toMatchObject({ keyAccess: [{ scope: "/keys/Contoso-SQLMI-CMK", role: "Managed HSM Crypto Auditor" }], consumerOfKeys: [] });
  });

  it("passes a principal listed in otherExpectedPrincipals", () => {
    const snapshot = loadSnapshot();
    grant(snapshot, STRANGER, "/", "cryptoAuditor");
    const ctx = contextFor(snapshot);
    ctx.policy.managedHsms[0]!.otherExpectedPrincipals.push({ principalId: STRANGER, displayName: "Auditors" });
    expect(check(ctx).find((r) => r.resourceId.endsWith(STRANGER))?.status).toBe("PASS");
  });

  it("does not list a principal without key data actions or an administrative role", () => {
    const snapshot = loadSnapshot();
    grant(snapshot, STRANGER, "/", "backup");
    contosoHsm(snapshot).roleDefinitions = contosoHsm(snapshot).roleDefinitions!.map((d) =>
      d.name === MANAGED_HSM_ROLES.backup.guid ? { ...d, permissions: [{ actions: [], notActions: [], dataActions: ["Microsoft.KeyVault/managedHsm/backup/start/action"], notDataActions: [] }] } : d,
    );
    expect(resultFor(snapshot, STRANGER)).toBeUndefined();
  });

  it.each(["policyAdministrator", "cryptoOfficer", "administrator"] as const)("fails an unexpected %s: it can grant itself key access", (role) => {
    const snapshot = loadSnapshot();
    grant(snapshot, STRANGER, "/", role);
    const result = resultFor(snapshot, STRANGER);
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("an administrative role that can grant itself key access");
    expect(result?.evidence.observed).toMatchObject({ administrativeRoles: [{ scope: "/", role: MANAGED_HSM_ROLES[role].name }] });
  });

  it("fails a consumer identity that also holds Policy Administrator at its own key scope", () => {
    const snapshot = loadSnapshot();
    grant(snapshot, STORAGE_IDENTITY, "/keys/Contoso-STORAGE-CMK", "policyAdministrator");
    expect(resultFor(snapshot, STORAGE_IDENTITY)?.status).toBe("FAIL");
  });

  it("is UNKNOWN for a principal at a key scope when the consumers could not all be read", () => {
    const snapshot = loadSnapshot();
    grant(snapshot, STRANGER, "/keys/Contoso-DISK-CMK", "cryptoServiceEncryptionUser");
    snapshot.consumers.diskEncryptionSets = [];
    pushError(snapshot, { part: "consumers.diskEncryptionSets", resourceId: "/subscriptions/5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10", operation: "diskEncryptionSets.list", statusCode: 403, code: "AuthorizationFailed", message: "denied" });
    const result = resultFor(snapshot, STRANGER);
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.code).toBe("AuthorizationFailed");
  });

  it("is UNKNOWN when the role assignments could not be read", () => {
    const snapshot = loadSnapshot();
    roleAssignmentsUnreadable(snapshot);
    const results = check(contextFor(snapshot));
    expect(results.map((r) => r.status)).toEqual(["UNKNOWN"]);
    expect(results[0]?.evidence.collectionErrors?.[0]?.code).toBe("Forbidden");
  });

  it("is UNKNOWN for an unexpected principal whose role definitions could not be read", () => {
    const snapshot = loadSnapshot();
    grant(snapshot, STRANGER, "/keys/Contoso-SQLMI-CMK", "cryptoAuditor");
    const hsm = contosoHsm(snapshot);
    hsm.roleDefinitions = null;
    pushError(snapshot, { part: "rbac.roleDefinitions", resourceId: hsm.hsmUri!, operation: "roleDefinitions.list", statusCode: 403, code: "Forbidden", message: "denied" });
    expect(resultFor(snapshot, STRANGER)?.status).toBe("UNKNOWN");
  });
});
