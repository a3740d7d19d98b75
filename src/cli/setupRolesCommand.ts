import type { AzureClients } from "../lib/azure/clients.js";
import { AzureRequestError, call } from "../lib/azure/errors.js";
import type { AppSettings, KeyWardenConfig, ManagedHsmPolicy } from "../lib/config/types.js";
import { derivedHsmUri } from "../lib/inventory/collect.js";
import type { RoleAssignmentSnapshot, RoleDefinitionSnapshot } from "../lib/estate/snapshot.js";
import { MANAGED_HSM_ROLES } from "../lib/rbac/builtinRoles.js";
import { renderTable } from "../lib/text/table.js";
import {
  isSatisfied,
  planHsmRoles,
  planWorkspaceGrant,
  readerSubscriptionIds,
  ROLE_DEFINITION_ID_PREFIX,
  rotatedKeyNames,
  type HsmRolesPlan,
  type WorkspaceGrantPlan,
} from "../lib/rbac/setupRolesPlan.js";
import type { ParsedArgs } from "./args.js";
import type { RotationIo } from "./rotationCommands.js";
import { UsageError } from "./usageError.js";

export interface SetupRolesDeps {
  config: KeyWardenConfig;
  clients(): Promise<AzureClients>;
}

/** The caller may not read or write the HSM's local RBAC: exit 1, with the role it needs. */
export class HsmRbacAccessError extends Error {
  override readonly name = "HsmRbacAccessError";
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EXIT_OK = 0;
const EXIT_FAILURE = 1;

/**
 * `keywarden setup-roles`: gives KeyWarden's principal exactly the Managed HSM rows of the permission table on every
 * HSM in the policy — creating the Settings Reader custom role where it is absent — then reads them back. Run by a
 * holder of Managed HSM Administrator. Never deletes: an assignment broader than the table asks for is reported.
 * It also says, per HSM, whether the conditional ARM row (Log Analytics Reader on the audit workspace) is needed, and
 * skips it with the reason when Reader covers the workspace; ARM roles are targets.json's to assign.
 */
export async function setupRolesCommand(args: ParsedArgs, io: RotationIo, deps: SetupRolesDeps): Promise<number> {
  const principalId = principalOf(args, deps.config.settings);
  const dryRun = args.options.has("dry-run");
  const clients = await deps.clients();
  const hsms = deps.config.policy.managedHsms.map((policy) => ({ policy, uri: derivedHsmUri(policy.name, deps.config.settings) }));

  const plans: HsmRolesPlan[] = [];
  for (const hsm of hsms) plans.push(await planFor(clients, hsm.policy, hsm.uri, principalId));
  const readers = readerSubscriptionIds(deps.config.policy);
  const workspaceGrants: WorkspaceGrantPlan[] = [];
  for (const hsm of hsms) workspaceGrants.push(await workspaceGrantFor(clients, hsm.policy, readers));
  io.stdout(plans.map((plan, i) => renderPlan(plan, workspaceGrants[i] as WorkspaceGrantPlan)).join("\n"));

  if (plans.every(isSatisfied)) {
    io.stdout(`Nothing to do: principal ${principalId} holds every Managed HSM role of the permission table on ${plural(plans.length, "HSM")}.\n`);
    return EXIT_OK;
  }
  const changes = plans.reduce((n, p) => n + p.definitions.filter((d) => d.status !== "present").length + p.assignments.filter((a) => a.status === "create").length, 0);
  if (dryRun) {
    io.stdout(`Dry run: ${plural(changes, "change")} planned, nothing was changed.\n`);
    return EXIT_OK;
  }
  if (!args.options.has("yes")) {
    if (!io.isTerminal || !io.prompt) throw new UsageError("setup-roles changes the HSMs' role assignments: pass --yes to run it without a terminal to confirm on (or --dry-run to see what it would do)");
    const answer = await io.prompt(`Make ${plural(changes, "change")} for principal ${principalId}? Type "yes" to go on: `);
    if (answer.trim().toLowerCase() !== "yes") {
      io.stderr("Not confirmed: nothing was changed.\n");
      return EXIT_OK;
    }
  }

  for (const [index, hsm] of hsms.entries()) await apply(clients, hsm.policy.name, hsm.uri, plans[index] as HsmRolesPlan, io);

  // Read everything back: the HSM's own answer, not what was sent, decides.
  const unmet: string[] = [];
  for (const hsm of hsms) {
    const after = await planFor(clients, hsm.policy, hsm.uri, principalId);
    for (const d of after.definitions.filter((x) => x.status !== "present")) unmet.push(`${hsm.policy.name}: role definition ${d.roleName} (${d.roleGuid}) is ${d.status === "create" ? "absent" : "not as documented"}`);
    for (const a of after.assignments.filter((x) => x.status !== "present")) unmet.push(`${hsm.policy.name}: ${a.roleName} at ${a.scope} is not assigned`);
  }
  if (unmet.length > 0) {
    io.stderr(`Verification failed: the HSM does not show what was created:\n${unmet.map((u) => `  ${u}`).join("\n")}\n`);
    return EXIT_FAILURE;
  }
  io.stdout(`Verified: principal ${principalId} now holds every Managed HSM role of the permission table on ${plural(hsms.length, "HSM")} (${plural(changes, "change")} made).\n`);
  return EXIT_OK;
}

function principalOf(args: ParsedArgs, settings: AppSettings): string {
  const option = args.options.get("principal");
  if (typeof option === "string") {
    if (!GUID.test(option)) throw new UsageError(`--principal: "${option}" is not an object id (a GUID: the principalId of KeyWarden's managed identity)`);
    return option.toLowerCase();
  }
  if (settings.principalId !== undefined) return settings.principalId;
  throw new UsageError(
    "setup-roles needs KeyWarden's principal: pass --principal <object id> (or set KEYWARDEN_PRINCIPAL_ID) — the function app's managed identity object id, " +
      "the template's principalId output or `az functionapp identity show --name <app> --resource-group <group> --query principalId -o tsv`",
  );
}

/** Reads the definitions and the assignments at "/", "/keys" and each key (Azure does not document that "/" lists them all). */
async function planFor(clients: AzureClients, policy: ManagedHsmPolicy, uri: string, principalId: string): Promise<HsmRolesPlan> {
  const roles = clients.hsmRoles(uri);
  const keyNames = rotatedKeyNames(policy.keys);
  const definitions: RoleDefinitionSnapshot[] = await refusedAs(policy.name, "read its role definitions", () => roles.listRoleDefinitions("/"));
  const byId = new Map<string, RoleAssignmentSnapshot>();
  for (const scope of ["/", "/keys", ...keyNames.map((k) => `/keys/${k}`)]) {
    for (const a of await refusedAs(policy.name, `read its role assignments at ${scope}`, () => roles.listRoleAssignments(scope))) byId.set(`${a.scope.toLowerCase()} ${a.name.toLowerCase()}`, a);
  }
  return planHsmRoles({ hsmName: policy.name, keyNames, principalId, definitions, assignments: [...byId.values()] });
}

/** The HSM's diagnostic settings, read through ARM (as the caller), decide whether its workspace needs Log Analytics Reader. */
async function workspaceGrantFor(clients: AzureClients, policy: ManagedHsmPolicy, readerSubscriptions: ReadonlySet<string>): Promise<WorkspaceGrantPlan> {
  try {
    return planWorkspaceGrant({ diagnosticSettings: await clients.diagnosticSettings.list(policy.resourceId), readerSubscriptions });
  } catch (error) {
    // Advice only: an HSM Administrator without ARM read access still gets the HSM roles.
    const unread = error instanceof AzureRequestError ? `${error.statusCode ?? "no response"}${error.code ? ` ${error.code}` : ""}` : error instanceof Error ? error.message : String(error);
    return planWorkspaceGrant({ diagnosticSettings: { unread }, readerSubscriptions });
  }
}

async function apply(clients: AzureClients, hsmName: string, uri: string, plan: HsmRolesPlan, io: RotationIo): Promise<void> {
  const rbac = clients.hsmRbac(uri);
  // Definitions first: an assignment of a custom role needs the role to exist.
  for (const d of plan.definitions.filter((x) => x.status !== "present")) {
    await refusedAs(hsmName, `${d.status} the role definition ${d.roleName}`, () =>
      rbac.createOrUpdateRoleDefinition(d.roleGuid, {
        roleName: d.roleName,
        description: d.description,
        permissions: [{ actions: [], notActions: [], dataActions: [...d.dataActions], notDataActions: [] }],
        assignableScopes: ["/"],
      }),
    );
    io.stdout(`${hsmName}: ${d.status === "create" ? "created" : "updated"} role definition ${d.roleName} (${d.roleGuid})\n`);
  }
  for (const a of plan.assignments.filter((x) => x.status === "create")) {
    const what = `assign ${a.roleName} at ${a.scope}`;
    try {
      await call(what, hsmName, () => rbac.createRoleAssignment(a.scope, a.assignmentName, { roleDefinitionId: `${ROLE_DEFINITION_ID_PREFIX}${a.roleGuid}`, principalId: plan.principalId }));
      io.stdout(`${hsmName}: assigned ${a.roleName} at ${a.scope} (${a.assignmentName})\n`);
    } catch (error) {
      // The name is derived from what it grants: an assignment by that name is this one, made by a run the list did not show yet.
      if (!(error instanceof AzureRequestError && error.statusCode === 409)) throw failureOf(hsmName, what, error);
      io.stdout(`${hsmName}: ${a.roleName} at ${a.scope} already exists (${a.assignmentName})\n`);
    }
  }
}

/** Runs one HSM call; a failure is rethrown by `failureOf`. */
async function refusedAs<T>(hsmName: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await call(what, hsmName, fn);
  } catch (error) {
    throw failureOf(hsmName, what, error);
  }
}

