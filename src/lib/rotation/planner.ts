import { createHash } from "node:crypto";
import type { KeyPolicy, PolicyDocument } from "../config/types.js";
import { consumerKeyIndexKey, consumerKeyReference, consumerPrincipalIds, consumersByKeyReference, keyPairs, versionInUse, type KeyPair } from "../compliance/query.js";
import { versionAttributes, versionUsabilityProblems } from "../compliance/query/keys.js";
import { keyScope, wrapAccess } from "../compliance/query/rbac.js";
import { rotationPolicyProblems } from "../compliance/query/rotationPolicy.js";
import { unreadSubscriptions } from "../compliance/query/unread.js";
import type { CheckContext } from "../compliance/types.js";
import { hsmHost } from "../estate/keyReference.js";
import { resourceKey } from "../estate/resourceId.js";
import type { Consumer, DiskEncryptionSetConsumer, EstateSnapshot, KeySnapshot, ManagedHsmSnapshot, SqlManagedInstanceConsumer, StorageAccountConsumer } from "../estate/snapshot.js";
import { sortedKeys } from "../text/sortedJson.js";
import { desiredRotationPolicy } from "./desiredRotationPolicy.js";
import { NEW_VERSION, PLAN_SCHEMA_VERSION, type KeyPlan, type PlanGap, type PlanStep, type Risk, type RotationPlan, type TargetVersion } from "./plan.js";
import { sqlServerKeyName } from "./sqlServerKeyName.js";

export interface PlanOptions {
  /** Plan only these keys (names, case-insensitive); every configured key when absent. */
  keys?: readonly string[];
  /** Never plan a rotation: move consumers to each key's current version only (the verifier's view). */
  propagateOnly?: boolean;
  /**
   * Rotate these keys although the policy does not yet make them due (a near-expiry or expired event said so),
   * but only while their current version is still `version` and has an expiry date: once the key has moved
   * on, the event is stale and the policy alone decides.
   */
  rotateIfCurrent?: readonly { keyName: string; version: string; reason: string }[];
}

/** Native auto-rotation's documented catch-up time (SQL TDE, DES), and versionless storage's. */
export const NATIVE_CATCH_UP = "PT1H";
export const STORAGE_CATCH_UP = "P1D";

const DAY_MS = 86_400_000;

/**
 * The rotation plan for (snapshot, policy, now): pure. A key is due when its current version is older than
 * `rotateAfter`, expires within `notifyBefore`, or is not usable; a key whose consumers lag its current version
 * needs propagation only. A consumer its identity cannot unwrap for is blocked, never switched.
 */
export function planRotation(snapshot: EstateSnapshot, policy: PolicyDocument, now: Date, options: PlanOptions = {}): RotationPlan {
  const ctx: CheckContext = { snapshot, policy, now };
  const wanted = options.keys?.map((k) => k.toLowerCase());
  const pairs = keyPairs(ctx).filter((p) => wanted === undefined || wanted.includes(p.keyPolicy.name.toLowerCase()));
  const consumers = consumersByKey(snapshot);
  const vmsByDes = siteRecoveryVmsByDes(snapshot);
  const miById = new Map(snapshot.consumers.sqlManagedInstances.map((mi) => [resourceKey(mi.resourceId), mi]));

  const keys: KeyPlan[] = [];
  const steps: PlanStep[] = [];
  for (const pair of pairs) {
    const asked = options.rotateIfCurrent?.find((r) => r.keyName.toLowerCase() === pair.keyPolicy.name.toLowerCase());
    const planned = planKey(pair, now, policy, consumers, vmsByDes, miById, options.propagateOnly === true, asked);
    keys.push(planned.key);
    steps.push(...planned.steps);
  }
  const gaps = planGaps(ctx);
  const id = createHash("sha256").update(JSON.stringify({ keys, steps, gaps }, sortedKeys())).digest("hex");
  return { schemaVersion: PLAN_SCHEMA_VERSION, id, createdAt: now.toISOString(), snapshotCollectedAt: snapshot.collectedAt, keys, steps, gaps };
}

