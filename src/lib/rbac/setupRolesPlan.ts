/**
 * What `keywarden setup-roles` must create on one Managed HSM so that KeyWarden's principal holds exactly the
 * HSM-plane rows of the permission table (src/lib/permissions.ts), and nothing it must not touch. Pure: the
 * policy's keys, the HSM's role definitions and assignments as read, and the principal in; a plan out.
 */
import { createHash } from "node:crypto";
import { auditWorkspaceOf } from "../estate/auditWorkspace.js";
import { subscriptionOf } from "../estate/resourceId.js";
import type { DiagnosticSettingSnapshot, RoleAssignmentSnapshot, RoleDefinitionSnapshot } from "../estate/snapshot.js";
import { permissionById, PERMISSIONS, type PermissionGrant } from "../permissions.js";
import { roleDefinitionGuid, scopeCovers } from "./builtinRoles.js";

export const ROLE_DEFINITION_ID_PREFIX = "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/";

/** One role assignment KeyWarden's principal needs on the HSM. */
export interface WantedAssignment {
  /** The permission table row it comes from. */
  permissionId: string;
  roleName: string;
  roleGuid: string;
  /** "/" or "/keys/<key name>". */
  scope: string;
  /** The assignment's name: a GUID derived from (HSM, scope, role, principal), so a rerun names the same one. */
  assignmentName: string;
}

export interface PlannedAssignment extends WantedAssignment {
  /** `present`: an assignment of this role at exactly this scope exists for the principal (`existingName`). */
  status: "present" | "create";
  existingName?: string;
  /** Assignments of the same role to the principal at a scope that contains this one (and more): left in place, reported. */
  broader: RoleAssignmentSnapshot[];
}

/** A custom role KeyWarden defines (the Settings Reader), and whether the HSM has it as documented. */
export interface PlannedDefinition {
  permissionId: string;
  roleName: string;
  roleGuid: string;
  description: string;
  dataActions: string[];
  /** `update`: a definition with this GUID exists but grants other data actions or is not assignable at "/". */
  status: "present" | "create" | "update";
}

export interface HsmRolesPlan {
  hsmName: string;
  principalId: string;
  definitions: PlannedDefinition[];
  assignments: PlannedAssignment[];
  /** The principal's other assignments on this HSM: not in the permission table for this policy. Never deleted. */
  unexpected: RoleAssignmentSnapshot[];
}

/** The permission table's Managed HSM rows. */
export const HSM_PERMISSIONS: readonly PermissionGrant[] = PERMISSIONS.filter((p) => p.plane === "hsm");

/**
 * Keys whose rotation KeyWarden manages: every key of the HSM in the policy (the policy document gives each managed
 * key a rotation policy; there is no per-key switch to turn rotation off), so each gets Crypto User at its own scope.
 */
export function rotatedKeyNames(keys: readonly { name: string }[]): string[] {
  return keys.map((k) => k.name);
}

/** The assignments the permission table asks for on one HSM, in the table's order, keys in the policy's order. */
export function wantedAssignments(hsmName: string, keyNames: readonly string[], principalId: string): WantedAssignment[] {
  const wanted: WantedAssignment[] = [];
  for (const grant of HSM_PERMISSIONS) {
    const scopes = grant.scopeTemplate === "/keys/{keyName}" ? keyNames.map((k) => `/keys/${k}`) : [grant.scopeTemplate];
    if (scopes.some((s) => s.includes("{"))) throw new Error(`permission ${grant.id}: setup-roles cannot expand the scope ${grant.scopeTemplate}`);
    for (const scope of scopes) {
      wanted.push({
        permissionId: grant.id,
        roleName: grant.roleName,
        roleGuid: grant.roleGuid.toLowerCase(),
        scope,
        assignmentName: assignmentNameFor(hsmName, scope, grant.roleGuid, principalId),
      });
    }
  }
  return wanted;
}