/** A 401/403 from the HSM becomes a message naming the role the caller needs; anything else names the HSM and the step. */
function failureOf(hsmName: string, what: string, error: unknown): Error {
  if (error instanceof AzureRequestError && (error.statusCode === 403 || error.statusCode === 401)) {
    return new HsmRbacAccessError(
      `Managed HSM ${hsmName} refused to let the caller ${what} (${error.statusCode}${error.code ? ` ${error.code}` : ""}): setup-roles must run as a holder of ` +
        `${MANAGED_HSM_ROLES.administrator.name} on that HSM (its local RBAC, scope /), e.g. a security officer signed in with az login.`,
      { cause: error },
    );
  }
  return new Error(`Managed HSM ${hsmName}: could not ${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

function renderPlan(plan: HsmRolesPlan, workspaceGrant: WorkspaceGrantPlan): string {
  const rows: string[][] = [];
  for (const d of plan.definitions) rows.push([`${d.roleName} (role definition)`, "/", d.status, d.roleGuid]);
  for (const a of plan.assignments) rows.push([a.roleName, a.scope, a.status, a.existingName ?? a.assignmentName]);
  const table = renderTable(["ROLE", "SCOPE", "STATUS", "NAME"], rows, "  ");
  const notes: string[] = [];
  // One note per broader assignment, naming every narrow scope it stands in for.
  const broader = new Map<string, { roleName: string; scope: string; name: string; covers: string[] }>();
  for (const a of plan.assignments) {
    for (const b of a.broader) {
      const key = `${b.scope.toLowerCase()} ${b.name.toLowerCase()}`;
      const entry = broader.get(key) ?? { roleName: a.roleName, scope: b.scope, name: b.name, covers: [] };
      entry.covers.push(a.scope);
      broader.set(key, entry);
    }
  }
  for (const b of broader.values()) {
    notes.push(
      `  too broad: ${b.roleName} at ${b.scope} (assignment ${b.name}); KeyWarden needs it only at ${b.covers.join(", ")}. Left in place: once the ` +
        `narrow assignments are verified, remove it with\n    az keyvault role assignment delete --hsm-name ${plan.hsmName} --assignee ${plan.principalId} --role "${b.roleName}" --scope ${b.scope}`,
    );
  }
  for (const u of plan.unexpected) {
    notes.push(`  not in the permission table: ${u.roleName ?? u.roleDefinitionId} at ${u.scope} (assignment ${u.name}); left in place, review whether KeyWarden needs it`);
  }
  notes.push(`  ${workspaceGrant.roleName} (ARM, ${workspaceGrant.permissionId}) on the audit workspace: ${workspaceGrant.reason}`);
  return `Managed HSM ${plan.hsmName}: roles of principal ${plan.principalId}\n${table}\n${notes.length > 0 ? `${notes.join("\n")}\n` : ""}`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