type ConsumerIndex = Map<string, Consumer[]>;

/** Consumers by (HSM host, key name), each key's in resource-id order (the plan's step order). */
function consumersByKey(snapshot: EstateSnapshot): ConsumerIndex {
  const index = consumersByKeyReference(snapshot);
  for (const list of index.values()) list.sort((a, b) => resourceKey(a.resourceId).localeCompare(resourceKey(b.resourceId)));
  return index;
}

/** Names of ASR-protected VMs by the DES their disks use. */
function siteRecoveryVmsByDes(snapshot: EstateSnapshot): Map<string, string[]> {
  const byDes = new Map<string, string[]>();
  for (const vm of snapshot.consumers.virtualMachines) {
    if (vm.siteRecoveryProtected !== true) continue;
    const seen = new Set<string>();
    for (const disk of vm.disks) {
      if (!disk.diskEncryptionSetId) continue;
      const des = resourceKey(disk.diskEncryptionSetId);
      if (seen.has(des)) continue;
      seen.add(des);
      byDes.set(des, [...(byDes.get(des) ?? []), vm.name]);
    }
  }
  return byDes;
}

interface KeyFacts {
  pair: KeyPair;
  hsm: ManagedHsmSnapshot;
  hsmUri: string;
  key: KeySnapshot;
  keyId: string;
  target: TargetVersion;
  stepKey: PlanStep["key"];
}

function planKey(
  pair: KeyPair,
  now: Date,
  policy: PolicyDocument,
  consumers: ConsumerIndex,
  vmsByDes: Map<string, string[]>,
  miById: Map<string, SqlManagedInstanceConsumer>,
  propagateOnly: boolean,
  asked?: { version: string; reason: string },
): { key: KeyPlan; steps: PlanStep[] } {
  const { hsm, keyPolicy } = pair;
  const base = { hsmResourceId: pair.policy.resourceId, hsmUri: hsm.hsmUri ?? null, keyName: keyPolicy.name, keyId: pair.keyResource.id };
  const none = (status: KeyPlan["status"], reason: string): { key: KeyPlan; steps: PlanStep[] } => ({
    key: { ...base, status, reasons: [reason], currentVersion: null, target: null },
    steps: [],
  });
  if (!hsm.hsmUri) return none("unknown", `The data-plane URI of ${pair.policy.name} is unknown, so key ${keyPolicy.name} cannot be read or rotated.`);
  if (pair.key === null) return none("unknown", `Key ${keyPolicy.name} could not be read, so whether it is due is unknown; nothing is planned for it.`);
  if (pair.key === undefined) return none("missing", `Key ${keyPolicy.name} does not exist in ${pair.policy.name}; KeyWarden rotates keys, it does not create them.`);
  const key = pair.key;
  if (!key.currentVersion) return none("unknown", `Key ${keyPolicy.name} did not report its current version.`);

  const dueReasons = propagateOnly ? [] : dueBecause(key, keyPolicy, now);
  if (!propagateOnly && dueReasons.length === 0 && asked && sameVersionId(asked.version, key.currentVersion) && versionAttributes(key, key.currentVersion)?.expiresOn) {
    dueReasons.push(asked.reason);
  }
  const target: TargetVersion = dueReasons.length > 0 ? { kind: "new" } : { kind: "existing", version: key.currentVersion };
  const stepKey = { hsmResourceId: pair.policy.resourceId, hsmUri: hsm.hsmUri, name: keyPolicy.name, id: key.id };
  const facts: KeyFacts = { pair, hsm, hsmUri: hsm.hsmUri, key, keyId: key.id, target, stepKey };

  const steps: PlanStep[] = [];
  const policyStep = rotationPolicyStep(facts, keyPolicy);
  if (policyStep) steps.push(policyStep);
  const rotate = target.kind === "new" ? rotateKeyStep(facts, dueReasons, policy, policyStep) : undefined;
  if (rotate) steps.push(rotate);

  const mine = consumers.get(consumerKeyIndexKey(hsmHost(hsm.hsmUri), keyPolicy.name)) ?? [];
  const after = rotate ? [rotate.id] : [];
  const mis = mine.filter((c): c is SqlManagedInstanceConsumer => c.kind === "sqlManagedInstance");
  const consumerSteps = [...sqlSteps(facts, mis, after, miById)];
  for (const des of mine.filter((c): c is DiskEncryptionSetConsumer => c.kind === "diskEncryptionSet")) {
    const step = desStep(facts, des, after, vmsByDes);
    if (step) consumerSteps.push(step);
  }
  for (const account of mine.filter((c): c is StorageAccountConsumer => c.kind === "storageAccount")) {
    const step = storageStep(facts, account, after);
    if (step) consumerSteps.push(step);
  }
  const hold = targetHold(facts, rotate, now);
  // No new version: nothing can move, on its own or not. An unusable existing one: KeyWarden switches nothing to it.
  const held = (s: PlanStep): boolean => s.action !== "blocked" && (hold?.code === "versionCap" || s.action === "change");
  steps.push(...(hold ? consumerSteps.map((s) => (held(s) ? blocked(s, hold) : s)) : consumerSteps));

  const moves = steps.some((s) => s.kind !== "rotationPolicy" && s.kind !== "rotateKey");
  const status: KeyPlan["status"] = target.kind === "new" ? "due" : moves ? "propagate" : "current";
  const reasons =
    status === "due" ? dueReasons : status === "propagate" ? [`Consumers of ${keyPolicy.name} lag its current version ${key.currentVersion}.`] : [`Key ${keyPolicy.name} is within its rotation period and every consumer uses its current version.`];
  return { key: { ...base, status, reasons, currentVersion: key.currentVersion, target: status === "current" ? null : target }, steps };
}

