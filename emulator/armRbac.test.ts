import { describe, expect, it } from "vitest";
import { armActionOf, armAuthorizationFailed, authorizeArm, isAllowed, materialiseArmRbac } from "./backend/armRbac.js";
import { FixtureError, parseFixture } from "./fixture.js";
import { ServiceError } from "./errors.js";

const SUB = "/subscriptions/5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10";
const RG = `${SUB}/resourceGroups/rg-a`;
const P = "c3000000-0000-4000-8000-000000000001";

const rbac = (assignments: { role: string; scope: string }[], definitions: object[] = []) =>
  materialiseArmRbac({ armRoleDefinitions: definitions as never, armRoleAssignments: assignments.map((a) => ({ principalId: P, ...a })) })!;

describe("ARM RBAC (backend/armRbac.ts)", () => {
  it("names the action of a request by its path's resource type and method", () => {
    expect(armActionOf("PUT", `${RG}/providers/Microsoft.Sql/managedInstances/mi/keys/k`)).toBe("Microsoft.Sql/managedInstances/keys/write");
    expect(armActionOf("GET", `${SUB}/providers/Microsoft.Compute/diskEncryptionSets`)).toBe("Microsoft.Compute/diskEncryptionSets/read");
    expect(armActionOf("PATCH", `${RG}/providers/Microsoft.Storage/storageAccounts/sa`)).toBe("Microsoft.Storage/storageAccounts/write");
    expect(armActionOf("GET", `${RG}/providers/Microsoft.KeyVault/managedHSMs/h/providers/Microsoft.Insights/diagnosticSettings`)).toBe("Microsoft.Insights/diagnosticSettings/read");
    expect(armActionOf("GET", `${RG}/providers/Microsoft.Sql/locations/southindia/instanceFailoverGroups`)).toBe("Microsoft.Sql/locations/instanceFailoverGroups/read");
    expect(armActionOf("POST", `${RG}/providers/Microsoft.Storage/storageAccounts/sa/listKeys`)).toBe("Microsoft.Storage/storageAccounts/listKeys/action");
  });

  it("matches wildcards and notActions as Azure does, inherited from the scope downward only", () => {
    const reader = rbac([{ role: "Reader", scope: RG }]);
    expect(isAllowed(reader, P, "Microsoft.Compute/diskEncryptionSets/read", `${RG}/providers/Microsoft.Compute/diskEncryptionSets/d`)).toBe(true);
    expect(isAllowed(reader, P, "Microsoft.Compute/diskEncryptionSets/write", `${RG}/providers/Microsoft.Compute/diskEncryptionSets/d`)).toBe(false);
    expect(isAllowed(reader, P, "Microsoft.Compute/diskEncryptionSets/read", `${SUB}/resourceGroups/rg-b/providers/Microsoft.Compute/diskEncryptionSets/d`)).toBe(false);
    expect(isAllowed(reader, P, "Microsoft.Compute/diskEncryptionSets/read", SUB)).toBe(false);
    // rg-a does not cover rg-ab: scopes compare by whole segments
    expect(isAllowed(reader, P, "Microsoft.Compute/diskEncryptionSets/read", `${RG}b/providers/Microsoft.Compute/diskEncryptionSets/d`)).toBe(false);
    const contributor = rbac([{ role: "Contributor", scope: SUB }]);
    expect(isAllowed(contributor, P, "Microsoft.Storage/storageAccounts/write", `${RG}/providers/Microsoft.Storage/storageAccounts/sa`)).toBe(true);
    expect(isAllowed(contributor, P, "Microsoft.Authorization/roleAssignments/write", RG)).toBe(false);
    expect(isAllowed(contributor, "c3000000-0000-4000-8000-000000000002", "Microsoft.Storage/storageAccounts/read", RG)).toBe(false);
  });

  it("grants a custom role's actions and nothing else; data actions only as data actions", () => {
    const op = rbac([{ role: "Op", scope: SUB }], [{ name: "6f0a3c2e-9b1d-4e57-8c4a-2d7e5b9f1a63", roleName: "Op", actions: ["Microsoft.Compute/diskEncryptionSets/write"], notActions: [], dataActions: [], notDataActions: [] }]);
    expect(isAllowed(op, P, "Microsoft.Compute/diskEncryptionSets/write", `${RG}/providers/Microsoft.Compute/diskEncryptionSets/d`)).toBe(true);
    expect(isAllowed(op, P, "Microsoft.Compute/diskEncryptionSets/read", `${RG}/providers/Microsoft.Compute/diskEncryptionSets/d`)).toBe(false);
    const sender = rbac([{ role: "EventGrid Data Sender", scope: RG }]);
    expect(isAllowed(sender, P, "Microsoft.EventGrid/events/send/action", `${RG}/providers/Microsoft.EventGrid/topics/t`, true)).toBe(true);
    expect(isAllowed(sender, P, "Microsoft.EventGrid/events/send/action", `${RG}/providers/Microsoft.EventGrid/topics/t`)).toBe(false);
  });

  it("refuses with ARM's AuthorizationFailed wording, and not at all without armRoleAssignments", () => {
    const e = armAuthorizationFailed(P, "Microsoft.Compute/diskEncryptionSets/write", `${RG}/providers/Microsoft.Compute/diskEncryptionSets/d`);
    expect(e.status).toBe(403);
    expect(e.toBody()).toEqual({
      error: {
        code: "AuthorizationFailed",
        message: `The client '${P}' with object id '${P}' does not have authorization to perform action 'Microsoft.Compute/diskEncryptionSets/write' over scope '${RG}/providers/Microsoft.Compute/diskEncryptionSets/d' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      },
    });
    expect(() => authorizeArm(rbac([]), P, "Microsoft.Compute/disks/read", SUB)).toThrow(ServiceError);
    expect(() => authorizeArm(undefined, P, "Microsoft.Compute/disks/read", SUB)).not.toThrow();
    expect(materialiseArmRbac({ armRoleDefinitions: [] })).toBeUndefined();
  });

  it("the fixture refuses an assignment of a role it does not know, naming the field", () => {
    const base = { name: "x", tenantId: "8f3d2c1b-6a5e-4d7c-9b8a-1e2f3a4b5c6d", subscriptionId: "5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10" };
    expect(() => parseFixture({ ...base, armRoleAssignments: [{ principalId: P, role: "Key Wizard", scope: SUB }] })).toThrow(FixtureError);
    expect(() => parseFixture({ ...base, armRoleAssignments: [{ principalId: P, role: "Key Wizard", scope: SUB }] })).toThrow(/armRoleAssignments\.0\.role: no ARM role 'Key Wizard'/);
    expect(() => parseFixture({ ...base, armRoleAssignments: [{ principalId: P, role: "Reader", scope: "/keys" }] })).toThrow(/armRoleAssignments\.0\.scope/);
    expect(parseFixture({ ...base, armRoleAssignments: [{ principalId: P, role: "Reader", scope: SUB }] }).armRoleAssignments).toHaveLength(1);
  });
});
