/**
 * ARM consumer logic: validated writes (DES, storage, SQL MI keys and encryption protector), long-running
 * operations on the emulator clock, and native auto-rotation when an HSM key gets a new version.
 *
 * Modelled consumer behaviour (kept modest; assumptions noted):
 * - A new key version is followed on the clock, not at once: at the first settle (request or clock step) at which
 *   now ≥ version created + delay (config `autoRotationDelays`; defaults are the documented maxima):
 *   SQL MI with `autoRotationEnabled` (PT60M) registers the version as an MI key and switches its protector;
 *   a DES with `rotationToLatestKeyVersionEnabled` (PT1H) moves its active key (the old one goes to `previousKeys`;
 *   real DES clears it once re-wrap completes – we keep it); storage with an empty `keyversion` (P1D) moves
 *   `currentVersionedKeyIdentifier`.
 * - Only versions created while the emulator runs are followed; a fixture's lagging consumer stays as planted.
 */
import { randomUUID } from "node:crypto";
import { addDuration, parseDuration } from "../duration.js";
import { armBadRequest, armInvalidParameter, invalidRequestContent } from "../errors.js";
import { accessRecordOf, desAutoKeyRotationError } from "./access.js";
import { cloneJson } from "./cloneJson.js";
import { encryptionProtectorResource, INSTANCE_FAILOVER_GROUP, iso, sqlKeyResource } from "./materialise.js";
import type { ConsumerKind, LongRunningOperation, Runtime } from "./runtime.js";
import { globMatches, keyId, modelOf, now, parseHsmUri, parseKeyUrl } from "./runtime.js";
import type { ArmResource, HsmKey, HsmState, KeyVersion } from "./state.js";
import { findVersion, latestVersion, listChildren, listResources, putResource } from "./state.js";

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined);

/** Resolves a key URL to an existing HSM key (and version, when the URL has one). */
export function resolveKeyUrl(rt: Runtime, url: string): { hsm: HsmState; key: HsmKey; version?: KeyVersion } | undefined {
  const p = parseKeyUrl(url);
  if (!p) return undefined;
  const hsm = rt.state.hsms.get(p.hsmLabel);
  const key = hsm?.keys.get(p.keyName.toLowerCase());
  if (!hsm || !key) return undefined;
  if (p.version === null) return { hsm, key };
  const version = findVersion(key, p.version);
  return version ? { hsm, key, version } : undefined;
}

const sameKey = (url: unknown, hsm: HsmState, key: HsmKey): boolean => {
  if (typeof url !== "string") return false;
  const p = parseKeyUrl(url);
  return !!p && p.hsmLabel === hsm.label && p.keyName.toLowerCase() === key.name.toLowerCase();
};

/** Index of a version in the key's history (-1 when the URL names none): auto-rotation never moves a consumer back. */
const versionIndex = (key: HsmKey, url: unknown): number => {
  const v = typeof url === "string" ? parseKeyUrl(url)?.version : undefined;
  return v ? key.versions.findIndex((x) => x.version === v.toLowerCase()) : -1;
};

// ---------------------------------------------------------------- native auto-rotation on the clock

export const CONSUMER_KINDS: readonly ConsumerKind[] = ["sqlManagedInstance", "diskEncryptionSet", "storageAccount"];

/** Documented maxima (azure-facts.md §2): SQL TDE within 60 min, DES within 1 h, versionless storage within 24 h. */
export const DEFAULT_AUTO_ROTATION_DELAYS: Readonly<Record<ConsumerKind, string>> = { sqlManagedInstance: "PT60M", diskEncryptionSet: "PT1H", storageAccount: "P1D" };

/** Called by keys.ts whenever a key gets a new version: consumers follow it later, on the clock. */
export function followNewKeyVersion(rt: Runtime, hsm: HsmState, key: HsmKey): void {
  const v = latestVersion(key);
  modelOf(rt).pendingKeyVersions.push({ hsmLabel: hsm.label, keyName: key.name.toLowerCase(), version: v.version, created: v.created, followed: new Set() });
}