/**
 * Why no consumer may be switched to the key's target at all: the rotation that would create it cannot run (the
 * version cap), or the existing version is not usable — which only propagation (`propagateOnly`: the event handler's
 * new-version path, the verifier) can target, since a key whose current version is unusable is otherwise due.
 */
function targetHold(facts: KeyFacts, rotate: PlanStep | undefined, now: Date): Risk | undefined {
  if (rotate?.action === "blocked") {
    return { code: "versionCap", message: `The rotation of ${facts.key.name} cannot run, so there is no new version to move to.` };
  }
  if (facts.target.kind !== "existing") return undefined;
  const version = versionAttributes(facts.key, facts.target.version);
  const problems = version ? versionUsabilityProblems(version, now) : ["did not report its attributes"];
  if (problems.length === 0) return undefined;
  return { code: "noUsableVersion", message: `Version ${facts.target.version} of ${facts.key.name} ${problems.join(" and ")}, so no consumer is moved to it.` };
}

function sameVersionId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Why the key's current version must be replaced now; empty when it need not. */
export function dueBecause(key: KeySnapshot, keyPolicy: KeyPolicy, now: Date): string[] {
  const version = key.currentVersion ? versionAttributes(key, key.currentVersion) : undefined;
  if (!version) return [`Key ${keyPolicy.name} has no readable current version.`];
  const reasons: string[] = [];
  const problems = versionUsabilityProblems(version, now);
  if (version.enabled === false || problems.length > 0) reasons.push(`Its current version ${version.version} is not usable: it ${problems.join(" and ")}.`);
  const { rotateAfter, notifyBefore } = keyPolicy.rotation;
  if (version.createdOn && Date.parse(version.createdOn) + rotateAfter.days * DAY_MS <= now.getTime()) {
    reasons.push(`Its current version ${version.version} was created on ${version.createdOn}, longer ago than rotateAfter ${rotateAfter.iso}.`);
  }
  if (version.expiresOn && Date.parse(version.expiresOn) - notifyBefore.days * DAY_MS <= now.getTime() && Date.parse(version.expiresOn) > now.getTime()) {
    reasons.push(`Its current version ${version.version} expires on ${version.expiresOn}, within notifyBefore ${notifyBefore.iso}.`);
  }
  if (!version.createdOn && reasons.length === 0) reasons.push(`Its current version ${version.version} did not report when it was created, so its age cannot be proven within rotateAfter ${rotateAfter.iso}.`);
  return reasons;
}

