import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, roleAssignmentsUnreadable, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import type { EstateSnapshot } from "../../../estate/snapshot.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const STORAGE_IDENTITY = "b2000000-0000-4000-8000-000000000004";

function withoutAssignmentsOf(snapshot: EstateSnapshot, principalId: string) {
  const hsm = contosoHsm(snapshot);
  hsm.roleAssignments = hsm.roleAssignments!.filter((a) => a.principalId !== principalId);
  return hsm;
}

function storageResult(snapshot: EstateSnapshot) {
  return check(contextFor(snapshot)).find((r) => r.resourceName === "contosoprodcmkst01");
}

function grantCustomRole(snapshot: EstateSnapshot, permissions: { dataActions: string[]; notDataActions: string[] }) {
  const hsm = withoutAssignmentsOf(snapshot, STORAGE_IDENTITY);
  const guid = "c0000000-0000-4000-8000-00000000c001";
  hsm.roleDefinitions!.push({ id: `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${guid}`, name: guid, roleName: "Contoso key user", roleType: "CustomRole", assignableScopes: ["/"], permissions: [{ actions: [], notActions: [], ...permissions }] });
  hsm.roleAssignments!.push({ id: `/keys/providers/Microsoft.Authorization/roleAssignments/x`, name: "x", scope: "/keys", principalId: STORAGE_IDENTITY, roleDefinitionId: `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${guid}` });
}

describe("rbac_consumer_identity_can_wrap", () => {
  it("passes for every consumer of the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => [r.resourceName, r.status])).toEqual([
      ["contoso-sqlmi-01", "PASS"],
      ["des-contoso-centralindia", "PASS"],
      ["des-contoso-southindia", "PASS"],
      ["contosoprodcmkst01", "PASS"],
    ]);
  });

  it("passes on the drifted estate: the storage identity's grant at \"/\" still covers its key", () => {
    expect(check(contextFor(loadSnapshot("contoso-drifted"))).map((r) => r.status)).toEqual(["PASS", "PASS", "PASS", "PASS"]);
  });

  it("fails a consumer whose identity has no grant on its key, naming what is missing", () => {
    const snapshot = loadSnapshot();
    withoutAssignmentsOf(snapshot, STORAGE_IDENTITY);
    const result = storageResult(snapshot);
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("read/wrap/unwrap");
    expect(result?.evidence.observed).toEqual([{ principalId: STORAGE_IDENTITY, grants: [], missing: expect.arrayContaining(["Microsoft.KeyVault/managedHsm/keys/wrap/action"]) }]);
  });

  it("fails when the grant is on another key", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).roleAssignments!.find((a) => a.principalId === STORAGE_IDENTITY)!.scope = "/keys/Contoso-DISK-CMK";
    expect(storageResult(snapshot)?.status).toBe("FAIL");
  });

  it("fails a consumer with no identity", () => {
    const snapshot = loadSnapshot();
    snapshot.consumers.storageAccounts![0]!.identity = null;
    const result = storageResult(snapshot);
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("no managed identity");
  });

  it("resolves custom roles, honouring notDataActions", () => {
    const wildcard = loadSnapshot();
    grantCustomRole(wildcard, { dataActions: ["Microsoft.KeyVault/managedHsm/keys/*"], notDataActions: [] });
    expect(storageResult(wildcard)?.status).toBe("PASS");

    const noUnwrap = loadSnapshot();
    grantCustomRole(noUnwrap, { dataActions: ["Microsoft.KeyVault/managedHsm/keys/*"], notDataActions: ["Microsoft.KeyVault/managedHsm/keys/unwrap/action"] });
    const result = storageResult(noUnwrap);
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("unwrap");
  });

  it("is UNKNOWN when the role assignments could not be read", () => {
    const snapshot = loadSnapshot();
    roleAssignmentsUnreadable(snapshot, "/keys");
    const results = check(contextFor(snapshot));
    expect(results.map((r) => r.status)).toEqual(["UNKNOWN", "UNKNOWN", "UNKNOWN", "UNKNOWN"]);
    expect(results[0]?.evidence.collectionErrors?.[0]?.code).toBe("Forbidden");
  });

  it("is UNKNOWN when a custom role's definition could not be read", () => {
    const snapshot = loadSnapshot();
    grantCustomRole(snapshot, { dataActions: ["Microsoft.KeyVault/managedHsm/keys/*"], notDataActions: [] });
    const hsm = contosoHsm(snapshot);
    hsm.roleDefinitions = null;
    pushError(snapshot, { part: "rbac.roleDefinitions", resourceId: hsm.hsmUri!, operation: "roleDefinitions.list", statusCode: 403, code: "Forbidden", message: "denied" });
    const results = check(contextFor(snapshot));
    expect(storageResult(snapshot)?.status).toBe("UNKNOWN");
    // Built-in Crypto Service Encryption User grants are known without the definitions.
    expect(results.filter((r) => r.status === "PASS")).toHaveLength(3);
  });

  it("is UNKNOWN for the consumers that could not be listed", () => {
    const snapshot = loadSnapshot();
    snapshot.consumers.storageAccounts = [];
    pushError(snapshot, { part: "consumers.storageAccounts", resourceId: "/subscriptions/5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10", operation: "storageAccounts.list", statusCode: 403, code: "AuthorizationFailed", message: "denied" });
    const results = check(contextFor(snapshot));
    expect(results.filter((r) => r.status === "UNKNOWN")).toHaveLength(1);
    expect(results.find((r) => r.status === "UNKNOWN")?.evidence.collectionErrors?.[0]?.code).toBe("AuthorizationFailed");
  });
});
