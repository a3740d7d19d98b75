import type { ManagedHsmPolicy } from "../../config/types.js";
import type { CollectionError, Consumer, ManagedHsmSnapshot, RoleAssignmentSnapshot, RoleDefinitionSnapshot, SnapshotPart } from "../../estate/snapshot.js";
import { hsmHost } from "../../estate/keyReference.js";
import { consumerRef, hsmRef } from "../../estate/partRef.js";
import { MANAGED_HSM_ROLES, WRAP_DATA_ACTIONS, roleDefinitionGuid, scopeCovers } from "../../rbac/builtinRoles.js";
import { consumerKeyReference, consumerPrincipalIds, roleDefinitionFor, roleLabel } from "../query.js";
import { errorsFor, type ResourceRef } from "../result.js";
import { assignmentIndex } from "./rbacIndex.js";
import { unreadSubscriptions } from "./unread.js";
import type { CheckContext, EvidenceValue } from "../types.js";

/** Shared lookups over Managed HSM local RBAC for the rbac_ controls. */

/**
 * Managed HSM role assignment limits (azure-facts.md H8, includes/key-vault-limits.md): 50 at HSM scope
 * ("/" and "/keys" together), 10 per key scope. Azure service limits, not policy choices.
 */
export const ROLE_ASSIGNMENT_LIMITS = { hsmScope: 50, keyScope: 10 } as const;
/** A count this close to its limit (as a fraction of it) is reported before it blocks the next grant. */
export const LIMIT_WARNING_FRACTION = 0.2;

const KEYS_PREFIX = "microsoft.keyvault/managedhsm/keys/";

/**
 * Managed HSM data actions (learn.microsoft.com/azure/key-vault/managed-hsm/built-in-roles), used to
 * expand wildcard dataActions such as ".../keys/*" so that notDataActions can be subtracted from them.
 */
const MANAGED_HSM_DATA_ACTIONS = [
  ...["read/action", "write/action", "create", "delete", "rotate/action", "import/action", "release/action", "backup/action", "restore/action"],
  ...["encrypt/action", "decrypt/action", "wrap/action", "unwrap/action", "sign/action", "verify/action", "derive/action", "export/action"],
  ...["deletedKeys/read/action", "deletedKeys/recover/action", "deletedKeys/delete"],
].map((a) => `Microsoft.KeyVault/managedHsm/keys/${a}`).concat(
  [
    ...["roleAssignments/read/action", "roleAssignments/write/action", "roleAssignments/delete/action"],
    ...["roleDefinitions/read/action", "roleDefinitions/write/action", "roleDefinitions/delete/action"],
    ...["securitydomain/download/action", "securitydomain/download/read", "securitydomain/upload/action", "securitydomain/upload/read", "securitydomain/transferkey/read"],
    ...["backup/start/action", "backup/status/action", "restore/start/action", "restore/status/action", "settings/read/action", "settings/write/action", "rng/action"],
  ].map((a) => `Microsoft.KeyVault/managedHsm/${a}`),
);

/** Normalised HSM RBAC scope: "/", "/keys" or "/keys/<name>", lower-cased, no trailing slash. */
export function normalScope(scope: string): string {
  return (scope.replace(/\/+$/, "") || "/").toLowerCase();
}

export function keyScope(keyName: string): string {
  return `/keys/${keyName}`;
}

/** Is `scope` exactly the scope of one of `keyNames`? */
export function isScopeOfKeys(scope: string, keyNames: readonly string[]): boolean {
  return keyNames.some((k) => normalScope(scope) === normalScope(keyScope(k)));
}

/** Compiled wildcard patterns: a role's few patterns are tested against every consumer's actions. */
const patterns = new Map<string, RegExp>();