function rotationPolicyStep(facts: KeyFacts, keyPolicy: KeyPolicy): PlanStep | undefined {
  const current = facts.key.rotationPolicy;
  const problems = current === null ? ["it could not be read"] : rotationPolicyProblems(current, keyPolicy.rotation);
  if (problems.length === 0) return undefined;
  const desired = desiredRotationPolicy(keyPolicy.rotation);
  const rotate = current?.lifetimeActions.find((a) => a.action === "Rotate");
  return {
    id: `rotationPolicy:${facts.keyId.toLowerCase()}`,
    kind: "rotationPolicy",
    action: "change",
    key: facts.stepKey,
    resource: { id: facts.keyId, name: keyPolicy.name },
    dependsOn: [],
    preconditions: ["the key exists and is enabled", "its rotation policy still differs from the policy document"],
    before: { expiresIn: current?.expiresIn ?? null, rotateTimeAfterCreate: rotate?.timeAfterCreate ?? null, rotateTimeBeforeExpiry: rotate?.timeBeforeExpiry ?? null },
    after: { expiresIn: desired.expiresIn, rotateTimeAfterCreate: desired.rotateTimeAfterCreate, rotateTimeBeforeExpiry: null },
    risks: [],
    reason: `The rotation policy of ${keyPolicy.name} does not fit the policy document (${problems.join("; ")}); Managed HSM needs one before an on-demand rotation, and it sets each new version's expiry.`,
  };
}

function rotateKeyStep(facts: KeyFacts, dueReasons: string[], policy: PolicyDocument, policyStep: PlanStep | undefined): PlanStep {
  const { key } = facts;
  const versions = key.versions?.length ?? null;
  const atCap = versions !== null && versions >= policy.thresholds.maxKeyVersions;
  const risks: Risk[] = atCap ? [{ code: "versionCap", message: `The key has ${versions} versions, the Managed HSM limit of ${policy.thresholds.maxKeyVersions}: a rotation would fail.` }] : [];
  return {
    id: `rotateKey:${facts.keyId.toLowerCase()}`,
    kind: "rotateKey",
    action: atCap ? "blocked" : "change",
    key: facts.stepKey,
    resource: { id: facts.keyId, name: key.name },
    dependsOn: policyStep ? [policyStep.id] : [],
    preconditions: [`the key's current version is still ${key.currentVersion}`, "the key has a rotation policy"],
    before: { currentVersion: key.currentVersion ?? null, createdOn: key.createdOn ?? null, expiresOn: key.expiresOn ?? null },
    after: { currentVersion: NEW_VERSION },
    risks,
    reason: atCap ? `Key ${key.name} is due (${dueReasons.join(" ")}) but has no version left to create.` : dueReasons.join(" "),
  };
}

function versionText(target: TargetVersion): string {
  return target.kind === "existing" ? target.version : NEW_VERSION;
}

function versionedUrl(facts: KeyFacts, target: TargetVersion): string {
  return `${facts.hsmUri.replace(/\/+$/, "")}/keys/${facts.key.name}/${versionText(target)}`;
}

function onTarget(consumer: Consumer, target: TargetVersion): boolean {
  const inUse = versionInUse(consumer);
  return target.kind === "existing" && inUse !== null && inUse.toLowerCase() === target.version.toLowerCase();
}

