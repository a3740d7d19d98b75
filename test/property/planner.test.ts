import "./seed.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PolicyDocument } from "../../src/lib/config/types.js";
import { parseKeyReference } from "../../src/lib/estate/keyReference.js";
import type { Consumer, EstateSnapshot, KeySnapshot, KeyVersionSnapshot, ManagedHsmSnapshot, RoleAssignmentSnapshot, RoleDefinitionSnapshot } from "../../src/lib/estate/snapshot.js";
import { NEW_VERSION, type PlanStep, type RotationPlan, type StateValue } from "../../src/lib/rotation/plan.js";
import { planRotation } from "../../src/lib/rotation/planner.js";
import { sqlServerKeyName } from "../../src/lib/rotation/sqlServerKeyName.js";
import { contosoPolicy, loadSnapshot } from "../support/snapshots.js";

/*
 * Random estates as snapshot data, built on the Contoso reference estate (one HSM, three keys, a SQL MI, two DES, a
 * storage account): each key gets random versions (enabled or not, expired, not yet active, at the version cap) and
 * rotation policy; each consumer a random version, auto-rotation setting and failover-group read; each consumer
 * identity random role assignments at random scopes (covering or not) with roles that grant read/wrap/unwrap, part
 * of it, or whose definition is unknown. The oracle for access and usability below is written apart from the planner.
 */

const NOW = new Date("2026-11-28T00:00:00.000Z");
const DAY = 86_400_000;
const KEY_NAMES = ["Contoso-SQLMI-CMK", "Contoso-DISK-CMK", "Contoso-STORAGE-CMK"] as const;
const CONSUMER_KINDS: readonly PlanStep["kind"][] = ["sqlMiKey", "tdeProtector", "diskEncryptionSet", "storageAccount"];

const READ = "Microsoft.KeyVault/managedHsm/keys/read/action";
const WRAP = "Microsoft.KeyVault/managedHsm/keys/wrap/action";
const UNWRAP = "Microsoft.KeyVault/managedHsm/keys/unwrap/action";

/** Roles a consumer identity may hold, with what each grants (the oracle's own table). */
const ROLES = {
  serviceEncryptionUser: { id: "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/33413926-3206-4cdd-b39a-83574fe37a17", grants: [READ, WRAP, UNWRAP] },
  cryptoUser: { id: "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/21dbd100-6940-42c2-9190-5d6cb909625b", grants: [READ, WRAP, UNWRAP] },
  cryptoAuditor: { id: "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/2c18b078-7c48-4d3a-af88-5a3a1b3f82b3", grants: [READ] },
  wrapNoRead: { id: "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/c0000000-0000-4000-8000-00000000000a", grants: [WRAP, UNWRAP] },
  allKeysButUnwrap: { id: "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/c0000000-0000-4000-8000-00000000000b", grants: [READ, WRAP] },
  /** Assigned, but its definition is not in the snapshot: access cannot be proven. */
  unknownRole: { id: "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/c0000000-0000-4000-8000-00000000000c", grants: [] },
} as const;
type RoleName = keyof typeof ROLES;

const CUSTOM_DEFINITIONS: RoleDefinitionSnapshot[] = [
  {
    id: ROLES.wrapNoRead.id,
    name: "c0000000-0000-4000-8000-00000000000a",
    roleName: "Wrap without read",
    roleType: "CustomRole",
    assignableScopes: ["/"],
    permissions: [{ actions: [], notActions: [], dataActions: [WRAP, UNWRAP], notDataActions: [] }],
  },
  {
    id: ROLES.allKeysButUnwrap.id,
    name: "c0000000-0000-4000-8000-00000000000b",
    roleName: "Every key action but unwrap",
    roleType: "CustomRole",
    assignableScopes: ["/"],
    permissions: [{ actions: [], notActions: [], dataActions: ["Microsoft.KeyVault/managedHsm/keys/*"], notDataActions: [UNWRAP, "Microsoft.KeyVault/managedHsm/keys/*/action/x"] }],
  },
];

