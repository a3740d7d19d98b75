/**
 * The consumer access model: whether each SQL MI (its TDE protector), DES (and the disks behind it) and CMK storage
 * account can still use its key, derived from the HSM — the key version it uses exists, is enabled, active and
 * unexpired, and the consumer's identity holds wrap and unwrap at a covering scope. Re-derived after every
 * state-changing request and clock step (see settle.ts); every change of accessibility is recorded with emulator time,
 * so a test can prove that no consumer lost access at any moment.
 */
import { scopeContains } from "./keys.js";
import type { RoleDefinitionRecord } from "./roles.js";
import type { AccessTransition, ConsumerAccessRecord, ConsumerKind, Runtime } from "./runtime.js";
import { globMatches, keyId, modelOf, now, parseHsmUri, parseKeyUrl } from "./runtime.js";
import type { ArmResource, HsmKey, HsmState, KeyVersion, RoleAssignmentRecord } from "./state.js";
import { compareIds, findVersion, latestVersion, resourcesOfType } from "./state.js";

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined);

export const WRAP_ACTION = "Microsoft.KeyVault/managedHsm/keys/wrap/action";
export const UNWRAP_ACTION = "Microsoft.KeyVault/managedHsm/keys/unwrap/action";

/** Stable codes of the access model (the control endpoint's `code`); Azure's own codes are mapped per consumer. */
export type AccessProblem = "KeyVersionNotFound" | "KeyVersionDisabled" | "KeyVersionNotYetActive" | "KeyVersionExpired" | "NoIdentity" | "MissingWrapUnwrap";

export type DerivedAccess = Omit<ConsumerAccessRecord, "since" | "code"> & { code?: AccessProblem };

// ---------------------------------------------------------------- RBAC

/** Whether one permission block grants `action` (its notDataActions subtract from its own dataActions, as in Azure RBAC). */
const grants = (p: RoleDefinitionRecord["permissions"][number], action: string): boolean =>
  p.dataActions.some((a) => globMatches(a, action)) && !p.notDataActions.some((a) => globMatches(a, action));

export interface HsmIndex {
  byPrincipal: Map<string, RoleAssignmentRecord[]>;
  definitions: Map<string, RoleDefinitionRecord>;
}

export function indexHsm(hsm: HsmState): HsmIndex {
  const byPrincipal = new Map<string, RoleAssignmentRecord[]>();
  for (const ra of hsm.roleAssignments) {
    const k = ra.principalId.toLowerCase();
    const list = byPrincipal.get(k);
    if (list) list.push(ra);
    else byPrincipal.set(k, [ra]);
  }
  return { byPrincipal, definitions: new Map(hsm.roleDefinitions.map((d) => [d.name.toLowerCase(), d])) };
}

/** Wrap and unwrap on `/keys/<name>` through assignments at "/", "/keys" or "/keys/<name>". */
export function holdsWrapAndUnwrap(index: HsmIndex, principalId: string, keyName: string): boolean {
  const scope = `/keys/${keyName}`;
  let wrap = false;
  let unwrap = false;
  for (const ra of index.byPrincipal.get(principalId.toLowerCase()) ?? []) {
    if (!scopeContains(ra.scope, scope)) continue;
    const def = index.definitions.get(ra.roleDefinitionId.split("/").pop()!.toLowerCase());
    for (const p of def?.permissions ?? []) {
      wrap ||= grants(p, WRAP_ACTION);
      unwrap ||= grants(p, UNWRAP_ACTION);
    }
  }
  return wrap && unwrap;
}

// ---------------------------------------------------------------- identities

/** The principal of a user-assigned identity listed on the resource (resource ids compared case-insensitively). */
function userAssignedPrincipal(identity: Json | undefined, resourceId: string): string | null {
  const uais = obj(identity?.userAssignedIdentities);
  if (!uais) return null;
  // The first listed that matches, as Object.entries(…).find would give it, without an entry array per consumer per derivation.
  for (const id of Object.keys(uais)) {
    if (id !== resourceId && lowerId(id) !== lowerId(resourceId)) continue;
    const p = obj(uais[id])?.principalId;
    return typeof p === "string" ? p : null;
  }
  return null;
}

const systemPrincipal = (identity: Json | undefined): string | null => {
  const type = String(identity?.type ?? "");
  return /SystemAssigned/i.test(type) && typeof identity?.principalId === "string" ? identity.principalId : null;
};