/** Why the consumer's identity may not be switched to this key; undefined when it can read, wrap and unwrap it. */
function accessBlock(facts: KeyFacts, consumer: Consumer): Risk | undefined {
  const principalIds = consumerPrincipalIds(consumer);
  const keyName = facts.key.name;
  if (principalIds.length === 0) return { code: "identityCannotUnwrap", message: `${consumer.name} has no managed identity that could use ${keyName}.` };
  if (facts.hsm.roleAssignments === null) return { code: "accessUnknown", message: `The HSM's role assignments could not be read, so ${consumer.name}'s access to ${keyName} cannot be proven.` };
  const verdicts = principalIds.map((id) => wrapAccess(facts.hsm, id, keyScope(keyName)));
  const lacking = verdicts.filter((v) => v.verdict === "missing");
  if (lacking.length > 0) {
    const detail = lacking.map((v) => `${v.principalId} lacks ${v.missing.map((a) => a.split("/").at(-2)).join("/")}`).join("; ");
    return { code: "identityCannotUnwrap", message: `${consumer.name}'s identity cannot use ${keyName} (${detail}).` };
  }
  if (verdicts.some((v) => v.verdict === "unknown")) return { code: "accessUnknown", message: `A role ${consumer.name}'s identity holds on ${keyName} could not be read, so its access cannot be proven.` };
  return undefined;
}

function consumerStep(
  facts: KeyFacts,
  consumer: Consumer,
  fields: Pick<PlanStep, "kind" | "action" | "dependsOn" | "preconditions" | "before" | "after" | "risks" | "reason"> & { catchUpWithin?: string; partners?: string[] },
): PlanStep {
  return {
    id: `${fields.kind}:${consumer.resourceId.toLowerCase()}`,
    key: facts.stepKey,
    resource: { id: consumer.resourceId, name: consumer.name, subscriptionId: consumer.subscriptionId },
    ...fields,
  };
}

/** A `blocked` version of a change step: same id and states, never executed. */
function blocked(step: PlanStep, risk: Risk): PlanStep {
  return { ...step, action: "blocked", risks: [...step.risks, risk], reason: `Blocked: ${risk.message} ${step.reason}` };
}

const ACCESS_PRECONDITIONS = [
  "the target version exists, is enabled, active and unexpired",
  "the consumer's identity holds read, wrap and unwrap at a scope covering the key",
];