/** A GUID (RFC 4122 layout, name-based from sha256) for one (HSM, scope, role, principal): the same on every run. */
export function assignmentNameFor(hsmName: string, scope: string, roleGuid: string, principalId: string): string {
  const hex = createHash("sha256")
    .update(`keywarden-setup-roles|${hsmName.toLowerCase()}|${normaliseScope(scope).toLowerCase()}|${roleGuid.toLowerCase()}|${principalId.toLowerCase()}`)
    .digest("hex");
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function planHsmRoles(input: {
  hsmName: string;
  keyNames: readonly string[];
  principalId: string;
  definitions: readonly RoleDefinitionSnapshot[];
  assignments: readonly RoleAssignmentSnapshot[];
}): HsmRolesPlan {
  const principal = input.principalId.toLowerCase();
  const definitionsByGuid = new Map(input.definitions.map((d) => [d.name.toLowerCase(), d] as const));
  const mine = input.assignments.filter((a) => a.principalId.toLowerCase() === principal);
  // Index the principal's assignments by role and by (role, scope): no search inside the loop below.
  const byRole = new Map<string, RoleAssignmentSnapshot[]>();
  const byRoleScope = new Map<string, RoleAssignmentSnapshot>();
  for (const a of mine) {
    const role = roleDefinitionGuid(a.roleDefinitionId);
    byRole.set(role, [...(byRole.get(role) ?? []), a]);
    byRoleScope.set(`${role} ${normaliseScope(a.scope).toLowerCase()}`, a);
  }
  const accounted = new Set<RoleAssignmentSnapshot>();
  const assignments = wantedAssignments(input.hsmName, input.keyNames, principal).map((w): PlannedAssignment => {
    const scope = normaliseScope(w.scope).toLowerCase();
    const exact = byRoleScope.get(`${w.roleGuid} ${scope}`);
    const broader = (byRole.get(w.roleGuid) ?? []).filter((a) => normaliseScope(a.scope).toLowerCase() !== scope && scopeCovers(a.scope, w.scope));
    if (exact) accounted.add(exact);
    for (const b of broader) accounted.add(b);
    return exact ? { ...w, status: "present", existingName: exact.name, broader } : { ...w, status: "create", broader };
  });

  const definitions = HSM_PERMISSIONS.flatMap((grant): PlannedDefinition[] => {
    if (!grant.custom) return [];
    const dataActions = [...(grant.custom.dataActions ?? [])];
    const existing = definitionsByGuid.get(grant.roleGuid.toLowerCase());
    const status = existing === undefined ? "create" : grantsExactly(existing, dataActions) ? "present" : "update";
    return [{ permissionId: grant.id, roleName: grant.roleName, roleGuid: grant.roleGuid.toLowerCase(), description: grant.custom.description, dataActions, status }];
  });

  return { hsmName: input.hsmName, principalId: principal, definitions, assignments, unexpected: mine.filter((a) => !accounted.has(a)).map((a) => withRoleName(a, definitionsByGuid)) };
}

function withRoleName(a: RoleAssignmentSnapshot, definitions: ReadonlyMap<string, RoleDefinitionSnapshot>): RoleAssignmentSnapshot {
  const roleName = a.roleName ?? definitions.get(roleDefinitionGuid(a.roleDefinitionId))?.roleName;
  return roleName === undefined ? a : { ...a, roleName };
}

/** Nothing to create or update on this HSM. */
export function isSatisfied(plan: HsmRolesPlan): boolean {
  return plan.definitions.every((d) => d.status === "present") && plan.assignments.every((a) => a.status === "present");
}

/** The definition grants exactly these data actions (no actions, no exclusions) and is assignable at "/". */
function grantsExactly(definition: RoleDefinitionSnapshot, dataActions: readonly string[]): boolean {
  const granted = new Set(definition.permissions.flatMap((p) => p.dataActions.map((a) => a.toLowerCase())));
  const others = definition.permissions.some((p) => p.actions.length > 0 || p.notActions.length > 0 || p.notDataActions.length > 0);
  const wanted = new Set(dataActions.map((a) => a.toLowerCase()));
  const same = granted.size === wanted.size && [...wanted].every((a) => granted.has(a));
  return same && !others && definition.assignableScopes.includes("/");
}

function normaliseScope(scope: string): string {
  const s = scope.replace(/\/+$/, "") || "/";
  return s.startsWith("/") ? s : `/${s}`;
}

/** The permission table's conditional ARM row: Log Analytics Reader on an audit workspace that Reader does not cover. */
export const WORKSPACE_GRANT: PermissionGrant = permissionById("arm-log-analytics-reader");

/**
 * What setup-roles says about one HSM's conditional Log Analytics Reader. It makes no ARM assignment (targets.json
 * does), so this is advice: `needed` names the workspace to pass as targets.json's `workspaceResourceId`; `skipped`
 * says why not (Reader covers it); `noWorkspace`: nothing to grant; `unknown`: the diagnostic settings were not read.
 */
export interface WorkspaceGrantPlan {
  permissionId: string;
  roleName: string;
  status: "needed" | "skipped" | "noWorkspace" | "unknown";
  workspaceId?: string;
  /** One sentence for the plan output. */
  reason: string;
}

/** arm-reader's scope: the policy's subscriptions and each HSM's, lower-cased. */
export function readerSubscriptionIds(policy: { subscriptions: readonly string[]; managedHsms: readonly { subscriptionId: string }[] }): ReadonlySet<string> {
  return new Set([...policy.subscriptions, ...policy.managedHsms.map((h) => h.subscriptionId)].map((s) => s.toLowerCase()));
}

/**
 * Whether the HSM's audit workspace (the one KeyWarden queries: auditWorkspaceOf its diagnostic settings) needs Log
 * Analytics Reader: only when its subscription is not one Reader is granted on. `diagnosticSettings` is the read's
 * outcome; `{ unread }` names why it failed.
 */
export function planWorkspaceGrant(input: { diagnosticSettings: readonly DiagnosticSettingSnapshot[] | { unread: string }; readerSubscriptions: ReadonlySet<string> }): WorkspaceGrantPlan {
  const row = { permissionId: WORKSPACE_GRANT.id, roleName: WORKSPACE_GRANT.roleName };
  if ("unread" in input.diagnosticSettings) {
    const { unread } = input.diagnosticSettings;
    return {
      ...row,
      status: "unknown",
      reason: `unknown: could not read the HSM's diagnostic settings (${unread}); it is needed only if their audit workspace is in a subscription KeyWarden does not read`,
    };
  }
  const workspace = auditWorkspaceOf(input.diagnosticSettings);
  if (!workspace) return { ...row, status: "noWorkspace", reason: "not needed: no diagnostic setting of the HSM sends AuditEvent to a workspace (hsm_audit_logging_enabled fails until one does)" };
  const subscription = subscriptionOf(workspace.id);
  if (subscription !== undefined && input.readerSubscriptions.has(subscription)) {
    return { ...row, status: "skipped", workspaceId: workspace.id, reason: `skipped: workspace ${workspace.id} is in subscription ${subscription}, where KeyWarden's Reader (arm-reader) covers the query` };
  }
  return {
    ...row,
    status: "needed",
    workspaceId: workspace.id,
    reason:
      `needed: workspace ${workspace.id} is in ${subscription === undefined ? "no subscription its id names" : `subscription ${subscription}`}, which KeyWarden does not read; ` +
      `it is an ARM role, which setup-roles does not assign: deploy infra/targets.json with workspaceResourceId=${workspace.id}`,
  };
}