function followStorage(rt: Runtime, hsm: HsmState, key: HsmKey, version: string): void {
  const url = keyId(rt, hsm, key.name, version);
  for (const sa of listResources(rt.state, "Microsoft.Storage/storageAccounts")) {
    const enc = obj(obj(sa.body.properties)?.encryption);
    const kvp = obj(enc?.keyvaultproperties);
    if (enc?.keySource !== "Microsoft.Keyvault" || !kvp || kvp.keyversion) continue;
    if (parseHsmUri(String(kvp.keyvaulturi ?? "")) !== hsm.label || String(kvp.keyname ?? "").toLowerCase() !== key.name.toLowerCase()) continue;
    if (versionIndex(key, kvp.currentVersionedKeyIdentifier) >= versionIndex(key, url)) continue;
    kvp.currentVersionedKeyIdentifier = url;
    kvp.lastKeyRotationTimestamp = iso(now(rt));
  }
}

function followDiskEncryptionSets(rt: Runtime, hsm: HsmState, key: HsmKey, version: string): void {
  const url = keyId(rt, hsm, key.name, version);
  for (const des of listResources(rt.state, "Microsoft.Compute/diskEncryptionSets")) {
    const props = obj(des.body.properties)!;
    const active = obj(props.activeKey);
    if (props.rotationToLatestKeyVersionEnabled !== true || !sameKey(active?.keyUrl, hsm, key)) continue;
    // A versionless keyUrl already means "latest"; a versioned one moves only forwards.
    if (parseKeyUrl(String(active!.keyUrl))?.version === null || versionIndex(key, active!.keyUrl) >= versionIndex(key, url)) continue;
    props.previousKeys = [...((props.previousKeys as unknown[]) ?? []), { ...active }];
    props.activeKey = { ...active, keyUrl: url };
    props.lastKeyRotationTimestamp = iso(now(rt));
  }
}

function followManagedInstances(rt: Runtime, hsm: HsmState, key: HsmKey, version: string): void {
  const url = keyId(rt, hsm, key.name, version);
  for (const ep of listResources(rt.state, "Microsoft.Sql/managedInstances/encryptionProtector")) {
    const props = obj(ep.body.properties)!;
    if (props.autoRotationEnabled !== true || !sameKey(props.uri, hsm, key) || versionIndex(key, props.uri) >= versionIndex(key, url)) continue;
    const instanceId = ep.id.replace(/\/encryptionProtector\/current$/i, "");
    const keyName = `${hsm.name}_${key.name}_${version}`;
    putResource(rt.state, { ...sqlKeyResource(instanceId, ep.resourceGroup, keyName, url, now(rt)), subscriptionId: ep.subscriptionId });
    putResource(rt.state, { ...encryptionProtectorResource(instanceId, ep.resourceGroup, "AzureKeyVault", keyName, url, true), subscriptionId: ep.subscriptionId });
  }
}

const FOLLOW: Record<ConsumerKind, (rt: Runtime, hsm: HsmState, key: HsmKey, version: string) => void> = {
  sqlManagedInstance: followManagedInstances,
  diskEncryptionSet: followDiskEncryptionSets,
  storageAccount: followStorage,
};

const autoRotationDelay = (rt: Runtime, kind: ConsumerKind): string => rt.config.autoRotationDelays?.[kind] ?? DEFAULT_AUTO_ROTATION_DELAYS[kind];

/** Carries every pending key version to the consumer kinds whose delay has passed (oldest version first). */
export function followDueKeyVersions(rt: Runtime): void {
  const m = modelOf(rt);
  if (m.pendingKeyVersions.length === 0) return;
  const t = now(rt).getTime();
  for (const p of m.pendingKeyVersions) {
    const hsm = rt.state.hsms.get(p.hsmLabel);
    const key = hsm?.keys.get(p.keyName);
    for (const kind of CONSUMER_KINDS) {
      if (p.followed.has(kind)) continue;
      if (hsm && key && addDuration(p.created, autoRotationDelay(rt, kind)).getTime() > t) continue;
      if (hsm && key) FOLLOW[kind](rt, hsm, key, p.version);
      p.followed.add(kind);
    }
  }
  m.pendingKeyVersions = m.pendingKeyVersions.filter((p) => p.followed.size < CONSUMER_KINDS.length);
}

/**
 * Read-time views: a VM carries its etag; storage reports the current version's expiry (so key updates show through); a DES that cannot use
 * its key carries `autoKeyRotationError`; a SQL MI that cannot reach its TDE protector is `Inaccessible`.
 */
