import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, roleAssignmentsUnreadable, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { MANAGED_HSM_ROLES } from "../../../rbac/builtinRoles.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const SQL_IDENTITY = "b2000000-0000-4000-8000-000000000001";
const STORAGE_IDENTITY = "b2000000-0000-4000-8000-000000000004";

describe("rbac_service_identity_key_scoped", () => {
  it("passes for every consumer identity of the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS", "PASS", "PASS", "PASS"]);
  });

  it("fails exactly the drifted storage identity granted at \"/\"", () => {
    const snapshot = loadSnapshot("contoso-drifted");
    const failed = check(contextFor(snapshot)).filter((r) => r.status === "FAIL");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.resourceId).toBe(snapshot.consumers.storageAccounts![0]!.resourceId);
    expect(failed[0]?.message).toContain(STORAGE_IDENTITY);
    expect(failed[0]?.message).toContain('at "/"');
    expect(failed[0]?.evidence).toMatchObject({
      observed: { grants: [{ scope: "/", role: MANAGED_HSM_ROLES.cryptoServiceEncryptionUser.name }] },
      expected: { scopes: ["/keys/Contoso-STORAGE-CMK"] },
    });
  });

  it("fails an identity holding a broader role than read/wrap/unwrap, even at its own key", () => {
    const snapshot = loadSnapshot();
    const grant = contosoHsm(snapshot).roleAssignments!.find((a) => a.principalId === SQL_IDENTITY)!;
    grant.roleDefinitionId = `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${MANAGED_HSM_ROLES.cryptoUser.guid}`;
    delete grant.roleName;
    const result = check(contextFor(snapshot)).find((r) => r.message.includes(SQL_IDENTITY));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("beyond read/wrap/unwrap");
  });

  it('fails a grant at "/keys"', () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).roleAssignments!.find((a) => a.principalId === SQL_IDENTITY)!.scope = "/keys";
    expect(check(contextFor(snapshot)).find((r) => r.message.includes(SQL_IDENTITY))?.status).toBe("FAIL");
  });

  it("is UNKNOWN when the role assignments could not be read", () => {
    const snapshot = loadSnapshot();
    roleAssignmentsUnreadable(snapshot);
    const results = check(contextFor(snapshot));
    expect(results.map((r) => r.status)).toEqual(["UNKNOWN", "UNKNOWN", "UNKNOWN", "UNKNOWN"]);
    expect(results[0]?.evidence.collectionErrors?.[0]?.code).toBe("Forbidden");
  });

  it("is UNKNOWN for consumers that could not be listed", () => {
    const snapshot = loadSnapshot();
    snapshot.consumers.diskEncryptionSets = [];
    pushError(snapshot, { part: "consumers.diskEncryptionSets", resourceId: "/subscriptions/5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10", operation: "diskEncryptionSets.list", statusCode: 500, code: "InternalServerError", message: "boom" });
    const results = check(contextFor(snapshot));
    expect(results.map((r) => r.status).sort()).toEqual(["PASS", "PASS", "UNKNOWN"]);
  });
});