/** SQL MI: primaryUserAssignedIdentityId's principal if set, else the system-assigned one. */
function sqlPrincipal(mi: ArmResource): string | null {
  const primary = obj(mi.body.properties)?.primaryUserAssignedIdentityId;
  const identity = obj(mi.body.identity);
  return typeof primary === "string" && primary ? userAssignedPrincipal(identity, primary) : systemPrincipal(identity);
}

/** DES: the system-assigned identity if it has one, else its (single) user-assigned identity. */
function desPrincipal(des: ArmResource): string | null {
  const identity = obj(des.body.identity);
  const system = systemPrincipal(identity);
  if (system) return system;
  const first = Object.values(obj(identity?.userAssignedIdentities) ?? {})[0];
  const p = obj(first)?.principalId;
  return typeof p === "string" ? p : null;
}

/** Storage: encryption.identity.userAssignedIdentity's principal if set, else the system-assigned one. */
function storagePrincipal(sa: ArmResource, encryption: Json): string | null {
  const ua = obj(encryption.identity)?.userAssignedIdentity;
  const identity = obj(sa.body.identity);
  return typeof ua === "string" && ua ? userAssignedPrincipal(identity, ua) : systemPrincipal(identity);
}

// ---------------------------------------------------------------- derivation

interface KeyCheck {
  hsm?: HsmState;
  key?: HsmKey;
  version?: KeyVersion;
  problem?: { code: AccessProblem; reason: string };
}

/** A versionless URL means the latest version (what a versionless DES uses). */
function checkKeyVersion(rt: Runtime, keyUrl: string): KeyCheck {
  const p = parseKeyUrl(keyUrl);
  const hsm = p ? rt.state.hsms.get(p.hsmLabel) : undefined;
  const key = p ? hsm?.keys.get(p.keyName.toLowerCase()) : undefined;
  const version = key ? (p!.version === null ? latestVersion(key) : findVersion(key, p!.version)) : undefined;
  if (!hsm || !key || !version) return { problem: { code: "KeyVersionNotFound", reason: `key version '${keyUrl}' does not exist` } };
  const t = now(rt).getTime();
  const url = keyId(rt, hsm, key.name, version.version);
  if (!version.enabled) return { hsm, key, version, problem: { code: "KeyVersionDisabled", reason: `key version '${url}' is disabled` } };
  if (version.notBefore && version.notBefore.getTime() > t) {
    return { hsm, key, version, problem: { code: "KeyVersionNotYetActive", reason: `key version '${url}' is not active until ${version.notBefore.toISOString()}` } };
  }
  if (version.expires && version.expires.getTime() <= t) {
    return { hsm, key, version, problem: { code: "KeyVersionExpired", reason: `key version '${url}' expired at ${version.expires.toISOString()}` } };
  }
  return { hsm, key, version };
}

function judgeAccess(rt: Runtime, indexes: Map<string, HsmIndex>, kind: ConsumerKind, resourceId: string, keyUrl: string, principalId: string | null): DerivedAccess {
  const k = checkKeyVersion(rt, keyUrl);
  const base = { resourceId, kind, keyUrl, version: k.version?.version ?? parseKeyUrl(keyUrl)?.version ?? null, principalId };
  if (k.problem) return { ...base, accessible: false, ...k.problem };
  if (!principalId) return { ...base, accessible: false, code: "NoIdentity", reason: `the consumer has no managed identity to reach '${keyUrl}' with` };
  let index = indexes.get(k.hsm!.label);
  if (!index) indexes.set(k.hsm!.label, (index = indexHsm(k.hsm!)));
  if (!holdsWrapAndUnwrap(index, principalId, k.key!.name)) {
    return {
      ...base,
      accessible: false,
      code: "MissingWrapUnwrap",
      reason: `identity '${principalId}' lacks wrap and unwrap on '/keys/${k.key!.name}' of Managed HSM '${k.hsm!.name}'`,
    };
  }
  return { ...base, accessible: true };
}