export function presentResource(rt: Runtime, r: ArmResource): Json {
  const body = cloneJson(r.body);
  if (r.type === "Microsoft.Storage/storageAccounts") {
    const kvp = obj(obj(obj(body.properties)?.encryption)?.keyvaultproperties);
    const cur = typeof kvp?.currentVersionedKeyIdentifier === "string" ? resolveKeyUrl(rt, kvp.currentVersionedKeyIdentifier) : undefined;
    if (kvp && cur?.version?.expires) kvp.currentVersionedKeyExpirationTimestamp = iso(cur.version.expires);
  } else if (r.type === "Microsoft.Compute/diskEncryptionSets") {
    const rec = accessRecordOf(rt, r.id);
    if (rec && !rec.accessible) obj(body.properties)!.autoKeyRotationError = desAutoKeyRotationError(rec, r.name);
  } else if (r.type === "Microsoft.Compute/virtualMachines") {
    // The only served resource with writes in Azure whose spec declares an etag (VirtualMachine.etag); no VM write is
    // served, so it never changes. UNVERIFIED format: CRP's etags are quoted integers that count updates.
    body.etag ??= '"1"';
  } else if (r.type === "Microsoft.Sql/managedInstances") {
    const rec = accessRecordOf(rt, r.id);
    // UNVERIFIED value: the spec types `state` as a free string; SQL docs say the databases turn "Inaccessible".
    if (rec && !rec.accessible) obj(body.properties)!.state = "Inaccessible";
  }
  return body;
}

// ---------------------------------------------------------------- long-running operations

const lroDurationMs = (rt: Runtime, operationId: string, start: Date): number => {
  const table = rt.config.lroDurations ?? {};
  const pattern = operationId in table ? operationId : Object.keys(table).find((p) => globMatches(p, operationId));
  const d = pattern === undefined ? undefined : parseDuration(table[pattern]!);
  return d ? addDuration(start, d).getTime() - start.getTime() : 0;
};

/** Takes one use of the first failure rule that matches the operation. */
function takeFailure(rt: Runtime, operationId: string): { code: string; message: string } | undefined {
  const rules = modelOf(rt).lroFailures;
  const rule = rules.find((f) => f.remaining > 0 && globMatches(f.operationId, operationId));
  if (!rule) return undefined;
  rule.remaining -= 1;
  if (rule.remaining <= 0) rules.splice(rules.indexOf(rule), 1);
  return { code: rule.code, message: rule.message };
}

/** Polls answered (beyond `lroPolls`) and emulator time elapsed (beyond the operation's duration) both count. */
const isReady = (rt: Runtime, op: LongRunningOperation): boolean =>
  (op.polls > rt.config.lroPolls || rt.config.lroPolls <= 0) && now(rt).getTime() >= op.startTime.getTime() + (op.durationMs ?? 0);

export function startOperation(rt: Runtime, operationId: string, resourceId: string, apply: () => void): LongRunningOperation {
  const startTime = now(rt);
  const op: LongRunningOperation = {
    id: randomUUID(),
    operationId,
    polls: 0,
    status: "InProgress",
    startTime,
    apply,
    resourceId,
    durationMs: lroDurationMs(rt, operationId, startTime),
    failWith: takeFailure(rt, operationId),
  };
  rt.lros.set(op.id, op);
  if (isReady(rt, op)) completeOperation(rt, op);
  return op;
}

function completeOperation(rt: Runtime, op: LongRunningOperation): void {
  if (op.status !== "InProgress") return;
  if (op.failWith) {
    op.status = "Failed";
    op.error = op.failWith;
  } else {
    op.apply();
    op.status = "Succeeded";
  }
  op.endTime = now(rt);
}

/** One poll: InProgress until `lroPolls` polls were answered and the operation's duration has passed. */
export function pollOperation(rt: Runtime, op: LongRunningOperation): LongRunningOperation {
  if (op.status === "InProgress") {
    op.polls += 1;
    if (isReady(rt, op)) completeOperation(rt, op);
  }
  return op;
}

/** A clock step completes the operations that were only waiting for time. */
export function completeDueOperations(rt: Runtime): void {
  for (const op of rt.lros.values()) if (op.status === "InProgress" && isReady(rt, op)) completeOperation(rt, op);
}

// ---------------------------------------------------------------- writes

