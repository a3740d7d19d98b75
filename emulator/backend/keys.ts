/** Managed HSM data-plane logic: keys, versions, rotation policies and the local RBAC model. */
import { generateKeyPair, randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { addDuration, approxSeconds, parseDuration } from "../duration.js";
import { kvBadParameter, kvForbidden, kvKeyNotFound } from "../errors.js";
import { followNewKeyVersion } from "./consumers.js";
import type { Runtime } from "./runtime.js";
import { now } from "./runtime.js";
import type { HsmKey, HsmState, KeyVersion, PublicKeyMaterial, RotationPolicy } from "./state.js";
import { findVersion, latestVersion } from "./state.js";

const generateKeyPairAsync = promisify(generateKeyPair);

/** Managed HSM limit (key-rotation.md). */
export const MAX_VERSIONS_PER_KEY = 100;
/** Managed HSM minimums for rotation policies (key-rotation.md). */
const MIN_POLICY_SECONDS = 28 * 24 * 3600;

export const DATA_ACTION = {
  keysRead: "Microsoft.KeyVault/managedHsm/keys/read/action",
  keysCreate: "Microsoft.KeyVault/managedHsm/keys/create",
  keysWrite: "Microsoft.KeyVault/managedHsm/keys/write/action",
  keysRotate: "Microsoft.KeyVault/managedHsm/keys/rotate/action",
  roleAssignmentsRead: "Microsoft.KeyVault/managedHsm/roleAssignments/read/action",
  roleAssignmentsWrite: "Microsoft.KeyVault/managedHsm/roleAssignments/write/action",
  roleAssignmentsDelete: "Microsoft.KeyVault/managedHsm/roleAssignments/delete/action",
  roleDefinitionsRead: "Microsoft.KeyVault/managedHsm/roleDefinitions/read/action",
  roleDefinitionsWrite: "Microsoft.KeyVault/managedHsm/roleDefinitions/write/action",
  settingsRead: "Microsoft.KeyVault/managedHsm/settings/read/action",
  settingsWrite: "Microsoft.KeyVault/managedHsm/settings/write/action",
} as const;

// ---------------------------------------------------------------- RBAC

/** "/" ⊃ "/keys" ⊃ "/keys/<name>" (key names compared case-insensitively). */
export function normaliseScope(scope: string): string {
  const s = scope.replace(/\/+$/, "") || "/";
  return s.startsWith("/") ? s : `/${s}`;
}

export function isValidScope(scope: string): boolean {
  return /^\/(keys(\/[0-9a-zA-Z-]+)?)?$/i.test(normaliseScope(scope));
}

/** Whether `outer` is `inner` or one of its ancestors. */
export function scopeContains(outer: string, inner: string): boolean {
  const o = normaliseScope(outer).toLowerCase();
  const i = normaliseScope(inner).toLowerCase();
  return o === "/" || i === o || i.startsWith(o + "/");
}

export function dataActionsOf(hsm: HsmState, principalId: string, scope: string): Set<string> {
  const granted = new Set<string>();
  const denied = new Set<string>();
  for (const ra of hsm.roleAssignments) {
    if (ra.principalId.toLowerCase() !== principalId.toLowerCase() || !scopeContains(ra.scope, scope)) continue;
    const guid = ra.roleDefinitionId.split("/").pop()!.toLowerCase();
    const def = hsm.roleDefinitions.find((d) => d.name.toLowerCase() === guid);
    for (const p of def?.permissions ?? []) {
      p.dataActions.forEach((a) => granted.add(a.toLowerCase()));
      p.notDataActions.forEach((a) => denied.add(a.toLowerCase()));
    }
  }
  for (const d of denied) granted.delete(d);
  return granted;
}

export function authorize(hsm: HsmState, principalId: string, dataAction: string, scope: string): void {
  if (!dataActionsOf(hsm, principalId, scope).has(dataAction.toLowerCase())) {
    throw kvForbidden(
      `Operation is not allowed: caller '${principalId}' lacks data action '${dataAction}' at scope '${normaliseScope(scope)}' or above on Managed HSM '${hsm.name}'.`,
    );
  }
}

// ---------------------------------------------------------------- keys

export function getKeyOrThrow(hsm: HsmState, name: string): HsmKey {
  const key = hsm.keys.get(name.toLowerCase());
  if (!key) throw kvKeyNotFound(name);
  return key;
}

export function getVersionOrThrow(hsm: HsmState, name: string, version?: string): { key: HsmKey; version: KeyVersion } {
  const key = getKeyOrThrow(hsm, name);
  if (!version) return { key, version: latestVersion(key) };
  const v = findVersion(key, version);
  if (!v) throw kvKeyNotFound(name, version);
  return { key, version: v };
}

/**
 * Public material of a version, generated once (async, off the event loop) and cached. Fixture version ids
 * are deterministic, so the cache outlives a reset or a fixture reload: a 3072-bit RSA key takes the
 * emulator about a second to make, which would otherwise dominate every scan after a reset. Once a few keys of
 * a shape exist, a new version (a rotation) takes one of them instead of a fresh one: the emulator does no
 * cryptography with them, and a second per rotation would dominate every rotation test.
 */
export function materialOf(key: HsmKey, v: KeyVersion): Promise<PublicKeyMaterial> {
  if (!v.material) {
    const shape = `${key.kty}/${key.keySize ?? ""}/${key.curve ?? ""}`;
    const cacheKey = `${shape}/${v.version}`;
    const pool = materialPools.get(shape) ?? [];
    materialPools.set(shape, pool);
    let material = materialCache.get(cacheKey);
    if (!material) {
      material = pool.length >= MATERIAL_POOL_SIZE ? (pool[parseInt(v.version.slice(0, 8), 16) % pool.length] as Promise<PublicKeyMaterial>) : generateMaterial(key);
      if (pool.length < MATERIAL_POOL_SIZE) pool.push(material);
    }
    v.material = material;
    if (materialCache.size < 10_000) materialCache.set(cacheKey, v.material);
  }
  return v.material;
}

const MATERIAL_POOL_SIZE = 2;
const materialCache = new Map<string, Promise<PublicKeyMaterial>>();
const materialPools = new Map<string, Promise<PublicKeyMaterial>[]>();

function generateMaterial(key: HsmKey): Promise<PublicKeyMaterial> {
  {
    return (async (): Promise<PublicKeyMaterial> => {
      if (key.kty.startsWith("RSA")) {
        const { publicKey } = await generateKeyPairAsync("rsa", { modulusLength: key.keySize ?? 2048 });
        const jwk = publicKey.export({ format: "jwk" });
        return { n: jwk.n, e: jwk.e };
      }
      if (key.kty.startsWith("EC")) {
        const namedCurve = { "P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1" }[key.curve ?? "P-256"] ?? "prime256v1";
        const { publicKey } = await generateKeyPairAsync("ec", { namedCurve });
        const jwk = publicKey.export({ format: "jwk" });
        return { crv: key.curve ?? "P-256", x: jwk.x, y: jwk.y };
      }
      return {}; // oct-HSM: symmetric, nothing public
    })();
  }
}

const newVersionId = (): string => randomBytes(16).toString("hex");

function addVersion(rt: Runtime, hsm: HsmState, key: HsmKey, init: Partial<KeyVersion>): KeyVersion {
  if (key.versions.length >= MAX_VERSIONS_PER_KEY) {
    // UNVERIFIED code: Managed HSM documents the 100-version limit but not the error it returns.
    throw kvBadParameter(`Key '${key.name}' already has ${MAX_VERSIONS_PER_KEY} versions, the Managed HSM limit per key.`);
  }
  const t = now(rt);
  const prev = key.versions.length ? latestVersion(key) : undefined;
  const v: KeyVersion = {
    version: newVersionId(),
    created: t,
    updated: t,
    enabled: true,
    keyOps: prev ? [...prev.keyOps] : [],
    tags: prev ? { ...prev.tags } : {},
    ...init,
  };
  key.versions.push(v);
  followNewKeyVersion(rt, hsm, key);
  return v;
}

export interface CreateKeyInput {
  kty?: unknown;
  key_size?: unknown;
  crv?: unknown;
  key_ops?: unknown;
  attributes?: { enabled?: unknown; exp?: unknown; nbf?: unknown; exportable?: unknown };
  tags?: unknown;
  release_policy?: unknown;
}

const KEY_OPS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey", "import", "export"];

function parseKeyOps(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string" && KEY_OPS.includes(x))) {
    throw kvBadParameter(`key_ops must be an array of: ${KEY_OPS.join(", ")}.`);
  }
  return v as string[];
}

