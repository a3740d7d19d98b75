import { describe, expect, it } from "vitest";
import type { ManagedHsmSnapshot, RoleAssignmentSnapshot, RoleDefinitionSnapshot } from "../../src/lib/estate/snapshot.js";
import { roleDefinitionFor } from "../../src/lib/compliance/query.js";
import { assignmentsOf, wrapAccess } from "../../src/lib/compliance/query/rbac.js";
import { MANAGED_HSM_ROLES, WRAP_DATA_ACTIONS } from "../../src/lib/rbac/builtinRoles.js";

const DEFS = "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions";
const definition = (guid: string, name: string, dataActions: string[], id = `${DEFS}/${guid}`): RoleDefinitionSnapshot => ({
  id,
  name,
  roleName: `role ${name}`,
  assignableScopes: ["/"],
  permissions: [{ actions: [], notActions: [], dataActions, notDataActions: [] }],
});
const assignment = (n: number, principalId: string, scope: string, guid: string): RoleAssignmentSnapshot => ({
  id: `/providers/Microsoft.Authorization/roleAssignments/a${n}`,
  name: `a${n}`,
  scope,
  principalId,
  roleDefinitionId: `${DEFS}/${guid}`,
});
const hsm = (roleAssignments: RoleAssignmentSnapshot[] | null, roleDefinitions: RoleDefinitionSnapshot[] | null): ManagedHsmSnapshot => ({
  resourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/h",
  name: "h",
  subscriptionId: "s",
  resourceGroup: "rg",
  hsmUri: "https://h.managedhsm.azure.net/",
  properties: null,
  regions: null,
  privateEndpointConnections: null,
  diagnosticSettings: null,
  keys: null,
  roleDefinitions,
  roleAssignments,
});

const WRAP = [...WRAP_DATA_ACTIONS];
const CRYPTO_USER = MANAGED_HSM_ROLES.cryptoUser.guid;

describe("RBAC lookups through the per-list index", () => {
  it("finds a principal's assignments case-insensitively, in list order, as a new array each time", () => {
    const list = [assignment(1, "P-ONE", "/keys/k", CRYPTO_USER), assignment(2, "p-two", "/", CRYPTO_USER), assignment(3, "p-one", "/", CRYPTO_USER)];
    const h = hsm(list, []);
    const found = assignmentsOf(h, "p-One");
    expect(found.map((a) => a.name)).toEqual(["a1", "a3"]);
    found.pop();
    expect(assignmentsOf(h, "P-ONE").map((a) => a.name)).toEqual(["a1", "a3"]);
    expect(assignmentsOf(h, "nobody")).toEqual([]);
    expect(assignmentsOf(hsm(null, []), "p-one")).toEqual([]);
  });

  it("resolves a definition by the GUID of its name or its id, the first in the list winning, as find did", () => {
    const guid = "11111111-2222-3333-4444-555555555555";
    const byId = definition(guid, "some-other-name", WRAP);
    const byName = definition("99999999-0000-0000-0000-000000000000", guid.toUpperCase(), []);
    const a = assignment(1, "p", "/", guid);
    expect(roleDefinitionFor(hsm([a], [byId, byName]), a)).toBe(byId);
    expect(roleDefinitionFor(hsm([a], [byName, byId]), a)).toBe(byName);
    expect(roleDefinitionFor(hsm([a], []), a)).toBeUndefined();
    expect(roleDefinitionFor(hsm([a], null), a)).toBeUndefined();
  });

  it("judges wrap access per principal and scope once, and anew when the lists change", () => {
    const defs = [definition(CRYPTO_USER, CRYPTO_USER, ["Microsoft.KeyVault/managedHsm/keys/read/action"])];
    const list = [assignment(1, "p", "/keys/k", CRYPTO_USER)];
    const h = hsm(list, defs);
    const first = wrapAccess(h, "p", "/keys/k");
    expect(first.verdict).toBe("missing");
    expect(first.missing).toHaveLength(2);
    first.missing.length = 0;
    first.covering.length = 0;
    const again = wrapAccess(h, "P", "/keys/K/");
    expect(again.principalId).toBe("P");
    expect(again.missing).toHaveLength(2);
    expect(again.covering).toHaveLength(1);

    // Another definitions list (same assignments): judged again.
    const granting = [definition(CRYPTO_USER, CRYPTO_USER, ["Microsoft.KeyVault/managedHsm/keys/*"])];
    expect(wrapAccess({ ...h, roleDefinitions: granting }, "p", "/keys/k").verdict).toBe("ok");
    // An assignment added to the same list: indexed anew.
    list.push(assignment(2, "q", "/", CRYPTO_USER));
    expect(wrapAccess(hsm(list, granting), "q", "/keys/k").verdict).toBe("ok");
    expect(assignmentsOf(h, "q")).toHaveLength(1);
  });
});