/** DiskEncryptionSets_Update: validates now, applies when the LRO succeeds. */
export function prepareDiskEncryptionSetUpdate(rt: Runtime, des: ArmResource, patch: unknown): () => void {
  const p = obj(patch);
  if (!p) throw invalidRequestContent("The request body must be a JSON object (DiskEncryptionSetUpdate).");
  const props = obj(p.properties) ?? {};
  const activeKey = props.activeKey === undefined ? undefined : obj(props.activeKey);
  if (props.activeKey !== undefined && !activeKey) throw armInvalidParameter("properties.activeKey", "properties.activeKey must be an object with keyUrl.");
  const keyUrl = activeKey?.keyUrl;
  if (activeKey) {
    if (typeof keyUrl !== "string") throw armInvalidParameter("properties.activeKey.keyUrl", "properties.activeKey.keyUrl is required.");
    const parsed = parseKeyUrl(keyUrl);
    if (!parsed || !parsed.version) {
      throw armInvalidParameter("properties.activeKey.keyUrl", `The key URL '${keyUrl}' is not a valid versioned Managed HSM key URL (https://<hsm>.managedhsm.azure.net/keys/<name>/<version>).`);
    }
    const resolved = resolveKeyUrl(rt, keyUrl);
    // UNVERIFIED code/message: DiskRP's error for a key version it cannot find.
    if (!resolved?.version) throw armInvalidParameter("properties.activeKey.keyUrl", `The key '${keyUrl}' was not found in the key vault or managed HSM.`);
    if (!resolved.version.enabled) throw armInvalidParameter("properties.activeKey.keyUrl", `The key '${keyUrl}' is disabled.`);
    if (resolved.version.expires && resolved.version.expires.getTime() <= now(rt).getTime()) {
      throw armInvalidParameter("properties.activeKey.keyUrl", `The key '${keyUrl}' has expired.`);
    }
  }
  const rotate = props.rotationToLatestKeyVersionEnabled;
  if (rotate !== undefined && typeof rotate !== "boolean") throw armInvalidParameter("properties.rotationToLatestKeyVersionEnabled", "rotationToLatestKeyVersionEnabled must be a boolean.");
  const encryptionType = props.encryptionType;
  if (encryptionType !== undefined && !["EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys", "ConfidentialVmEncryptedWithCustomerKey"].includes(encryptionType as string)) {
    throw armInvalidParameter("properties.encryptionType", `encryptionType '${String(encryptionType)}' is not valid.`);
  }
  const tags = p.tags === undefined ? undefined : obj(p.tags);
  if (p.tags !== undefined && !tags) throw armInvalidParameter("tags", "tags must be an object.");
  return () => {
    const cur = obj(des.body.properties)!;
    const active = obj(cur.activeKey);
    if (activeKey && active?.keyUrl !== keyUrl) {
      cur.previousKeys = [...((cur.previousKeys as unknown[]) ?? []), { ...active }];
      cur.activeKey = { ...activeKey };
      cur.lastKeyRotationTimestamp = iso(now(rt));
    }
    if (rotate !== undefined) cur.rotationToLatestKeyVersionEnabled = rotate;
    if (encryptionType !== undefined) cur.encryptionType = encryptionType;
    if (tags) des.body.tags = tags;
  };
}