/** Every consumer of a Managed HSM key in the estate, judged now, by lower-cased resource id (in no set order). */
export function deriveConsumerAccess(rt: Runtime): Map<string, DerivedAccess> {
  const indexes = new Map<string, HsmIndex>();
  // Within one derivation the HSMs and the time stand still, so a judgment depends only on the key URL and the
  // principal: consumers sharing both (an estate's storage accounts behind one identity) are judged once. Without
  // this a 1,000-consumer rotation spent three quarters of the emulator's CPU re-judging the same pairs. Keyed by
  // the two strings in turn (their hashes are kept with them), not by a string made of both for every consumer.
  const judged = new Map<string, Map<string, DerivedAccess>>();
  const judge = (kind: ConsumerKind, resourceId: string, keyUrl: string, principalId: string | null): DerivedAccess => {
    let byPrincipal = judged.get(keyUrl);
    if (!byPrincipal) judged.set(keyUrl, (byPrincipal = new Map()));
    let verdict = byPrincipal.get(principalId ?? "");
    if (!verdict) byPrincipal.set(principalId ?? "", (verdict = judgeAccess(rt, indexes, kind, resourceId, keyUrl, principalId)));
    return consumerRecord(verdict, resourceId, kind);
  };
  // Each pass goes over its type's resources in the order the index holds them: nothing here needs them sorted
  // (refreshAccess orders what it records), and sorting a type again after each write to it, then looking up every
  // id's lower-cased form, cost most of the emulator's CPU in a 1,000-consumer rotation.
  const out = new Map<string, DerivedAccess>();
  for (const [id, mi] of resourcesOfType(rt.state, "Microsoft.Sql/managedInstances")) {
    const ep = obj(rt.state.resources.get(protectorKey(id))?.body.properties);
    if (ep?.serverKeyType !== "AzureKeyVault" || typeof ep.uri !== "string") continue;
    out.set(id, judge("sqlManagedInstance", mi.id, ep.uri, sqlPrincipal(mi)));
  }
  const disksByDes = new Map<string, string[]>();
  for (const [, disk] of resourcesOfType(rt.state, "Microsoft.Compute/disks")) {
    const desId = obj(obj(disk.body.properties)?.encryption)?.diskEncryptionSetId;
    if (typeof desId !== "string") continue;
    const k = lowerId(desId);
    const list = disksByDes.get(k);
    if (list) list.push(disk.id);
    else disksByDes.set(k, [disk.id]);
  }
  for (const [id, des] of resourcesOfType(rt.state, "Microsoft.Compute/diskEncryptionSets")) {
    const keyUrl = obj(obj(des.body.properties)?.activeKey)?.keyUrl;
    if (typeof keyUrl !== "string") continue;
    const record = judge("diskEncryptionSet", des.id, keyUrl, desPrincipal(des));
    record.disks = (disksByDes.get(id) ?? []).sort();
    out.set(id, record);
  }
  for (const [id, sa] of resourcesOfType(rt.state, "Microsoft.Storage/storageAccounts")) {
    const enc = obj(obj(sa.body.properties)?.encryption);
    const kvp = obj(enc?.keyvaultproperties);
    if (enc?.keySource !== "Microsoft.Keyvault" || !kvp) continue;
    const label = hsmLabelOf(String(kvp.keyvaulturi ?? ""));
    const fallback = label ? `https://${label}.managedhsm.azure.net/keys/${String(kvp.keyname ?? "")}` : String(kvp.keyvaulturi ?? "");
    const keyUrl = typeof kvp.currentVersionedKeyIdentifier === "string" ? kvp.currentVersionedKeyIdentifier : fallback;
    out.set(id, judge("storageAccount", sa.id, keyUrl, storagePrincipal(sa, enc)));
  }
  return out;
}

/**
 * One consumer's record from the verdict it shares with others: always the same properties in the same order (a
 * spread of verdicts with and without a problem was the derivation's largest cost), `disks` added for a DES.
 */
function consumerRecord(verdict: DerivedAccess, resourceId: string, kind: ConsumerKind): DerivedAccess {
  const record: DerivedAccess = { resourceId, kind, accessible: verdict.accessible, keyUrl: verdict.keyUrl, version: verdict.version, principalId: verdict.principalId };
  if (verdict.code !== undefined) {
    record.code = verdict.code;
    record.reason = verdict.reason;
  }
  return record;
}

/** A storage account's key vault URI → its HSM's label: a URL parse, asked for every account in every derivation. */
const hsmLabels = new Map<string, string | undefined>();
function hsmLabelOf(uri: string): string | undefined {
  if (hsmLabels.has(uri)) return hsmLabels.get(uri);
  const label = parseHsmUri(uri);
  if (hsmLabels.size < 100_000) hsmLabels.set(uri, label);
  return label;
}