function matches(pattern: string, action: string): boolean {
  let regex = patterns.get(pattern);
  if (regex === undefined) {
    regex = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, "\\$&")).join(".*")}$`, "i");
    patterns.set(pattern, regex);
  }
  return regex.test(action);
}

/** Does the role grant `action`? Azure semantics: some permission allows it and that permission's notDataActions do not take it away. */
export function roleGrants(definition: RoleDefinitionSnapshot, action: string): boolean {
  return definition.permissions.some((p) => p.dataActions.some((d) => matches(d, action)) && !p.notDataActions.some((n) => matches(n, action)));
}

/** The data actions a role effectively grants (wildcards expanded over the known Managed HSM actions). */
export function grantedDataActions(definition: RoleDefinitionSnapshot): string[] {
  // The same role is judged for every consumer identity; a snapshot's definitions are not changed once read.
  let granted = grantedCache.get(definition.permissions);
  if (granted === undefined) {
    granted = computeGrantedDataActions(definition);
    grantedCache.set(definition.permissions, granted);
  }
  return [...granted];
}

const grantedCache = new WeakMap<RoleDefinitionSnapshot["permissions"], string[]>();

function computeGrantedDataActions(definition: RoleDefinitionSnapshot): string[] {
  const literal = definition.permissions.flatMap((p) => p.dataActions.filter((d) => !d.includes("*")));
  const candidates = new Map([...MANAGED_HSM_DATA_ACTIONS, ...literal].map((a) => [a.toLowerCase(), a]));
  return [...candidates.values()].filter((a) => roleGrants(definition, a));
}

/**
 * The data actions an assignment grants, or null when its role definition is unknown (definitions not
 * read, or the role is not among them). The built-in Crypto Service Encryption User is read/wrap/unwrap
 * by definition, so it is known without the definition list.
 */
export function assignmentDataActions(hsm: ManagedHsmSnapshot, assignment: RoleAssignmentSnapshot): string[] | null {
  const definition = roleDefinitionFor(hsm, assignment);
  if (definition) return grantedDataActions(definition);
  return hasRole(assignment, "cryptoServiceEncryptionUser") ? [...WRAP_DATA_ACTIONS] : null;
}

export function hasRole(assignment: RoleAssignmentSnapshot, role: keyof typeof MANAGED_HSM_ROLES): boolean {
  return roleDefinitionGuid(assignment.roleDefinitionId) === MANAGED_HSM_ROLES[role].guid;
}

/**
 * The built-in roles that manage role assignments. Crypto Officer and Policy Administrator can grant themselves
 * Administrator (Microsoft documents this as by design), so all three are administrative, whatever their names say.
 */
export const ADMINISTRATIVE_ROLES = ["administrator", "cryptoOfficer", "policyAdministrator"] as const satisfies readonly (keyof typeof MANAGED_HSM_ROLES)[];

const ROLE_ASSIGNMENT_WRITE = "Microsoft.KeyVault/managedHsm/roleAssignments/write/action";

/**
 * Is the assignment's role administrative: a built-in role of ADMINISTRATIVE_ROLES, or a custom role that may write
 * role assignments (its holder can grant itself any role, and so any key access)?
 */
export function isAdministrative(hsm: ManagedHsmSnapshot, assignment: RoleAssignmentSnapshot): boolean {
  if (ADMINISTRATIVE_ROLES.some((role) => hasRole(assignment, role))) return true;
  const definition = roleDefinitionFor(hsm, assignment);
  return definition !== undefined && roleGrants(definition, ROLE_ASSIGNMENT_WRITE);
}

export function isKeyDataAction(action: string): boolean {
  return action.toLowerCase().startsWith(KEYS_PREFIX);
}

export function sameAction(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function assignmentsOf(hsm: ManagedHsmSnapshot, principalId: string): RoleAssignmentSnapshot[] {
  if (!hsm.roleAssignments) return [];
  return [...(assignmentIndex(hsm.roleAssignments).byPrincipal.get(principalId.toLowerCase()) ?? [])];
}

/** An assignment as evidence: where, and which role. */
export function grantEvidence(hsm: ManagedHsmSnapshot, assignment: RoleAssignmentSnapshot): { scope: string; role: string } {
  return { scope: assignment.scope, role: roleLabel(hsm, assignment) };
}

export function describeGrants(hsm: ManagedHsmSnapshot, assignments: readonly RoleAssignmentSnapshot[]): string {
  return assignments.length === 0 ? "no role" : assignments.map((a) => `${roleLabel(hsm, a)} at "${a.scope}"`).join(", ");
}

/** Collection errors that left this HSM's role assignments and/or definitions unknown. */
export function rbacErrors(ctx: CheckContext, hsm: ManagedHsmSnapshot, parts: SnapshotPart[] = ["rbac.roleAssignments", "rbac.roleDefinitions"]): CollectionError[] {
  return errorsFor(ctx, hsm.hsmUri === undefined ? [...parts, "managedHsm"] : parts, hsmRef(hsm.resourceId));
}

/**
 * A principal as the subject of a result. Principals are directory objects, not ARM resources, so the id
 * is qualified by the HSM; the name is the policy's display name, else `knownAs`, else the bare id.
 */
export function principalResource(policy: ManagedHsmPolicy, principalId: string, knownAs?: string): ResourceRef {
  const ref = expectedPrincipals(policy).find((p) => p.principalId.toLowerCase() === principalId.toLowerCase());
  const displayName = ref?.displayName ?? knownAs;
  return { id: `${policy.resourceId}/principals/${principalId}`, name: `${displayName ? `${displayName} [${principalId}]` : principalId} on ${policy.name}` };
}

/** The roles the policy expects each named principal to play. */
export function expectedPrincipals(policy: ManagedHsmPolicy): { principalId: string; displayName?: string; role: string }[] {
  return [
    ...policy.keyManagementPrincipals.map((p) => ({ ...p, role: "key management" })),
    ...policy.administratorPrincipals.map((p) => ({ ...p, role: "administrator" })),
    ...policy.otherExpectedPrincipals.map((p) => ({ ...p, role: "other expected principal" })),
  ];
}

export interface ConsumerGap {
  resource: ResourceRef;
  message: string;
  errors: CollectionError[];
}

export interface HsmConsumers {
  /** Consumers whose key lives in this HSM. */
  consumers: Consumer[];
  /** Why that list may be incomplete (a consumer list or a SQL MI protector not read); empty when complete. */
  gaps: ConsumerGap[];
}

const CONSUMER_LISTS = [
  { part: "consumers.sqlManagedInstances", label: "SQL managed instances" },
  { part: "consumers.diskEncryptionSets", label: "disk encryption sets" },
  { part: "consumers.storageAccounts", label: "storage accounts" },
] as const;

/** The consumers of an HSM's keys, and what could not be read about them. */
export function hsmConsumers(ctx: CheckContext, hsm: ManagedHsmSnapshot, hsmResource: ResourceRef): HsmConsumers {
  // Three controls ask for the same HSM's consumers in one evaluation (one context, one snapshot).
  const perHsm = hsmConsumerCache.get(ctx) ?? new Map<ManagedHsmSnapshot, HsmConsumers>();
  hsmConsumerCache.set(ctx, perHsm);
  let found = perHsm.get(hsm);
  if (found === undefined) {
    found = collectHsmConsumers(ctx, hsm, hsmResource);
    perHsm.set(hsm, found);
  }
  return found;
}

const hsmConsumerCache = new WeakMap<CheckContext, Map<ManagedHsmSnapshot, HsmConsumers>>();

function collectHsmConsumers(ctx: CheckContext, hsm: ManagedHsmSnapshot, hsmResource: ResourceRef): HsmConsumers {
  const gaps: ConsumerGap[] = [];
  for (const { part, label } of CONSUMER_LISTS) {
    for (const unread of unreadSubscriptions(ctx, part)) {
      const message = `The ${label} of subscription ${unread.subscriptionId} that may use ${hsmResource.name} could not be listed.`;
      gaps.push({ resource: hsmResource, message, errors: unread.errors });
    }
  }
  for (const mi of ctx.snapshot.consumers.sqlManagedInstances) {
    if (mi.encryptionProtector === null) {
      const errors = errorsFor(ctx, "consumers.sqlManagedInstance.encryptionProtector", consumerRef(mi.resourceId));
      gaps.push({ resource: { id: mi.resourceId, name: mi.name }, message: `The TDE protector of ${mi.name} could not be read, so whether it uses ${hsmResource.name} is unknown.`, errors });
    }
  }
  if (!hsm.hsmUri) {
    gaps.push({ resource: hsmResource, message: `The data-plane URI of ${hsmResource.name} is unknown, so its consumers cannot be matched.`, errors: errorsFor(ctx, "managedHsm", hsmRef(hsm.resourceId)) });
    return { consumers: [], gaps };
  }
  const host = hsmHost(hsm.hsmUri);
  const all: Consumer[] = [...ctx.snapshot.consumers.sqlManagedInstances, ...ctx.snapshot.consumers.diskEncryptionSets, ...ctx.snapshot.consumers.storageAccounts];
  return { consumers: all.filter((c) => consumerKeyReference(c)?.host === host), gaps };
}

/** The name of the key a consumer uses (in the HSM it was matched to). */
export function consumerKeyName(consumer: Consumer): string {
  return consumerKeyReference(consumer)?.keyName ?? "";
}

export interface ConsumerIdentity {
  principalId: string;
  /** The identity's owner: the user-assigned identity, else the consumer its system-assigned identity belongs to. */
  resource: ResourceRef;
  consumers: Consumer[];
  /** The keys its consumers use: the only scopes it needs. */
  keyNames: string[];
}

/**
 * Consumer identities, one per principal id (a user-assigned identity may serve several consumers). Two
 * controls ask for those of the same HSM's consumers (hsmConsumers' list, one per evaluation): worked out
 * once per list, so the result is shared and read-only.
 */
export function consumerIdentities(consumers: readonly Consumer[]): readonly ConsumerIdentity[] {
  let found = consumerIdentityCache.get(consumers);
  if (found === undefined) {
    found = collectConsumerIdentities(consumers);
    consumerIdentityCache.set(consumers, found);
  }
  return found;
}

const consumerIdentityCache = new WeakMap<readonly Consumer[], readonly ConsumerIdentity[]>();

function collectConsumerIdentities(consumers: readonly Consumer[]): ConsumerIdentity[] {
  // Each identity's key names lower-cased beside them (an identity uses one key or a few).
  const byPrincipal = new Map<string, { identity: ConsumerIdentity; keys: string[] }>();
  for (const consumer of consumers) {
    const principalIds = consumerPrincipalIds(consumer);
    if (principalIds.length === 0) continue;
    const keyName = consumerKeyName(consumer);
    const key = keyName.toLowerCase();
    for (const principalId of principalIds) {
      const id = principalId.toLowerCase();
      let entry = byPrincipal.get(id);
      if (entry === undefined) {
        entry = { identity: { principalId, resource: identityOwner(consumer, principalId), consumers: [], keyNames: [] }, keys: [] };
        byPrincipal.set(id, entry);
      }
      entry.identity.consumers.push(consumer);
      if (!entry.keys.includes(key)) {
        entry.keys.push(key);
        entry.identity.keyNames.push(keyName);
      }
    }
  }
  return [...byPrincipal.values()].map((e) => e.identity);
}

function identityOwner(consumer: Consumer, principalId: string): ResourceRef {
  const uai = consumer.identity?.userAssignedIdentities.find((u) => u.principalId?.toLowerCase() === principalId.toLowerCase());
  if (uai) return { id: uai.resourceId, name: `${uai.resourceId.split("/").pop() ?? uai.resourceId} (user-assigned identity)` };
  return { id: consumer.resourceId, name: `${consumer.name} (system-assigned identity)` };
}

/** Evidence for a list of principals' grants. */
export function grantsEvidence(hsm: ManagedHsmSnapshot, assignments: readonly RoleAssignmentSnapshot[]): EvidenceValue {
  return assignments.map((a) => grantEvidence(hsm, a));
}

export interface WrapAccess {
  principalId: string;
  /** The principal's assignments at scopes covering the key's. */
  covering: RoleAssignmentSnapshot[];
  /** Wrap data actions none of them grants. */
  missing: string[];
  /** "unknown": something is missing and a covering role's definition could not be read. */
  verdict: "ok" | "missing" | "unknown";
}

/** Can `principalId` read, wrap and unwrap the key at `scope` ("/keys/<name>") through its role assignments? */
export function wrapAccess(hsm: ManagedHsmSnapshot, principalId: string, scope: string): WrapAccess {
  // Many consumers share one identity and key (a user-assigned identity per kind): judged once per list,
  // principal and scope. The definitions the verdict read are part of the key, being another list.
  const assignments = hsm.roleAssignments;
  const memo = assignments ? assignmentIndex(assignments).memo : undefined;
  const key = memo ? `wrap|${principalId.toLowerCase()}|${normalScope(scope)}` : "";
  let found = memo?.get(key) as { definitions: ManagedHsmSnapshot["roleDefinitions"]; definitionCount: number; access: WrapAccess } | undefined;
  if (found === undefined || found.definitions !== hsm.roleDefinitions || found.definitionCount !== (hsm.roleDefinitions?.length ?? -1)) {
    found = { definitions: hsm.roleDefinitions, definitionCount: hsm.roleDefinitions?.length ?? -1, access: judgeWrapAccess(hsm, principalId, scope) };
    memo?.set(key, found);
  }
  const { access } = found;
  return { principalId, covering: [...access.covering], missing: [...access.missing], verdict: access.verdict };
}

function judgeWrapAccess(hsm: ManagedHsmSnapshot, principalId: string, scope: string): WrapAccess {
  const covering = assignmentsOf(hsm, principalId).filter((a) => scopeCovers(a.scope, scope));
  const granted = covering.map((a) => assignmentDataActions(hsm, a));
  const missing = WRAP_DATA_ACTIONS.filter((w) => !granted.some((actions) => actions?.some((a) => sameAction(a, w))));
  const verdict = missing.length === 0 ? "ok" : granted.includes(null) ? "unknown" : "missing";
  return { principalId, covering, missing, verdict };
}