function sqlSteps(facts: KeyFacts, mis: SqlManagedInstanceConsumer[], after: string[], miById: Map<string, SqlManagedInstanceConsumer>): PlanStep[] {
  const { target } = facts;
  const lagging = mis.filter((mi) => !onTarget(mi, target));
  const keySteps: PlanStep[] = [];
  const protectorSteps: PlanStep[] = [];
  const keyStepIds = new Map<string, string>();
  const serverKey = sqlServerKeyName(facts.hsmUri, facts.key.name, versionText(target));
  const lagIds = new Set(lagging.map((mi) => resourceKey(mi.resourceId)));

  for (const mi of lagging) {
    const protector = mi.encryptionProtector;
    const url = versionedUrl(facts, target);
    const block = accessBlock(facts, mi);
    if (protector?.autoRotationEnabled === true) {
      const step = consumerStep(facts, mi, {
        kind: "tdeProtector",
        action: "verify",
        dependsOn: after,
        preconditions: [],
        before: { protectorUri: protector.uri ?? null, autoRotationEnabled: true },
        after: { protectorUri: url },
        risks: [{ code: "nativeAutoRotation", message: `${mi.name} rotates its TDE protector on its own; KeyWarden verifies it did within ${NATIVE_CATCH_UP}.` }],
        reason: `${mi.name} has TDE protector auto-rotation on: verified, not changed.`,
        catchUpWithin: NATIVE_CATCH_UP,
      });
      protectorSteps.push(block ? blocked(step, block) : step);
      continue;
    }
    const registered = target.kind === "existing" && (mi.keys ?? []).some((k) => k.name.toLowerCase() === serverKey.toLowerCase());
    if (!registered) {
      const keyStep = consumerStep(facts, mi, {
        kind: "sqlMiKey",
        action: "change",
        dependsOn: after,
        preconditions: ACCESS_PRECONDITIONS,
        before: { registeredKey: null },
        after: { registeredKey: serverKey, uri: url },
        risks: [],
        reason: `${mi.name} must hold version ${versionText(target)} as a managed-instance key before its protector can move to it.`,
      });
      const finalKeyStep = block ? blocked(keyStep, block) : keyStep;
      keySteps.push(finalKeyStep);
      keyStepIds.set(resourceKey(mi.resourceId), finalKeyStep.id);
    }
  }

  for (const mi of lagging) {
    if (mi.encryptionProtector?.autoRotationEnabled === true) continue;
    const own = keyStepIds.get(resourceKey(mi.resourceId));
    const risks: Risk[] = [];
    let block = accessBlock(facts, mi);
    const partnerSteps: string[] = [];
    const partnerIds: string[] = [];
    const groups = mi.failoverGroups;
    if (groups === null || groups === undefined) {
      block ??= { code: "failoverGroup", message: `Whether ${mi.name} is in a failover group could not be read, so a partner might not hold the key.` };
    } else {
      for (const group of groups) {
        for (const partnerId of group.partnerManagedInstanceIds) {
          const partner = miById.get(resourceKey(partnerId));
          const name = partner?.name ?? partnerId.split("/").pop() ?? partnerId;
          risks.push({ code: "failoverGroup", message: `${mi.name} is in failover group ${group.name} with ${name}: ${name} gets the key first.` });
          if (!partner) {
            block ??= { code: "failoverGroup", message: `Failover partner ${partnerId} of ${mi.name} was not read, so it cannot be given the key first.` };
            continue;
          }
          const partnerRef = consumerKeyReference(partner);
          if (!partnerRef || partnerRef.keyName.toLowerCase() !== facts.key.name.toLowerCase() || partnerRef.host !== hsmHost(facts.hsmUri)) {
            block ??= { code: "failoverGroup", message: `Failover partner ${name} of ${mi.name} uses another key, so it would not hold ${facts.key.name}.` };
            continue;
          }
          partnerIds.push(partner.resourceId);
          const partnerStep = keyStepIds.get(resourceKey(partnerId));
          if (partnerStep) partnerSteps.push(partnerStep);
          else if (lagIds.has(resourceKey(partnerId)) && partner.encryptionProtector?.autoRotationEnabled !== true && target.kind === "new") {
            block ??= { code: "failoverGroup", message: `Failover partner ${name} of ${mi.name} has no step to receive the key.` };
          }
        }
      }
    }
    const step = consumerStep(facts, mi, {
      kind: "tdeProtector",
      action: "change",
      dependsOn: [...new Set([...after, ...(own ? [own] : []), ...partnerSteps])],
      preconditions: [...ACCESS_PRECONDITIONS, "the managed-instance key for the target version exists on the instance (and on its failover partners)"],
      before: { protectorUri: mi.encryptionProtector?.uri ?? null },
      after: { protectorUri: versionedUrl(facts, target), serverKeyName: serverKey },
      ...(partnerIds.length > 0 ? { partners: partnerIds } : {}),
      risks,
      reason: `${mi.name}'s TDE protector uses version ${versionInUse(mi) ?? "unknown"}; it moves to ${versionText(target)}.`,
    });
    protectorSteps.push(block ? blocked(step, block) : step);
  }
  return [...keySteps, ...protectorSteps];
}

