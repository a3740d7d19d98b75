import type { KeyPolicy, ManagedHsmPolicy } from "../config/types.js";
import type {
  Consumer,
  EstateSnapshot,
  KeySnapshot,
  KeyVersionSnapshot,
  ManagedHsmSnapshot,
  RoleAssignmentSnapshot,
  RoleDefinitionSnapshot,
} from "../estate/snapshot.js";
import { sameResourceId } from "../estate/resourceId.js";
import { hsmHost, parseKeyReference } from "../estate/keyReference.js";
import { hsmRef, keyRef } from "../estate/partRef.js";
import type { PartRef } from "../estate/snapshot.js";
import { roleDefinitionGuid } from "../rbac/builtinRoles.js";
import { definitionNamed } from "./query/rbacIndex.js";
import { errorsFor, type ResourceRef } from "./result.js";
import type { CheckContext } from "./types.js";

/** Shared, pure lookups over the snapshot for the controls. */

export interface HsmPair {
  policy: ManagedHsmPolicy;
  /** The collected HSM (always present: the collector records one per configured HSM). */
  hsm: ManagedHsmSnapshot;
  resource: ResourceRef;
  /** What collection errors about this HSM name. */
  about: PartRef;
}

/**
 * Lookups memoised per check context: one evaluation shares one context across every control and
 * never changes its snapshot, and a control asks for them once per consumer.
 */
function memo<T>(cache: WeakMap<CheckContext, T>, ctx: CheckContext, make: () => T): T {
  let value = cache.get(ctx);
  if (value === undefined) {
    value = make();
    cache.set(ctx, value);
  }
  return value;
}

const hsmPairCache = new WeakMap<CheckContext, HsmPair[]>();
const keyPairCache = new WeakMap<CheckContext, KeyPair[]>();

export function hsmPairs(ctx: CheckContext): HsmPair[] {
  return memo(hsmPairCache, ctx, () => collectHsmPairs(ctx));
}

function collectHsmPairs(ctx: CheckContext): HsmPair[] {
  return ctx.policy.managedHsms.map((policy) => {
    const hsm = ctx.snapshot.managedHsms.find((h) => sameResourceId(h.resourceId, policy.resourceId)) ?? emptyHsm(policy);
    return { policy, hsm, resource: { id: policy.resourceId, name: policy.name }, about: hsmRef(policy.resourceId) };
  });
}

function emptyHsm(policy: ManagedHsmPolicy): ManagedHsmSnapshot {
  return {
    resourceId: policy.resourceId,
    name: policy.name,
    subscriptionId: policy.subscriptionId,
    resourceGroup: policy.resourceGroup,
    properties: null,
    regions: null,
    privateEndpointConnections: null,
    diagnosticSettings: null,
    keys: null,
    roleDefinitions: null,
    roleAssignments: null,
  };
}

export interface KeyPair extends HsmPair {
  keyPolicy: KeyPolicy;
  /**
   * The collected key; `undefined` when the HSM's key list was read and the key is not in it
   * (it does not exist); `null` when it could not be read (see keyErrors via errorsFor).
   */
  key: KeySnapshot | undefined | null;
  keyResource: ResourceRef;
  /** What collection errors about this key name. */
  keyAbout: PartRef;
}

/** Every configured key of every configured HSM, with what was collected about it. */
export function keyPairs(ctx: CheckContext): KeyPair[] {
  return memo(keyPairCache, ctx, () => collectKeyPairs(ctx));
}

function collectKeyPairs(ctx: CheckContext): KeyPair[] {
  return hsmPairs(ctx).flatMap((pair) =>
    pair.policy.keys.map((keyPolicy) => {
      const found = pair.hsm.keys?.find((k) => k.name.toLowerCase() === keyPolicy.name.toLowerCase());
      const keyAbout = keyRef(pair.policy.resourceId, keyPolicy.name);
      const readErrors = errorsFor(ctx, ["key", "keys"], keyAbout).length > 0;
      const key = found ?? (pair.hsm.keys === null || readErrors ? null : undefined);
      return { ...pair, keyPolicy, key, keyResource: { id: `${keysUrl(pair.hsm)}/${keyPolicy.name}`, name: keyPolicy.name }, keyAbout };
    }),
  );
}

export function keysUrl(hsm: ManagedHsmSnapshot): string {
  return `${(hsm.hsmUri ?? `https://${hsm.name.toLowerCase()}`).replace(/\/+$/, "")}/keys`;
}

export function findVersion(key: KeySnapshot, version: string | null | undefined): KeyVersionSnapshot | undefined {
  if (!version) return undefined;
  return key.versions?.find((v) => v.version.toLowerCase() === version.toLowerCase());
}

export function roleDefinitionFor(hsm: ManagedHsmSnapshot, assignment: RoleAssignmentSnapshot): RoleDefinitionSnapshot | undefined {
  return hsm.roleDefinitions ? definitionNamed(hsm.roleDefinitions, assignment.roleDefinitionId) : undefined;
}

/** The role's GUID-independent display: its name, else its GUID. */
export function roleLabel(hsm: ManagedHsmSnapshot, assignment: RoleAssignmentSnapshot): string {
  return assignment.roleName ?? roleDefinitionFor(hsm, assignment)?.roleName ?? roleDefinitionGuid(assignment.roleDefinitionId);
}

