/**
 * Azure RBAC for the ARM plane (and the APIs Azure authorises by it: the Log Analytics query API, the metrics batch,
 * Event Grid and Logs Ingestion data actions). Role definitions are the built-ins KeyWarden's documentation names,
 * with the actions Azure defines for them (built-in-roles.md), plus the fixture's custom roles; assignments are the
 * fixture's `armRoleAssignments` and are inherited downward (subscription → resource group → resource → child).
 * A fixture without `armRoleAssignments` leaves the ARM plane unauthorised (every authenticated caller passes).
 */
import { ServiceError } from "../errors.js";
import type { Fixture } from "../fixture.js";

export interface ArmRoleDefinition {
  /** The role definition's GUID (lower case). */
  name: string;
  roleName: string;
  actions: readonly string[];
  notActions: readonly string[];
  dataActions: readonly string[];
  notDataActions: readonly string[];
}

export interface ArmRoleAssignment {
  name: string;
  principalId: string;
  roleDefinitionName: string;
  /** As given (for messages); matching is on the lower-cased form. */
  scope: string;
}

export interface ArmRbacState {
  definitions: Map<string, ArmRoleDefinition>;
  assignments: ArmRoleAssignment[];
}

const builtIn = (name: string, roleName: string, actions: string[], notActions: string[] = [], dataActions: string[] = []): ArmRoleDefinition => ({
  name,
  roleName,
  actions,
  notActions,
  dataActions,
  notDataActions: [],
});

/**
 * The built-in roles the emulator knows, with their permissions as built-in-roles.md lists them (the general ones
 * the Contoso story assigns, and every role KeyWarden's PERMISSIONS names). UNVERIFIED: that today's definitions
 * carry exactly these arrays (they change rarely, but they do change).
 */
