import { KeyClient, type KeyProperties, type KeyRotationPolicy, type KeyVaultKey } from "@azure/keyvault-keys";
import type { TokenCredential } from "@azure/core-auth";
import type { KeySnapshot, KeyVersionSnapshot, RotationPolicySnapshot } from "../../estate/snapshot.js";
import type { CommonClientOptions } from "../pipelineOptions.js";
import { call, collectPages } from "../errors.js";
import { writeOptions, type WriteOptions } from "../writeOptions.js";

/** Managed HSM keys through @azure/keyvault-keys, mapped to snapshot types. */
export class ManagedHsmKeys {
  private readonly client: KeyClient;

  constructor(readonly hsmUri: string, credential: TokenCredential, options: CommonClientOptions) {
    this.client = new KeyClient(hsmUri, credential, {
      retryOptions: options.retryOptions,
      ...(options.agent ? { agent: options.agent } : {}),
      ...(options.httpClient ? { httpClient: options.httpClient } : {}),
    });
  }

  listKeyNames(): Promise<string[]> {
    return collectPages("keys.listPropertiesOfKeys", this.keysUrl(), this.client.listPropertiesOfKeys(), (p) => p.name);
  }

  /** The latest version of a key, without its versions or rotation policy. */
  async getKey(name: string): Promise<Omit<KeySnapshot, "versions" | "rotationPolicy">> {
    const key = await call("keys.getKey", this.keysUrl(name), () => this.client.getKey(name));
    return mapKey(key);
  }

  listVersions(name: string): Promise<KeyVersionSnapshot[]> {
    return collectPages("keys.listPropertiesOfKeyVersions", this.keysUrl(name), this.client.listPropertiesOfKeyVersions(name), mapVersion);
  }

  async getRotationPolicy(name: string): Promise<RotationPolicySnapshot> {
    const policy = await call("keys.getKeyRotationPolicy", this.keysUrl(name), () => this.client.getKeyRotationPolicy(name));
    return mapRotationPolicy(policy);
  }

  /** One version's attributes (a fresh read, for the executor's preconditions). */
  async getVersion(name: string, version: string): Promise<KeyVersionSnapshot> {
    const key = await call("keys.getKey", this.keysUrl(`${name}/${version}`), () => this.client.getKey(name, { version }));
    return mapVersion(key.properties);
  }

  /** Creates a new version of the key now (Managed HSM requires a rotation policy first); returns the new current key. */
  async rotateKey(name: string, options: Pick<WriteOptions, "onRequestId"> = {}): Promise<Omit<KeySnapshot, "versions" | "rotationPolicy">> {
    const { onResponse } = writeOptions({ pollIntervalMs: 0, ...options });
    const key = await call("keys.rotateKey", this.keysUrl(name), () => this.client.rotateKey(name, { onResponse }));
    return mapKey(key);
  }

  /** Sets the key's rotation policy: each version expires `expiresIn` after creation and rotates `rotateTimeAfterCreate` after it. */
  async setRotationPolicy(name: string, policy: { expiresIn: string; rotateTimeAfterCreate: string }, options: Pick<WriteOptions, "onRequestId"> = {}): Promise<RotationPolicySnapshot> {
    const { onResponse } = writeOptions({ pollIntervalMs: 0, ...options });
    const updated = await call("keys.updateKeyRotationPolicy", `${this.keysUrl(name)}/rotationpolicy`, () =>
      this.client.updateKeyRotationPolicy(name, { expiresIn: policy.expiresIn, lifetimeActions: [{ action: "Rotate", timeAfterCreate: policy.rotateTimeAfterCreate }] }, { onResponse }),
    );
    return mapRotationPolicy(updated);
  }

  private keysUrl(name?: string): string {
    return `${this.hsmUri.replace(/\/+$/, "")}/keys${name ? `/${name}` : ""}`;
  }
}

function iso(d: Date | undefined): string | undefined {
  return d ? d.toISOString() : undefined;
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** RSA modulus length in bits (a leading zero byte, if any, is not part of the key size). */
function rsaKeySize(n: Uint8Array | undefined): number | undefined {
  if (!n || n.length === 0) return undefined;
  let bytes = n.length;
  let i = 0;
  while (i < n.length - 1 && n[i] === 0) {
    bytes--;
    i++;
  }
  return bytes * 8;
}

export function mapKey(key: KeyVaultKey): Omit<KeySnapshot, "versions" | "rotationPolicy"> {
  const p = key.properties;
  return defined({
    name: key.name,
    id: versionless(key.id ?? p.id, key.name),
    currentVersion: p.version,
    keyType: key.keyType,
    keySize: rsaKeySize(key.key?.n),
    keyOps: [...(key.keyOperations ?? [])],
    enabled: p.enabled,
    exportable: p.exportable,
    hasReleasePolicy: p.releasePolicy !== undefined && p.releasePolicy !== null,
    createdOn: iso(p.createdOn),
    updatedOn: iso(p.updatedOn),
    expiresOn: iso(p.expiresOn),
    notBefore: iso(p.notBefore),
    recoveryLevel: p.recoveryLevel,
    recoverableDays: p.recoverableDays,
    tags: { ...(p.tags ?? {}) },
  });
}

function versionless(id: string | undefined, name: string): string {
  if (!id) return name;
  const u = new URL(id);
  return `${u.origin}/keys/${name}`;
}

export function mapVersion(p: KeyProperties): KeyVersionSnapshot {
  if (!p.version) throw new Error(`Key version item for "${p.name}" has no version in its id (${p.id ?? "no id"})`);
  return defined({
    version: p.version,
    id: p.id ?? `${p.vaultUrl.replace(/\/+$/, "")}/keys/${p.name}/${p.version}`,
    enabled: p.enabled,
    createdOn: iso(p.createdOn),
    updatedOn: iso(p.updatedOn),
    expiresOn: iso(p.expiresOn),
    notBefore: iso(p.notBefore),
  });
}

export function mapRotationPolicy(policy: KeyRotationPolicy): RotationPolicySnapshot {
  return defined({
    expiresIn: policy.expiresIn,
    lifetimeActions: (policy.lifetimeActions ?? []).map((a) =>
      defined({ action: a.action, timeAfterCreate: a.timeAfterCreate, timeBeforeExpiry: a.timeBeforeExpiry }),
    ),
    createdOn: iso(policy.createdOn),
    updatedOn: iso(policy.updatedOn),
  });
}