function desStep(facts: KeyFacts, des: DiskEncryptionSetConsumer, after: string[], vmsByDes: Map<string, string[]>): PlanStep | undefined {
  const { target } = facts;
  if (onTarget(des, target)) return undefined;
  const url = versionedUrl(facts, target);
  const asr = vmsByDes.get(resourceKey(des.resourceId)) ?? [];
  const risks: Risk[] = asr.length > 0 ? [{ code: "siteRecoveryProtected", message: `Disks of ASR-protected VM(s) ${asr.join(", ")} use ${des.name}: plan a maintenance window; replication may need to be disabled and re-enabled.` }] : [];
  const block = accessBlock(facts, des);
  if (des.rotationToLatestKeyVersionEnabled === true) {
    const step = consumerStep(facts, des, {
      kind: "diskEncryptionSet",
      action: "verify",
      dependsOn: after,
      preconditions: [],
      before: { activeKeyUrl: des.activeKeyUrl ?? null, rotationToLatestKeyVersionEnabled: true },
      after: { activeKeyUrl: url },
      risks: [...risks, { code: "nativeAutoRotation", message: `${des.name} follows the latest version on its own; KeyWarden verifies it did within ${NATIVE_CATCH_UP}.` }],
      reason: `${des.name} has automatic key rotation on: verified, not changed.`,
      catchUpWithin: NATIVE_CATCH_UP,
    });
    return block ? blocked(step, block) : step;
  }
  const step = consumerStep(facts, des, {
    kind: "diskEncryptionSet",
    action: "change",
    dependsOn: after,
    preconditions: ACCESS_PRECONDITIONS,
    before: { activeKeyUrl: des.activeKeyUrl ?? null },
    after: { activeKeyUrl: url },
    risks,
    reason: `${des.name} (${des.location}) uses version ${versionInUse(des) ?? "unknown"}; it moves to ${versionText(target)}.`,
  });
  return block ? blocked(step, block) : step;
}

function storageStep(facts: KeyFacts, account: StorageAccountConsumer, after: string[]): PlanStep | undefined {
  const { target } = facts;
  if (onTarget(account, target)) return undefined;
  const block = accessBlock(facts, account);
  if (!account.keyVersion) {
    const step = consumerStep(facts, account, {
      kind: "storageAccount",
      action: "verify",
      dependsOn: after,
      preconditions: [],
      before: { keyVersion: null, currentVersionedKeyIdentifier: account.currentVersionedKeyIdentifier ?? null },
      after: { currentVersionedKeyIdentifier: versionedUrl(facts, target) },
      risks: [{ code: "storageCatchUp", message: `${account.name} uses a versionless key: Storage catches up within 24 hours of a new version, on its own.` }],
      reason: `${account.name} follows the latest version on its own: verified, not changed.`,
      catchUpWithin: STORAGE_CATCH_UP,
    });
    return block ? blocked(step, block) : step;
  }
  const step = consumerStep(facts, account, {
    kind: "storageAccount",
    action: "change",
    dependsOn: after,
    preconditions: ACCESS_PRECONDITIONS,
    before: { keyVersion: account.keyVersion },
    after: { keyVersion: versionText(target) },
    risks: [],
    reason: `${account.name} is pinned to version ${account.keyVersion}; it moves to ${versionText(target)}.`,
  });
  return block ? blocked(step, block) : step;
}

/** What the plan could not see: unread consumer lists and protectors. */
function planGaps(ctx: CheckContext): PlanGap[] {
  const gaps: PlanGap[] = [];
  const lists = [
    ["consumers.sqlManagedInstances", "SQL managed instances"],
    ["consumers.diskEncryptionSets", "disk encryption sets"],
    ["consumers.storageAccounts", "storage accounts"],
  ] as const;
  for (const [part, label] of lists) {
    for (const unread of unreadSubscriptions(ctx, part)) {
      gaps.push({ resource: { id: `/subscriptions/${unread.subscriptionId}`, name: unread.subscriptionId }, message: `The ${label} of subscription ${unread.subscriptionId} could not be listed: none of them is in this plan.` });
    }
  }
  for (const mi of ctx.snapshot.consumers.sqlManagedInstances) {
    if (mi.encryptionProtector === null) gaps.push({ resource: { id: mi.resourceId, name: mi.name }, message: `The TDE protector of ${mi.name} could not be read: it is not in this plan.` });
  }
  return gaps;
}