interface VersionSpec {
  enabled: boolean;
  createdDaysAgo: number;
  expiresAfterDays: number | undefined;
  notBeforeInDays: number | undefined;
}

interface KeySpec {
  versions: VersionSpec[];
  rotationPolicy: "desired" | "none" | "unread";
  atVersionCap: boolean;
}

interface ConsumerSpec {
  /** Index into the key's versions (mod their count); -1: versionless, where the kind allows it. */
  version: number;
  autoRotation: boolean;
  /** SQL MI: failover groups read ([]) or not (null); the server keys it holds, by version index. */
  failoverGroupsRead: boolean;
  registered: number[];
  grants: { scope: "/" | "/keys" | "own" | "OWN" | "other"; role: RoleName }[];
}

interface EstateSpec {
  keys: [KeySpec, KeySpec, KeySpec];
  sqlMi: ConsumerSpec;
  desSouth: ConsumerSpec;
  desCentral: ConsumerSpec;
  storage: ConsumerSpec;
  roleAssignmentsRead: boolean;
}

const versionSpec: fc.Arbitrary<VersionSpec> = fc.record({
  enabled: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  createdDaysAgo: fc.integer({ min: 0, max: 400 }),
  expiresAfterDays: fc.option(fc.integer({ min: 1, max: 500 }), { nil: undefined }),
  notBeforeInDays: fc.option(fc.integer({ min: -30, max: 30 }), { nil: undefined, freq: 4 }),
});