export const ARM_BUILT_IN_ROLES: readonly ArmRoleDefinition[] = [
  builtIn("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner", ["*"]),
  builtIn("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor", ["*"], ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action", "Microsoft.Blueprint/blueprintAssignments/write", "Microsoft.Blueprint/blueprintAssignments/delete", "Microsoft.Compute/galleries/share/action", "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete", "Microsoft.Resources/deploymentStacks/manageDenySetting/action", "Microsoft.Subscription/cancel/action", "Microsoft.Subscription/enable/action"]),
  builtIn("acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader", ["*/read"]),
  builtIn("73c42c96-874c-492b-b04d-ab87d138a893", "Log Analytics Reader", ["*/read", "Microsoft.OperationalInsights/workspaces/analytics/query/action", "Microsoft.OperationalInsights/workspaces/search/action", "Microsoft.Support/*"], ["Microsoft.OperationalInsights/workspaces/sharedKeys/read"]),
  builtIn("43d0d8ad-25c7-4714-9337-8ba259a9fe05", "Monitoring Reader", ["*/read", "Microsoft.OperationalInsights/workspaces/search/action", "Microsoft.Support/*"]),
  builtIn("3913510d-42f4-4e42-8a64-420c390055eb", "Monitoring Metrics Publisher", ["Microsoft.Insights/Register/Action", "Microsoft.Support/*", "Microsoft.Resources/subscriptions/resourceGroups/read"], [], ["Microsoft.Insights/Metrics/Write", "Microsoft.Insights/Telemetry/Write"]),
  builtIn("d5a91429-5739-47e2-a06b-3470a27159e7", "EventGrid Data Sender", ["Microsoft.EventGrid/topics/read", "Microsoft.EventGrid/domains/read", "Microsoft.EventGrid/partnerNamespaces/read", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.EventGrid/namespaces/read"], [], ["Microsoft.EventGrid/events/send/action"]),
  builtIn("b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "Storage Blob Data Owner", ["Microsoft.Storage/storageAccounts/blobServices/containers/*", "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"], [], ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*"]),
];

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A role by display name, GUID or full role definition id, among the built-ins and `custom`. */
export function findArmRole(definitions: ReadonlyMap<string, ArmRoleDefinition>, nameOrId: string): ArmRoleDefinition | undefined {
  const tail = nameOrId.split("/").pop()!.toLowerCase();
  if (GUID.test(tail)) return definitions.get(tail);
  const wanted = nameOrId.toLowerCase();
  for (const d of definitions.values()) if (d.roleName.toLowerCase() === wanted) return d;
  return undefined;
}

export function armRoleDefinitionsOf(fixture: Pick<Fixture, "armRoleDefinitions">): Map<string, ArmRoleDefinition> {
  const definitions = new Map<string, ArmRoleDefinition>(ARM_BUILT_IN_ROLES.map((d) => [d.name, d]));
  for (const d of fixture.armRoleDefinitions) {
    const name = d.name.toLowerCase();
    definitions.set(name, { name, roleName: d.roleName, actions: d.actions, notActions: d.notActions, dataActions: d.dataActions, notDataActions: d.notDataActions });
  }
  return definitions;
}

/** The fixture's ARM RBAC, or undefined (ARM unauthorised) when it declares no `armRoleAssignments`. */
export function materialiseArmRbac(fixture: Pick<Fixture, "armRoleDefinitions" | "armRoleAssignments">): ArmRbacState | undefined {
  if (fixture.armRoleAssignments === undefined) return undefined;
  const definitions = armRoleDefinitionsOf(fixture);
  const assignments = fixture.armRoleAssignments.map((a, i) => ({
    name: (a.name ?? `00000000-0000-4000-a000-${String(i + 1).padStart(12, "0")}`).toLowerCase(),
    principalId: a.principalId.toLowerCase(),
    // parseFixture has checked that every role resolves.
    roleDefinitionName: findArmRole(definitions, a.role)!.name,
    scope: normaliseScope(a.scope),
  }));
  return { definitions, assignments };
}

export const normaliseScope = (scope: string): string => "/" + scope.replace(/^\/+|\/+$/g, "");

/** Does `scope` lie at or below `assigned` (segment-wise, case-insensitive)? */
function within(scope: string, assigned: string): boolean {
  const s = scope.toLowerCase();
  const a = assigned.toLowerCase();
  return a === "/" || s === a || s.startsWith(a + "/");
}

/** Azure's action matching: case-insensitive, `*` matches any run of characters (including `/`). */
function matches(pattern: string, action: string): boolean {
  const re = new RegExp("^" + pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$", "i");
  return re.test(action);
}

const grants = (allowed: readonly string[], denied: readonly string[], action: string): boolean =>
  allowed.some((p) => matches(p, action)) && !denied.some((p) => matches(p, action));

/** Does any assignment of `principalId` whose scope covers `scope` grant `action` (or the data action, when `data`)? */
export function isAllowed(rbac: ArmRbacState, principalId: string, action: string, scope: string, data = false): boolean {
  const who = principalId.toLowerCase();
  for (const a of rbac.assignments) {
    if (a.principalId !== who || !within(scope, a.scope)) continue;
    const d = rbac.definitions.get(a.roleDefinitionName);
    if (!d) continue;
    if (data ? grants(d.dataActions, d.notDataActions, action) : grants(d.actions, d.notActions, action)) return true;
  }
  return false;
}

/** ARM's 403 when no assignment covers the action, worded as ARM words it. */
export const armAuthorizationFailed = (principalId: string, action: string, scope: string): ServiceError =>
  new ServiceError(
    403,
    "AuthorizationFailed",
    `The client '${principalId}' with object id '${principalId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );

/** Throws ARM's 403 unless the caller may perform `action` over `scope` (no-op when the ARM plane is unauthorised). */
export function authorizeArm(rbac: ArmRbacState | undefined, principalId: string | undefined, action: string, scope: string): void {
  if (!rbac) return;
  if (principalId && isAllowed(rbac, principalId, action, scope)) return;
  throw armAuthorizationFailed(principalId ?? "", action, scope);
}

const VERB: Record<string, string> = { GET: "read", PUT: "write", PATCH: "write", DELETE: "delete" };

/**
 * The action an ARM request needs: the resource type its path names (after the last `/providers/<namespace>/`, the
 * type segments of the name/type pairs), then read, write or delete; a POST names its own action segment.
 * E.g. `PUT …/Microsoft.Sql/managedInstances/mi/keys/k` → `Microsoft.Sql/managedInstances/keys/write`;
 * `GET /subscriptions/s/providers/Microsoft.Compute/diskEncryptionSets` → `Microsoft.Compute/diskEncryptionSets/read`.
 */
export function armActionOf(method: string, path: string): string {
  const segs = path.split("/").filter((s) => s.length > 0);
  let p = -1;
  for (let i = segs.length - 2; i >= 0; i--) {
    if (segs[i]!.toLowerCase() === "providers") {
      p = i;
      break;
    }
  }
  const verb = VERB[method.toUpperCase()];
  if (p < 0) {
    // Subscription- or resource-group-level paths: Microsoft.Resources.
    const type = segs.length > 2 ? "Microsoft.Resources/subscriptions/resourceGroups" : "Microsoft.Resources/subscriptions";
    return `${type}/${verb ?? segs[segs.length - 1]}`;
  }
  const namespace = segs[p + 1]!;
  const rest = segs.slice(p + 2);
  // Type segments are at even positions (type, name, type, name, ...); a POST's last segment is its action.
  const last = method.toUpperCase() === "POST" && rest.length % 2 === 1 ? rest.pop() : undefined;
  const types = rest.filter((_, i) => i % 2 === 0);
  return `${[namespace, ...types].join("/")}/${verb ?? `${last ?? "action"}/action`}`;
}

/** The scope an ARM request is authorised over: its path, without the operation's own action segment. */
export const armScopeOf = (path: string): string => normaliseScope(path);