/** StorageAccounts_Update: synchronous. UNVERIFIED error codes for key problems. */
export function updateStorageAccount(rt: Runtime, sa: ArmResource, patch: unknown): void {
  const p = obj(patch);
  if (!p) throw invalidRequestContent("The request body must be a JSON object (StorageAccountUpdateParameters).");
  const props = obj(p.properties) ?? {};
  const enc = props.encryption === undefined ? undefined : obj(props.encryption);
  if (props.encryption !== undefined && !enc) throw armBadRequest("InvalidValuesForRequestParameters", "properties.encryption must be an object.");
  const tags = p.tags === undefined ? undefined : obj(p.tags);
  let newEncryption: Json | undefined;
  if (enc) {
    const current = obj(obj(sa.body.properties)!.encryption)!;
    const keySource = enc.keySource ?? current.keySource;
    if (keySource !== "Microsoft.Storage" && keySource !== "Microsoft.Keyvault") {
      throw armBadRequest("InvalidValuesForRequestParameters", `properties.encryption.keySource '${String(keySource)}' is not valid; use Microsoft.Storage or Microsoft.Keyvault.`);
    }
    newEncryption = { ...current, keySource };
    if (enc.services !== undefined) newEncryption.services = enc.services;
    if (enc.identity !== undefined) newEncryption.identity = enc.identity;
    if (keySource === "Microsoft.Storage") {
      delete newEncryption.keyvaultproperties;
    } else {
      const kvp = obj(enc.keyvaultproperties) ?? obj(current.keyvaultproperties);
      const keyname = kvp?.keyname;
      const keyvaulturi = kvp?.keyvaulturi;
      const keyversion = (kvp?.keyversion as string | undefined) ?? "";
      if (typeof keyname !== "string" || !keyname || typeof keyvaulturi !== "string") {
        throw armBadRequest("InvalidValuesForRequestParameters", "properties.encryption.keyvaultproperties.keyname and keyvaulturi are required when keySource is Microsoft.Keyvault.");
      }
      const label = parseHsmUri(keyvaulturi);
      const hsm = label ? rt.state.hsms.get(label) : undefined;
      if (!hsm) throw armBadRequest("KeyVaultUriInvalid", `properties.encryption.keyvaultproperties.keyvaulturi '${keyvaulturi}' is not a known Managed HSM URI.`);
      const key = hsm.keys.get(keyname.toLowerCase());
      if (!key) throw armBadRequest("KeyVaultKeyNotFound", `The key '${keyname}' was not found in '${keyvaulturi}'.`);
      const version = keyversion ? findVersion(key, keyversion) : latestVersion(key);
      if (!version) throw armBadRequest("KeyVaultKeyVersionNotFound", `The key version '${keyversion}' of '${keyname}' was not found in '${keyvaulturi}'.`);
      const prev = obj(current.keyvaultproperties);
      const currentId = keyId(rt, hsm, key.name, version.version);
      newEncryption.keyvaultproperties = {
        keyname: key.name,
        keyversion,
        keyvaulturi,
        currentVersionedKeyIdentifier: currentId,
        lastKeyRotationTimestamp: prev?.currentVersionedKeyIdentifier === currentId && prev.lastKeyRotationTimestamp ? prev.lastKeyRotationTimestamp : iso(now(rt)),
      };
    }
  }
  if (newEncryption) obj(sa.body.properties)!.encryption = newEncryption;
  if (tags) sa.body.tags = tags;
}

/** ManagedInstanceKeys_CreateOrUpdate. UNVERIFIED error codes (SQL's AzureKeyVault* family). */
export function prepareManagedInstanceKey(rt: Runtime, instance: ArmResource, keyName: string, body: unknown): () => void {
  const props = obj(obj(body)?.properties);
  if (!props) throw invalidRequestContent("The request body must be a ManagedInstanceKey with properties.");
  if (props.serverKeyType !== "AzureKeyVault") throw armBadRequest("InvalidServerKeyType", "properties.serverKeyType must be AzureKeyVault for a managed instance key.");
  const uri = props.uri;
  if (typeof uri !== "string" || !parseKeyUrl(uri)?.version) {
    throw armBadRequest("AzureKeyVaultMalformedVaultUri", `properties.uri '${String(uri)}' is not a versioned key URI (https://<hsm>.managedhsm.azure.net/keys/<name>/<version>).`);
  }
  const resolved = resolveKeyUrl(rt, uri);
  if (!resolved?.version) throw armBadRequest("AzureKeyVaultKeyNameNotFound", `The key '${uri}' was not found.`);
  const expected = `${resolved.hsm.name}_${resolved.key.name}_${resolved.version.version}`;
  if (keyName.toLowerCase() !== expected.toLowerCase()) {
    throw armBadRequest("InvalidKeyName", `The key name '${keyName}' does not match the key URI; expected '${expected}' (<vault>_<key>_<version>).`);
  }
  if (!resolved.version.enabled) throw armBadRequest("AzureKeyVaultKeyDisabled", `The key '${uri}' is disabled.`);
  if (resolved.version.expires && resolved.version.expires.getTime() <= now(rt).getTime()) throw armBadRequest("AzureKeyVaultInvalidExpirationDate", `The key '${uri}' has expired.`);
  const created = now(rt);
  return () => putResource(rt.state, { ...sqlKeyResource(instance.id, instance.resourceGroup, expected, uri, created), subscriptionId: instance.subscriptionId });
}