/** The key reference a consumer is configured with (SQL: its TDE protector). */
export function consumerKeyReference(consumer: Consumer) {
  switch (consumer.kind) {
    case "sqlManagedInstance":
      return consumer.encryptionProtector?.keyReference ?? null;
    case "diskEncryptionSet":
    case "storageAccount":
      return consumer.keyReference;
  }
}

/** The key of consumersByKeyReference: a key by its HSM's data-plane host and its name. */
export function consumerKeyIndexKey(host: string, keyName: string): string {
  return `${host}|${keyName.toLowerCase()}`;
}

/** Consumers by the key they reference (HSM host, key name), in snapshot order: one pass over the estate. */
export function consumersByKeyReference(snapshot: EstateSnapshot): Map<string, Consumer[]> {
  const index = new Map<string, Consumer[]>();
  const c = snapshot.consumers;
  for (const consumer of [...c.sqlManagedInstances, ...c.diskEncryptionSets, ...c.storageAccounts] as Consumer[]) {
    const ref = consumerKeyReference(consumer);
    if (!ref) continue;
    const k = consumerKeyIndexKey(ref.host, ref.keyName);
    const list = index.get(k);
    if (list) list.push(consumer);
    else index.set(k, [consumer]);
  }
  return index;
}

/**
 * The key version a consumer actually uses. Versionless storage accounts report it in
 * currentVersionedKeyIdentifier; everything else names it in its key URL.
 */
export function versionInUse(consumer: Consumer): string | null {
  const ref = consumerKeyReference(consumer);
  if (ref?.version) return ref.version;
  if (consumer.kind === "storageAccount" && consumer.currentVersionedKeyIdentifier) {
    return identifierVersion(consumer.currentVersionedKeyIdentifier);
  }
  return null;
}

/** https://<host>/keys/<name>/<version>: the version is the path's third segment. Asked by several controls of every storage account, so parsed once per identifier. */
function identifierVersion(identifier: string): string | null {
  let version = identifierVersions.get(identifier);
  if (version === undefined) {
    version = parseKeyReference(identifier)?.version ?? null;
    if (identifierVersions.size >= 100_000) identifierVersions.clear();
    identifierVersions.set(identifier, version);
  }
  return version;
}

const identifierVersions = new Map<string, string | null>();

/** Consumers whose key is `keyName` in `hsm`, in snapshot order (read-only: shared by the evaluation). */
export function consumersOfKey(ctx: CheckContext, hsm: ManagedHsmSnapshot, keyName: string): readonly Consumer[] {
  if (!hsm.hsmUri) return [];
  return consumerIndex(ctx).get(consumerKeyIndexKey(hsmHost(hsm.hsmUri), keyName)) ?? [];
}

const consumerIndexCache = new WeakMap<CheckContext, Map<string, Consumer[]>>();

/** consumersByKeyReference of the context's snapshot, made once per evaluation (read-only: shared by every control). */
export function consumerIndex(ctx: CheckContext): ReadonlyMap<string, readonly Consumer[]> {
  return memo(consumerIndexCache, ctx, () => consumersByKeyReference(ctx.snapshot));
}

/** Principal ids a consumer's HSM access goes through (system-assigned and/or the user-assigned one it uses). */
export function consumerPrincipalIds(consumer: Consumer): string[] {
  const identity = consumer.identity;
  if (!identity) return [];
  const ids: string[] = [];
  const uai = identity.userAssignedIdentities;
  const chosen =
    consumer.kind === "storageAccount" && consumer.encryptionUserAssignedIdentity
      ? uai.filter((u) => sameResourceId(u.resourceId, consumer.encryptionUserAssignedIdentity))
      : consumer.kind === "sqlManagedInstance" && consumer.primaryUserAssignedIdentityId
        ? uai.filter((u) => sameResourceId(u.resourceId, consumer.primaryUserAssignedIdentityId))
        : uai;
  // A storage account's encryption identity, or a SQL MI's primary user-assigned identity, replaces the
  // system-assigned one for key access.
  const usesUserAssignedInstead =
    (consumer.kind === "storageAccount" && consumer.encryptionUserAssignedIdentity !== undefined) ||
    (consumer.kind === "sqlManagedInstance" && consumer.primaryUserAssignedIdentityId !== undefined);
  const usesSystem = /systemassigned/i.test(identity.type) && !usesUserAssignedInstead;
  if (usesSystem && identity.principalId) ids.push(identity.principalId);
  for (const u of chosen) if (u.principalId) ids.push(u.principalId);
  return ids;
}

/**
 * An Azure region's programmatic name. ARM returns "southindia", but some APIs and portals hand back
 * the display form ("South India"); the policy schema only accepts the programmatic one.
 */
export function regionKey(name: string): string {
  return name.replace(/\s+/g, "").toLowerCase();
}

export function sameRegion(a: string | null | undefined, b: string | null | undefined): boolean {
  return typeof a === "string" && typeof b === "string" && (a === b || regionKey(a) === regionKey(b));
}