function parseUnix(field: string, v: unknown): Date | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw kvBadParameter(`${field} must be a Unix time in seconds.`);
  return new Date(v * 1000);
}

function parseTags(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v) || !Object.values(v).every((x) => typeof x === "string")) throw kvBadParameter("tags must be an object of strings.");
  return v as Record<string, string>;
}

export function createKey(rt: Runtime, hsm: HsmState, name: string, body: CreateKeyInput): { key: HsmKey; version: KeyVersion } {
  if (!/^[0-9a-zA-Z-]{1,127}$/.test(name)) throw kvBadParameter(`The key name '${name}' is invalid: use 1-127 letters, digits or dashes.`);
  const kty = body.kty;
  if (typeof kty !== "string" || !["RSA", "RSA-HSM", "EC", "EC-HSM", "oct-HSM"].includes(kty)) {
    throw kvBadParameter("The parameter kty is missing or invalid; Managed HSM supports RSA-HSM, EC-HSM and oct-HSM.");
  }
  if (body.release_policy !== undefined && body.release_policy !== null) {
    throw kvBadParameter("release_policy is not supported by the emulator (secure key release is not modelled).");
  }
  const isRsa = kty.startsWith("RSA");
  const keySize = body.key_size ?? (isRsa ? 2048 : kty === "oct-HSM" ? 256 : undefined);
  if (isRsa && ![2048, 3072, 4096].includes(keySize as number)) throw kvBadParameter("key_size must be 2048, 3072 or 4096 for RSA keys.");
  if (kty === "oct-HSM" && ![128, 192, 256].includes(keySize as number)) throw kvBadParameter("key_size must be 128, 192 or 256 for oct-HSM keys.");
  const curve = kty.startsWith("EC") ? (body.crv ?? "P-256") : undefined;
  if (curve !== undefined && !["P-256", "P-384", "P-521"].includes(curve as string)) throw kvBadParameter("crv must be P-256, P-384 or P-521.");
  const attrs = body.attributes ?? {};
  const exportable = attrs.exportable;
  if (exportable !== undefined && typeof exportable !== "boolean") throw kvBadParameter("attributes.exportable must be a boolean.");
  if (attrs.enabled !== undefined && typeof attrs.enabled !== "boolean") throw kvBadParameter("attributes.enabled must be a boolean.");
  const keyOps = parseKeyOps(body.key_ops) ?? (isRsa ? ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"] : kty === "oct-HSM" ? ["encrypt", "decrypt", "wrapKey", "unwrapKey"] : ["sign", "verify"]);
  const init: Partial<KeyVersion> = {
    keyOps,
    tags: parseTags(body.tags) ?? {},
    enabled: (attrs.enabled as boolean | undefined) ?? true,
    expires: parseUnix("attributes.exp", attrs.exp),
    notBefore: parseUnix("attributes.nbf", attrs.nbf),
  };
  let key = hsm.keys.get(name.toLowerCase());
  if (!key) {
    key = { name, kty: kty.replace(/^(RSA|EC)$/, "$1-HSM"), keySize: isRsa || kty === "oct-HSM" ? (keySize as number) : undefined, curve: curve as string | undefined, exportable: exportable ?? false, versions: [] };
    hsm.keys.set(name.toLowerCase(), key);
  } else {
    // Creating an existing key adds a version (Key Vault semantics); the new version's shape wins.
    key.kty = kty.replace(/^(RSA|EC)$/, "$1-HSM");
    key.keySize = isRsa || kty === "oct-HSM" ? (keySize as number) : undefined;
    key.curve = curve as string | undefined;
    if (exportable !== undefined) key.exportable = exportable;
  }
  const version = addVersion(rt, hsm, key, init);
  return { key, version };
}

export interface UpdateKeyInput {
  key_ops?: unknown;
  attributes?: { enabled?: unknown; exp?: unknown; nbf?: unknown; exportable?: unknown };
  tags?: unknown;
  release_policy?: unknown;
}

export function updateKey(rt: Runtime, hsm: HsmState, name: string, versionId: string | undefined, body: UpdateKeyInput): { key: HsmKey; version: KeyVersion } {
  const { key, version } = getVersionOrThrow(hsm, name, versionId);
  const attrs = body.attributes ?? {};
  if (attrs.enabled !== undefined && attrs.enabled !== null) {
    if (typeof attrs.enabled !== "boolean") throw kvBadParameter("attributes.enabled must be a boolean.");
    version.enabled = attrs.enabled;
  }
  if (attrs.exportable !== undefined && attrs.exportable !== null) throw kvBadParameter("attributes.exportable cannot be changed after creation.");
  if ("exp" in attrs) version.expires = parseUnix("attributes.exp", attrs.exp);
  if ("nbf" in attrs) version.notBefore = parseUnix("attributes.nbf", attrs.nbf);
  const ops = parseKeyOps(body.key_ops);
  if (ops) version.keyOps = ops;
  const tags = parseTags(body.tags);
  if (tags) version.tags = tags;
  if (body.release_policy !== undefined && body.release_policy !== null) throw kvBadParameter("release_policy is not supported by the emulator.");
  version.updated = now(rt);
  return { key, version };
}

export function rotateKey(rt: Runtime, hsm: HsmState, name: string): { key: HsmKey; version: KeyVersion } {
  const key = getKeyOrThrow(hsm, name);
  const policy = key.rotationPolicy;
  if (!policy) {
    // Managed HSM: "the rotation policy must be set before keys can be rotated on-demand". UNVERIFIED status/code.
    throw kvBadParameter(`Key '${key.name}' has no rotation policy; set one before rotating the key on demand.`);
  }
  const t = now(rt);
  const version = addVersion(rt, hsm, key, { expires: policy.expiryTime ? addDuration(t, policy.expiryTime) : undefined });
  return { key, version };
}

export interface RotationPolicyInput {
  lifetimeActions?: unknown;
  attributes?: { expiryTime?: unknown };
}

export function setRotationPolicy(rt: Runtime, hsm: HsmState, name: string, body: RotationPolicyInput): { key: HsmKey; policy: RotationPolicy } {
  const key = getKeyOrThrow(hsm, name);
  const expiryTime = body.attributes?.expiryTime ?? undefined;
  if (expiryTime !== undefined && expiryTime !== null) {
    const d = typeof expiryTime === "string" ? parseDuration(expiryTime) : undefined;
    if (!d || d.sign < 0) throw kvBadParameter(`attributes.expiryTime '${String(expiryTime)}' is not an ISO-8601 duration.`);
    if (approxSeconds(d) < MIN_POLICY_SECONDS) throw kvBadParameter(`attributes.expiryTime '${expiryTime}' is shorter than the Managed HSM minimum of P28D.`);
  }
  const raw = body.lifetimeActions ?? [];
  if (!Array.isArray(raw)) throw kvBadParameter("lifetimeActions must be an array.");
  const actions: RotationPolicy["lifetimeActions"] = raw.map((a: unknown, i: number) => {
    const la = (a ?? {}) as { trigger?: { timeAfterCreate?: unknown; timeBeforeExpiry?: unknown }; action?: { type?: unknown } };
    const type = la.action?.type;
    const typeNorm = typeof type === "string" ? (type.toLowerCase() === "rotate" ? "Rotate" : type.toLowerCase() === "notify" ? "Notify" : undefined) : undefined;
    if (!typeNorm) throw kvBadParameter(`lifetimeActions[${i}].action.type must be Rotate or Notify.`);
    const tac = la.trigger?.timeAfterCreate ?? undefined;
    const tbe = la.trigger?.timeBeforeExpiry ?? undefined;
    if ((tac === undefined) === (tbe === undefined)) throw kvBadParameter(`lifetimeActions[${i}].trigger needs exactly one of timeAfterCreate and timeBeforeExpiry.`);
    for (const [f, v] of [["timeAfterCreate", tac], ["timeBeforeExpiry", tbe]] as const) {
      if (v === undefined) continue;
      const d = typeof v === "string" ? parseDuration(v) : undefined;
      if (!d || d.sign < 0) throw kvBadParameter(`lifetimeActions[${i}].trigger.${f} '${String(v)}' is not an ISO-8601 duration.`);
      if (f === "timeAfterCreate" && approxSeconds(d) < MIN_POLICY_SECONDS) {
        throw kvBadParameter(`lifetimeActions[${i}].trigger.timeAfterCreate '${v}' is shorter than the Managed HSM minimum of P28D.`);
      }
    }
    if (typeNorm === "Notify" && tac !== undefined) throw kvBadParameter(`lifetimeActions[${i}]: a Notify action takes timeBeforeExpiry only.`);
    return { action: typeNorm, ...(tac !== undefined ? { timeAfterCreate: tac as string } : {}), ...(tbe !== undefined ? { timeBeforeExpiry: tbe as string } : {}) };
  });
  if (actions.filter((a) => a.action === "Rotate").length > 1) throw kvBadParameter("lifetimeActions may contain at most one Rotate action.");
  const t = now(rt);
  key.rotationPolicy = {
    lifetimeActions: actions,
    expiryTime: (expiryTime as string | null | undefined) ?? undefined,
    created: key.rotationPolicy?.created ?? t,
    updated: t,
  };
  return { key, policy: key.rotationPolicy };
}