const byId = (a: { resourceId: string }, b: { resourceId: string }): number => compareIds(a.resourceId, b.resourceId);

/** The first derivation of an estate: its starting state, no transitions (the estate was loaded that way). */
export function ensureAccess(rt: Runtime): Map<string, ConsumerAccessRecord> {
  const m = modelOf(rt);
  if (!m.access) {
    const since = new Date(rt.clock.loadedAt.getTime());
    m.access = new Map([...deriveConsumerAccess(rt)].map(([id, d]) => [id, { ...d, since }]));
  }
  return m.access;
}

/** Re-derives every consumer's access and records each change of accessibility at the emulator's now. */
export function refreshAccess(rt: Runtime): void {
  const m = modelOf(rt);
  const prev = ensureAccess(rt);
  const at = now(rt);
  // Recorded by resource id: the changes of the consumers judged now, then of those no longer judged.
  const changed: Omit<AccessTransition, "at">[] = [];
  // Each derived record is a fresh object: it becomes the consumer's record as it is, in the map derived.
  const next = deriveConsumerAccess(rt) as Map<string, DerivedAccess & { since?: Date }>;
  for (const [id, d] of next) {
    const before = prev.get(id);
    const unchanged = before !== undefined && before.accessible === d.accessible;
    d.since = unchanged ? before.since : at;
    if (!unchanged) changed.push({ resourceId: d.resourceId, kind: d.kind, accessible: d.accessible, ...(d.code ? { code: d.code, reason: d.reason } : {}) });
  }
  const left: Omit<AccessTransition, "at">[] = [];
  for (const [id, before] of prev) {
    // A consumer that left its CMK for platform keys no longer depends on the HSM: it is not cut off.
    if (!next.has(id) && !before.accessible) left.push({ resourceId: before.resourceId, kind: before.kind, accessible: true });
  }
  for (const t of [...changed.sort(byId), ...left.sort(byId)]) m.transitions.push({ at, ...t });
  m.access = next as Map<string, ConsumerAccessRecord>;
}

/**
 * The key the estate holds an MI's TDE protector under (its lower-cased id + "/encryptionprotector/current"), made
 * once per MI: built and lower-cased for every MI in every derivation, it was an eighth of the derivation's time.
 */
const protectorKeys = new Map<string, string>();
function protectorKey(miKey: string): string {
  let key = protectorKeys.get(miKey);
  if (key === undefined) {
    key = `${miKey}/encryptionprotector/current`;
    if (protectorKeys.size < 1_000_000) protectorKeys.set(miKey, key);
  }
  return key;
}

/** Resource ids lower-cased, once per id rather than once per derivation (thousands of derivations in a rotation). */
const lowerIds = new Map<string, string>();
function lowerId(id: string): string {
  let lower = lowerIds.get(id);
  if (lower === undefined) {
    lower = id.toLowerCase();
    if (lowerIds.size < 1_000_000) lowerIds.set(id, lower);
  }
  return lower;
}

export const accessRecordOf = (rt: Runtime, resourceId: string): ConsumerAccessRecord | undefined => ensureAccess(rt).get(resourceId.toLowerCase());

/** What DiskRP would report in `autoKeyRotationError` (codes UNVERIFIED except ManagedServiceIdentityNotFound, from the spec's example). */
const DES_ERROR_CODES: Record<AccessProblem, string> = {
  KeyVersionNotFound: "KeyVaultKeyNotFound",
  KeyVersionDisabled: "KeyVaultKeyDisabled",
  KeyVersionNotYetActive: "KeyVaultKeyNotYetValid",
  KeyVersionExpired: "KeyVaultKeyExpired",
  NoIdentity: "ManagedServiceIdentityNotFound",
  MissingWrapUnwrap: "KeyVaultAccessForbidden",
};

export function desAutoKeyRotationError(rec: ConsumerAccessRecord, desName: string): { code: string; message: string } {
  const code = DES_ERROR_CODES[(rec.code as AccessProblem | undefined) ?? "KeyVersionNotFound"];
  return { code, message: `Disk encryption set '${desName}' cannot use its key: ${rec.reason ?? "access lost"}. Auto-key rotation is not attempted until this is fixed.` };
}