const keySpec: fc.Arbitrary<KeySpec> = fc.record({
  versions: fc.array(versionSpec, { minLength: 1, maxLength: 4 }),
  rotationPolicy: fc.constantFrom("desired", "desired", "none", "unread"),
  atVersionCap: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

const grant = fc.record({
  scope: fc.constantFrom("/", "/keys", "own", "own", "OWN", "other"),
  role: fc.constantFrom<RoleName>("serviceEncryptionUser", "serviceEncryptionUser", "cryptoUser", "cryptoAuditor", "wrapNoRead", "allKeysButUnwrap", "unknownRole"),
});

const consumerSpec: fc.Arbitrary<ConsumerSpec> = fc.record({
  version: fc.integer({ min: -1, max: 3 }),
  autoRotation: fc.boolean(),
  failoverGroupsRead: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  registered: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
  grants: fc.array(grant, { maxLength: 3 }),
});

const estateSpec: fc.Arbitrary<EstateSpec> = fc.record({
  keys: fc.tuple(keySpec, keySpec, keySpec),
  sqlMi: consumerSpec,
  desSouth: consumerSpec,
  desCentral: consumerSpec,
  storage: consumerSpec,
  roleAssignmentsRead: fc.oneof({ weight: 8, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});

const versionId = (key: number, index: number): string => `${key}${index}`.padStart(32, "a");
const iso = (ms: number): string => new Date(ms).toISOString();

function hsmOf(snapshot: EstateSnapshot): ManagedHsmSnapshot {
  const hsm = snapshot.managedHsms[0];
  if (!hsm?.hsmUri) throw new Error("the reference estate has an HSM with a URI");
  return hsm;
}

function keyOf(hsm: ManagedHsmSnapshot, name: string): KeySnapshot {
  const key = hsm.keys?.find((k) => k.name === name);
  if (!key) throw new Error(`no key ${name}`);
  return key;
}

function buildKey(key: KeySnapshot, index: number, spec: KeySpec, policy: PolicyDocument): void {
  const versions: KeyVersionSnapshot[] = [...spec.versions]
    .sort((a, b) => b.createdDaysAgo - a.createdDaysAgo)
    .map((v, i) => {
      const created = NOW.getTime() - v.createdDaysAgo * DAY;
      return {
        version: versionId(index, i),
        id: `${key.id}/${versionId(index, i)}`,
        enabled: v.enabled,
        createdOn: iso(created),
        ...(v.expiresAfterDays === undefined ? {} : { expiresOn: iso(created + v.expiresAfterDays * DAY) }),
        ...(v.notBeforeInDays === undefined ? {} : { notBefore: iso(NOW.getTime() + v.notBeforeInDays * DAY) }),
      };
    });
  const filler = spec.atVersionCap ? Math.max(0, policy.thresholds.maxKeyVersions - versions.length) : 0;
  const old: KeyVersionSnapshot[] = Array.from({ length: filler }, (_, i) => ({
    version: `f${index}${i}`.padStart(32, "e"),
    id: `${key.id}/${`f${index}${i}`.padStart(32, "e")}`,
    enabled: false,
    createdOn: iso(NOW.getTime() - (900 + i) * DAY),
  }));
  const current = versions.at(-1);
  if (!current) throw new Error("a key spec has a version");
  key.versions = [...old, ...versions];
  key.currentVersion = current.version;
  key.enabled = current.enabled;
  key.createdOn = current.createdOn;
  key.expiresOn = current.expiresOn;
  key.notBefore = current.notBefore;
  key.rotationPolicy =
    spec.rotationPolicy === "unread" ? null : spec.rotationPolicy === "none" ? { lifetimeActions: [] } : { expiresIn: "P1Y", lifetimeActions: [{ action: "Rotate", timeAfterCreate: "P180D" }] };
}

/** The spec's versions of `key` (not the filler), by index mod their count; null for versionless. */
function pickVersion(key: KeySnapshot, spec: ConsumerSpec, versionless: boolean): string | null {
  if (spec.version < 0 && versionless) return null;
  const own = (key.versions ?? []).filter((v) => v.version.startsWith("a"));
  return own[Math.abs(spec.version) % own.length]?.version ?? null;
}

function grantsFor(principalId: string, ownKey: string, spec: ConsumerSpec): RoleAssignmentSnapshot[] {
  return spec.grants.map((g, i) => ({
    id: `/providers/Microsoft.Authorization/roleAssignments/${principalId}-${i}`,
    name: `${principalId}-${i}`,
    scope: g.scope === "own" ? `/keys/${ownKey}` : g.scope === "OWN" ? `/keys/${ownKey.toUpperCase()}` : g.scope === "other" ? `/keys/${KEY_NAMES.find((k) => k !== ownKey) ?? ""}` : g.scope,
    principalId,
    roleDefinitionId: ROLES[g.role].id,
  }));
}

function buildEstate(spec: EstateSpec, policy: PolicyDocument): EstateSnapshot {
  const snapshot = loadSnapshot();
  const hsm = hsmOf(snapshot);
  const hsmUri = hsm.hsmUri ?? "";
  KEY_NAMES.forEach((name, i) => buildKey(keyOf(hsm, name), i, spec.keys[i] as KeySpec, policy));
  hsm.roleDefinitions = [...(hsm.roleDefinitions ?? []), ...CUSTOM_DEFINITIONS];
  const consumerPrincipals = new Set<string>();
  const granted: RoleAssignmentSnapshot[] = [];
  const url = (keyName: string, version: string | null): string => `${hsmUri.replace(/\/+$/, "")}/keys/${keyName}${version ? `/${version}` : ""}`;

  const [mi] = snapshot.consumers.sqlManagedInstances;
  if (!mi?.encryptionProtector) throw new Error("the reference estate has a SQL MI with a protector");
  const sqlKey = keyOf(hsm, "Contoso-SQLMI-CMK");
  const miVersion = pickVersion(sqlKey, spec.sqlMi, false);
  mi.encryptionProtector = { ...mi.encryptionProtector, uri: url(sqlKey.name, miVersion), keyReference: parseKeyReference(url(sqlKey.name, miVersion)), autoRotationEnabled: spec.sqlMi.autoRotation };
  const own = (sqlKey.versions ?? []).filter((v) => v.version.startsWith("a"));
  mi.keys = [...new Set([...(miVersion ? [miVersion] : []), ...spec.sqlMi.registered.map((i) => own[i % own.length]?.version ?? "")])]
    .filter(Boolean)
    .map((v) => ({ name: sqlServerKeyName(hsmUri, sqlKey.name, v), serverKeyType: "AzureKeyVault", uri: url(sqlKey.name, v) }));
  mi.failoverGroups = spec.sqlMi.failoverGroupsRead ? [] : null;

  const diskKey = keyOf(hsm, "Contoso-DISK-CMK");
  for (const des of snapshot.consumers.diskEncryptionSets) {
    const s = des.name.endsWith("southindia") ? spec.desSouth : spec.desCentral;
    const v = pickVersion(diskKey, s, false);
    des.activeKeyUrl = url(diskKey.name, v);
    des.keyReference = parseKeyReference(des.activeKeyUrl);
    des.rotationToLatestKeyVersionEnabled = s.autoRotation;
  }

  const storageKey = keyOf(hsm, "Contoso-STORAGE-CMK");
  for (const account of snapshot.consumers.storageAccounts) {
    const v = pickVersion(storageKey, spec.storage, true);
    const followed = pickVersion(storageKey, { ...spec.storage, version: Math.abs(spec.storage.version) }, false);
    if (v) account.keyVersion = v;
    else delete account.keyVersion;
    account.keyReference = parseKeyReference(url(storageKey.name, v));
    account.currentVersionedKeyIdentifier = url(storageKey.name, v ?? followed);
  }

  const specs = new Map<string, ConsumerSpec>([
    [mi.resourceId, spec.sqlMi],
    ...snapshot.consumers.diskEncryptionSets.map((d): [string, ConsumerSpec] => [d.resourceId, d.name.endsWith("southindia") ? spec.desSouth : spec.desCentral]),
    ...snapshot.consumers.storageAccounts.map((a): [string, ConsumerSpec] => [a.resourceId, spec.storage]),
  ]);
  for (const consumer of allConsumers(snapshot)) {
    const principal = consumer.identity?.principalId;
    const s = specs.get(consumer.resourceId);
    if (!principal || !s) throw new Error(`${consumer.name} has a system-assigned identity and a spec`);
    consumerPrincipals.add(principal.toLowerCase());
    granted.push(...grantsFor(principal, consumerKeyName(consumer), s));
  }
  hsm.roleAssignments = spec.roleAssignmentsRead ? [...(hsm.roleAssignments ?? []).filter((a) => !consumerPrincipals.has(a.principalId.toLowerCase())), ...granted] : null;
  return snapshot;
}

function allConsumers(snapshot: EstateSnapshot): Consumer[] {
  const c = snapshot.consumers;
  return [...c.sqlManagedInstances, ...c.diskEncryptionSets, ...c.storageAccounts];
}

function consumerKeyName(consumer: Consumer): string {
  const ref = consumer.kind === "sqlManagedInstance" ? consumer.encryptionProtector?.keyReference : consumer.keyReference;
  return ref?.keyName ?? "";
}

// ---------------------------------------------------------------- the oracle

/** Can the consumer's identity read, wrap and unwrap `keyName`, by assignments at scopes that cover the key? */
function canUnwrap(hsm: ManagedHsmSnapshot, consumer: Consumer, keyName: string): boolean {
  const principal = consumer.identity?.principalId?.toLowerCase();
  if (!principal || hsm.roleAssignments === null) return false;
  const covering = hsm.roleAssignments.filter((a) => {
    const scope = a.scope.toLowerCase().replace(/\/+$/, "") || "/";
    return a.principalId.toLowerCase() === principal && (scope === "/" || scope === "/keys" || scope === `/keys/${keyName.toLowerCase()}`);
  });
  const granted = new Set<string>(covering.flatMap((a) => Object.values(ROLES).find((r) => r.id === a.roleDefinitionId)?.grants ?? []));
  return [READ, WRAP, UNWRAP].every((action) => granted.has(action));
}

function usable(version: KeyVersionSnapshot | undefined): boolean {
  if (!version) return false;
  if (version.enabled === false) return false;
  if (version.expiresOn && Date.parse(version.expiresOn) <= NOW.getTime()) return false;
  if (version.notBefore && Date.parse(version.notBefore) > NOW.getTime()) return false;
  return true;
}

/** The version a consumer step moves its consumer to, from its `after` state. */
function targetOf(step: PlanStep): string {
  const after = step.after;
  const value = after.protectorUri ?? after.uri ?? after.activeKeyUrl ?? after.currentVersionedKeyIdentifier ?? after.keyVersion;
  if (typeof value !== "string") throw new Error(`step ${step.id} names no target`);
  return value.includes("/") ? (value.split("/").at(-1) ?? "") : value;
}

// ---------------------------------------------------------------- executing a plan, purely

const NEW_VERSION_ID = (keyName: string): string => `${KEY_NAMES.indexOf(keyName as (typeof KEY_NAMES)[number])}new`.padStart(32, "b");

/**
 * The snapshot as it would be once every step that can run has run (the executor's rule: a blocked step never runs,
 * nor does one that depends on a step that did not), with versionless consumers caught up.
 */
function executed(snapshot: EstateSnapshot, plan: RotationPlan): EstateSnapshot {
  const next = JSON.parse(JSON.stringify(snapshot)) as EstateSnapshot;
  const hsm = hsmOf(next);
  const byId = new Map(allConsumers(next).map((c) => [c.resourceId.toLowerCase(), c]));
  const ran = new Set<string>();
  for (const step of plan.steps) {
    if (step.action === "blocked" || !step.dependsOn.every((id) => ran.has(id))) continue;
    ran.add(step.id);
    const key = keyOf(hsm, step.key.name);
    const fresh = NEW_VERSION_ID(key.name);
    const value = (v: StateValue | undefined): string => String(v ?? "").replaceAll(NEW_VERSION, fresh);
    switch (step.kind) {
      case "rotationPolicy":
        key.rotationPolicy = { expiresIn: value(step.after.expiresIn), lifetimeActions: [{ action: "Rotate", timeAfterCreate: value(step.after.rotateTimeAfterCreate) }] };
        break;
      case "rotateKey": {
        const version: KeyVersionSnapshot = { version: fresh, id: `${key.id}/${fresh}`, enabled: true, createdOn: NOW.toISOString(), expiresOn: iso(NOW.getTime() + 365 * DAY) };
        key.versions = [...(key.versions ?? []), version];
        Object.assign(key, { currentVersion: fresh, enabled: true, createdOn: version.createdOn, expiresOn: version.expiresOn, notBefore: undefined });
        break;
      }
      case "sqlMiKey": {
        const mi = byId.get(step.resource.id.toLowerCase());
        if (mi?.kind !== "sqlManagedInstance") throw new Error(`${step.id} is not about a SQL MI`);
        mi.keys = [...(mi.keys ?? []), { name: value(step.after.registeredKey), serverKeyType: "AzureKeyVault", uri: value(step.after.uri) }];
        break;
      }
      case "tdeProtector": {
        const mi = byId.get(step.resource.id.toLowerCase());
        if (mi?.kind !== "sqlManagedInstance" || !mi.encryptionProtector) throw new Error(`${step.id} is not about a SQL MI with a protector`);
        const uri = value(step.after.protectorUri);
        mi.encryptionProtector = { ...mi.encryptionProtector, uri, keyReference: parseKeyReference(uri) };
        break;
      }
      case "diskEncryptionSet": {
        const des = byId.get(step.resource.id.toLowerCase());
        if (des?.kind !== "diskEncryptionSet") throw new Error(`${step.id} is not about a DES`);
        des.activeKeyUrl = value(step.after.activeKeyUrl);
        des.keyReference = parseKeyReference(des.activeKeyUrl);
        break;
      }
      case "storageAccount": {
        const account = byId.get(step.resource.id.toLowerCase());
        if (account?.kind !== "storageAccount") throw new Error(`${step.id} is not about a storage account`);
        if (step.after.keyVersion !== undefined) {
          account.keyVersion = value(step.after.keyVersion);
          account.keyReference = parseKeyReference(`${key.id}/${account.keyVersion}`);
          account.currentVersionedKeyIdentifier = `${key.id}/${account.keyVersion}`;
        } else {
          account.currentVersionedKeyIdentifier = value(step.after.currentVersionedKeyIdentifier);
        }
        break;
      }
    }
  }
  return next;
}

// ---------------------------------------------------------------- the properties

function checkPlan(snapshot: EstateSnapshot, plan: RotationPlan): void {
  const hsm = hsmOf(snapshot);
  const steps = new Map(plan.steps.map((s) => [s.id, s]));
  const consumers = new Map(allConsumers(snapshot).map((c) => [c.resourceId.toLowerCase(), c]));
  for (const step of plan.steps) {
    for (const dependency of step.dependsOn) expect(steps.has(dependency), `${step.id} depends on ${dependency}`).toBe(true);
    if (!CONSUMER_KINDS.includes(step.kind)) continue;
    const consumer = consumers.get(step.resource.id.toLowerCase());
    if (!consumer) throw new Error(`${step.id} is about no consumer of the estate`);
    const key = keyOf(hsm, step.key.name);
    // A consumer whose identity cannot unwrap is blocked, never switched nor left to switch on its own unwatched.
    if (!canUnwrap(hsm, consumer, key.name)) expect(step.action, `${step.id}: its identity cannot unwrap ${key.name}`).toBe("blocked");
    if (step.action !== "change") continue;
    // Nothing planned as a change waits on a step that will never run.
    for (const dependency of step.dependsOn) expect(steps.get(dependency)?.action, `${step.id} waits on ${dependency}`).toBe("change");
    const target = targetOf(step);
    if (target === NEW_VERSION) {
      expect(plan.steps.some((s) => s.kind === "rotateKey" && s.key.name === key.name && s.action === "change"), `${step.id} moves to a version no step creates`).toBe(true);
    } else {
      const version = key.versions?.find((v) => v.version === target);
      expect(usable(version), `${step.id} moves ${consumer.name} to ${target}, which is not usable`).toBe(true);
    }
  }
}

describe("the rotation planner over random estates", () => {
  const policy = contosoPolicy();

  it("never switches a consumer to an unusable version or one its identity cannot unwrap; executing the plan leaves nothing to change", () => {
    fc.assert(
      fc.property(estateSpec, fc.boolean(), (spec, propagateOnly) => {
        const snapshot = buildEstate(spec, policy);
        const options = { propagateOnly };
        const plan = planRotation(snapshot, policy, NOW, options);
        checkPlan(snapshot, plan);
        const after = executed(snapshot, plan);
        const again = planRotation(after, policy, NOW, options);
        checkPlan(after, again);
        const blockedBefore = new Set(plan.steps.filter((s) => s.action === "blocked").map((s) => s.id));
        // Only what was blocked is left, still blocked: no change, no verification.
        expect(again.steps.filter((s) => s.action !== "blocked").map((s) => s.id)).toEqual([]);
        for (const step of again.steps) expect(blockedBefore, step.id).toContain(step.id);
        expect(again.steps.filter((s) => s.kind === "rotateKey" && s.action !== "blocked")).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it("generates estates that exercise every kind of step and outcome (so the property above is not vacuous)", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(estateSpec, fc.boolean(), (spec, propagateOnly) => {
        const snapshot = buildEstate(spec, policy);
        for (const step of planRotation(snapshot, policy, NOW, { propagateOnly }).steps) {
          seen.add(`${step.kind}:${step.action}`);
          for (const risk of step.risks) seen.add(risk.code);
        }
      }),
      { numRuns: 150 },
    );
    for (const code of ["versionCap", "noUsableVersion", "identityCannotUnwrap", "accessUnknown", "nativeAutoRotation", "storageCatchUp", "failoverGroup"]) expect(seen, code).toContain(code);
    for (const kind of ["rotateKey:change", "rotateKey:blocked", "rotationPolicy:change", "sqlMiKey:change", "tdeProtector:change", "tdeProtector:blocked", "tdeProtector:verify", "diskEncryptionSet:change", "diskEncryptionSet:blocked", "diskEncryptionSet:verify", "storageAccount:change", "storageAccount:verify", "storageAccount:blocked"]) {
      expect(seen, kind).toContain(kind);
    }
  });
});