/** ManagedInstanceEncryptionProtectors_CreateOrUpdate: serverKeyName must name an existing MI key. */
export function prepareEncryptionProtector(rt: Runtime, instance: ArmResource, body: unknown): () => void {
  const props = obj(obj(body)?.properties);
  if (!props) throw invalidRequestContent("The request body must be a ManagedInstanceEncryptionProtector with properties.");
  const serverKeyType = props.serverKeyType;
  if (serverKeyType !== "AzureKeyVault" && serverKeyType !== "ServiceManaged") throw armBadRequest("InvalidServerKeyType", "properties.serverKeyType must be AzureKeyVault or ServiceManaged.");
  const auto = props.autoRotationEnabled;
  if (auto !== undefined && typeof auto !== "boolean") throw armBadRequest("InvalidParameterValue", "properties.autoRotationEnabled must be a boolean.");
  let uri: string | undefined;
  let serverKeyName = "ServiceManaged";
  if (serverKeyType === "AzureKeyVault") {
    if (typeof props.serverKeyName !== "string" || !props.serverKeyName) throw armBadRequest("InvalidServerKeyName", "properties.serverKeyName is required for AzureKeyVault.");
    const miKey = listChildren(rt.state, instance.id, "Microsoft.Sql/managedInstances/keys").find((k) => k.name.toLowerCase() === (props.serverKeyName as string).toLowerCase());
    // UNVERIFIED code: SQL's answer when the protector names a key the instance does not have.
    if (!miKey) throw armBadRequest("ServerKeyNotFound", `The managed instance key '${props.serverKeyName}' does not exist on '${instance.name}'; add it with ManagedInstanceKeys_CreateOrUpdate first.`);
    serverKeyName = miKey.name;
    uri = String(obj(miKey.body.properties)?.uri ?? "");
    const resolved = resolveKeyUrl(rt, uri);
    if (!resolved?.version) throw armBadRequest("AzureKeyVaultKeyNameNotFound", `The key '${uri}' behind '${serverKeyName}' was not found.`);
    if (!resolved.version.enabled) throw armBadRequest("AzureKeyVaultKeyDisabled", `The key '${uri}' is disabled.`);
    if (resolved.version.expires && resolved.version.expires.getTime() <= now(rt).getTime()) throw armBadRequest("AzureKeyVaultInvalidExpirationDate", `The key '${uri}' has expired.`);
    requireKeyOnFailoverPartners(rt, instance, uri);
  }
  return () =>
    putResource(rt.state, {
      ...encryptionProtectorResource(instance.id, instance.resourceGroup, serverKeyType, serverKeyName, uri, (auto as boolean | undefined) ?? false),
      subscriptionId: instance.subscriptionId,
    });
}

/**
 * Azure requires the new protector's key on every geo-replication partner first (TDE BYOK overview,
 * §Geo-replication: "add the key to the secondary before"). UNVERIFIED code and wording: the nearest documented
 * error is SQL's SameKeyMaterialNotFoundOnRemoteServer (sql-docs #8919, seen on database copy).
 */
function requireKeyOnFailoverPartners(rt: Runtime, instance: ArmResource, uri: string): void {
  const self = instance.id.toLowerCase();
  const partners = new Set<string>();
  for (const group of listResources(rt.state, INSTANCE_FAILOVER_GROUP)) {
    const pairs = (obj(group.body.properties)?.managedInstancePairs as { primaryManagedInstanceId?: string; partnerManagedInstanceId?: string }[] | undefined) ?? [];
    for (const p of pairs) {
      const ids = [p.primaryManagedInstanceId, p.partnerManagedInstanceId].map((x) => String(x ?? "").toLowerCase());
      if (ids.includes(self)) for (const id of ids) if (id && id !== self) partners.add(id);
    }
  }
  for (const partnerId of partners) {
    const held = listChildren(rt.state, partnerId, "Microsoft.Sql/managedInstances/keys").some((k) => String(obj(k.body.properties)?.uri ?? "").toLowerCase() === uri.toLowerCase());
    if (!held) {
      throw armBadRequest(
        "SameKeyMaterialNotFoundOnRemoteServer",
        `The key '${uri}' is not a managed instance key on the geo-replication partner '${partnerId.split("/").pop() ?? partnerId}'; add it there before making it the TDE protector of '${instance.name}'.`,
      );
    }
  }
}
