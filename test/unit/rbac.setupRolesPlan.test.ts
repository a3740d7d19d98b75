import { describe, expect, it } from "vitest";
import type { DiagnosticSettingSnapshot, RoleAssignmentSnapshot, RoleDefinitionSnapshot } from "../../src/lib/estate/snapshot.js";
import { SETTINGS_READER_ROLE } from "../../src/lib/permissions.js";
import { MANAGED_HSM_ROLES } from "../../src/lib/rbac/builtinRoles.js";
import { assignmentNameFor, isSatisfied, planHsmRoles, planWorkspaceGrant, readerSubscriptionIds } from "../../src/lib/rbac/setupRolesPlan.js";

const P = "a1000000-0000-4000-8000-000000000003";
const def = (guid: string) => `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const assignment = (name: string, role: string, scope: string, principalId = P): RoleAssignmentSnapshot => ({ id: `${scope}/x/${name}`, name, scope, principalId, roleDefinitionId: def(role) });
const settingsReader = (dataActions: string[]): RoleDefinitionSnapshot => ({
  id: def(SETTINGS_READER_ROLE.roleGuid),
  name: SETTINGS_READER_ROLE.roleGuid,
  roleName: SETTINGS_READER_ROLE.roleName,
  assignableScopes: ["/"],
  permissions: [{ actions: [], notActions: [], dataActions, notDataActions: [] }],
});
const officer: RoleDefinitionSnapshot = { id: def(MANAGED_HSM_ROLES.cryptoOfficer.guid), name: MANAGED_HSM_ROLES.cryptoOfficer.guid, roleName: MANAGED_HSM_ROLES.cryptoOfficer.name, assignableScopes: ["/"], permissions: [] };

describe("setup-roles plan", () => {
  it("names each assignment by a GUID that depends on HSM, scope, role and principal only (case-insensitively)", () => {
    const name = assignmentNameFor("HSM-A", "/keys/K1", MANAGED_HSM_ROLES.cryptoUser.guid, P);
    expect(name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(assignmentNameFor("hsm-a", "/keys/k1/", MANAGED_HSM_ROLES.cryptoUser.guid.toUpperCase(), P.toUpperCase())).toBe(name);
    const others = [
      assignmentNameFor("HSM-B", "/keys/K1", MANAGED_HSM_ROLES.cryptoUser.guid, P),
      assignmentNameFor("HSM-A", "/keys/K2", MANAGED_HSM_ROLES.cryptoUser.guid, P),
      assignmentNameFor("HSM-A", "/keys/K1", MANAGED_HSM_ROLES.cryptoAuditor.guid, P),
      assignmentNameFor("HSM-A", "/keys/K1", MANAGED_HSM_ROLES.cryptoUser.guid, "a1000000-0000-4000-8000-000000000004"),
    ];
    expect(new Set([name, ...others]).size).toBe(5);
  });

  it("on an empty HSM plans the custom role and every documented assignment", () => {
    const plan = planHsmRoles({ hsmName: "HSM-A", keyNames: ["K1", "K2"], principalId: P, definitions: [], assignments: [] });
    expect(plan.definitions.map((d) => [d.roleGuid, d.status])).toEqual([[SETTINGS_READER_ROLE.roleGuid, "create"]]);
    expect(plan.assignments.map((a) => [a.roleName, a.scope, a.status])).toEqual([
      [MANAGED_HSM_ROLES.cryptoAuditor.name, "/", "create"],
      [SETTINGS_READER_ROLE.roleName, "/", "create"],
      [MANAGED_HSM_ROLES.cryptoUser.name, "/keys/K1", "create"],
      [MANAGED_HSM_ROLES.cryptoUser.name, "/keys/K2", "create"],
    ]);
    expect(isSatisfied(plan)).toBe(false);
  });

  it("counts an exact assignment under any name, reports broader ones and the principal's other roles, and ignores other principals", () => {
    const plan = planHsmRoles({
      hsmName: "HSM-A",
      keyNames: ["K1"],
      principalId: P.toUpperCase(),
      definitions: [settingsReader(["Microsoft.KeyVault/managedHsm/settings/read/action"]), officer],
      assignments: [
        assignment("n1", MANAGED_HSM_ROLES.cryptoAuditor.guid, "/"),
        assignment("n2", SETTINGS_READER_ROLE.roleGuid, "/"),
        assignment("n3", MANAGED_HSM_ROLES.cryptoUser.guid, "/KEYS/k1"),
        assignment("n4", MANAGED_HSM_ROLES.cryptoUser.guid, "/"),
        assignment("n5", MANAGED_HSM_ROLES.cryptoOfficer.guid, "/"),
        assignment("n6", MANAGED_HSM_ROLES.cryptoUser.guid, "/keys/K1", "a1000000-0000-4000-8000-000000000002"),
      ],
    });
    expect(isSatisfied(plan)).toBe(true);
    expect(plan.assignments.map((a) => a.existingName)).toEqual(["n1", "n2", "n3"]);
    expect(plan.assignments[2]?.broader.map((b) => b.name)).toEqual(["n4"]);
    expect(plan.unexpected.map((u) => [u.name, u.roleName])).toEqual([["n5", MANAGED_HSM_ROLES.cryptoOfficer.name]]);
  });

  it("plans an update of a custom role that grants more, or other, than documented", () => {
    for (const dataActions of [["Microsoft.KeyVault/managedHsm/settings/read/action", "Microsoft.KeyVault/managedHsm/settings/write/action"], ["Microsoft.KeyVault/managedHsm/keys/read/action"]]) {
      const plan = planHsmRoles({ hsmName: "HSM-A", keyNames: [], principalId: P, definitions: [settingsReader(dataActions)], assignments: [] });
      expect(plan.definitions.map((d) => d.status)).toEqual(["update"]);
    }
  });
});

describe("setup-roles: the conditional Log Analytics Reader", () => {
  const SUB = "5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10";
  const CENTRAL = "7c2e9d41-3b5a-4f6e-9a1d-8e0f2b4c6d88";
  const workspaceIn = (sub: string) => `/subscriptions/${sub}/resourceGroups/rg-monitor/providers/Microsoft.OperationalInsights/workspaces/law-security`;
  const setting = (name: string, workspaceId: string | undefined, logs: DiagnosticSettingSnapshot["logs"] = [{ category: "AuditEvent", enabled: true }]): DiagnosticSettingSnapshot => ({
    id: `/x/diagnosticSettings/${name}`,
    name,
    ...(workspaceId === undefined ? {} : { workspaceId }),
    logs,
  });
  const readers = readerSubscriptionIds({ subscriptions: [SUB.toUpperCase()], managedHsms: [] });

  it("Reader's subscriptions are the policy's and each HSM's, lower-cased", () => {
    expect([...readerSubscriptionIds({ subscriptions: [SUB.toUpperCase()], managedHsms: [{ subscriptionId: CENTRAL }, { subscriptionId: SUB }] })]).toEqual([SUB, CENTRAL]);
  });

  it("skips it, saying why, when the audit workspace is in a subscription Reader is granted on", () => {
    const plan = planWorkspaceGrant({ diagnosticSettings: [setting("audit", workspaceIn(SUB.toUpperCase()))], readerSubscriptions: readers });
    expect([plan.permissionId, plan.roleName, plan.status, plan.workspaceId]).toEqual(["arm-log-analytics-reader", "Log Analytics Reader", "skipped", workspaceIn(SUB.toUpperCase())]);
    expect(plan.reason).toBe(`skipped: workspace ${workspaceIn(SUB.toUpperCase())} is in subscription ${SUB}, where KeyWarden's Reader (arm-reader) covers the query`);
  });

  it("asks for it, through targets.json, when the workspace is in a subscription KeyWarden does not read", () => {
    const plan = planWorkspaceGrant({ diagnosticSettings: [setting("audit", workspaceIn(CENTRAL))], readerSubscriptions: readers });
    expect([plan.status, plan.workspaceId]).toEqual(["needed", workspaceIn(CENTRAL)]);
    expect(plan.reason).toContain(`subscription ${CENTRAL}, which KeyWarden does not read`);
    expect(plan.reason).toContain(`deploy infra/targets.json with workspaceResourceId=${workspaceIn(CENTRAL)}`);
  });

  it("judges the workspace KeyWarden queries: the first setting by name that sends AuditEvent to a workspace", () => {
    const settings = [setting("b-audit", workspaceIn(SUB)), setting("a-metrics-only", workspaceIn(CENTRAL), [{ category: "AuditEvent", enabled: false }]), setting("a-storage", undefined)];
    expect(planWorkspaceGrant({ diagnosticSettings: settings, readerSubscriptions: readers }).status).toBe("skipped");
    expect(planWorkspaceGrant({ diagnosticSettings: [...settings, setting("a-central", workspaceIn(CENTRAL), [{ categoryGroup: "audit", enabled: true }])], readerSubscriptions: readers }).status).toBe("needed");
  });

  it("has nothing to grant without an audit workspace, and says it does not know when the settings were not read", () => {
    const none = planWorkspaceGrant({ diagnosticSettings: [setting("storage", undefined)], readerSubscriptions: readers });
    expect([none.status, none.workspaceId]).toEqual(["noWorkspace", undefined]);
    expect(none.reason).toContain("no diagnostic setting of the HSM sends AuditEvent to a workspace");
    const unread = planWorkspaceGrant({ diagnosticSettings: { unread: "403 AuthorizationFailed" }, readerSubscriptions: readers });
    expect(unread.status).toBe("unknown");
    expect(unread.reason).toBe(
      "unknown: could not read the HSM's diagnostic settings (403 AuthorizationFailed); it is needed only if their audit workspace is in a subscription KeyWarden does not read",
    );
  });
});
