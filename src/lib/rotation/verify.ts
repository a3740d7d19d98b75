import type { PolicyDocument } from "../config/types.js";
import { catchUpDeadline } from "./catchUpDeadline.js";
import { versionInUse } from "../compliance/query.js";
import { versionAttributes } from "../compliance/query/keys.js";
import { resourceKey } from "../estate/resourceId.js";
import type { Consumer, EstateSnapshot } from "../estate/snapshot.js";
import type { RecordedError } from "./journal.js";
import type { PlanGap, PlanStep } from "./plan.js";
import { planRotation } from "./planner.js";

export type ConsumerVerdict = "moved" | "pending" | "blocked" | "failed";

export interface VerifiedConsumer {
  keyName: string;
  resource: { id: string; name: string; kind: Consumer["kind"] };
  verdict: ConsumerVerdict;
  reason: string;
  versionInUse: string | null;
  currentVersion: string;
  /** pending: when it must have caught up; `pastDeadline` once that has passed. */
  deadline?: string;
  pastDeadline?: boolean;
  error?: RecordedError;
}

export interface Verification {
  checkedAt: string;
  consumers: VerifiedConsumer[];
  /** Keys that could not be judged (unreadable, missing) and consumers the snapshot could not see. */
  gaps: PlanGap[];
}

/**
 * Reads every consumer of every managed key back (from a fresh snapshot) and says whether it is on the key's
 * current version: moved; pending (it moves on its own, with its deadline); blocked (its identity cannot use
 * the key, so KeyWarden will not switch it); failed (it should have been moved and was not, with Azure's
 * error where there is one). Pure: (snapshot, policy, now, last errors) → verification.
 */
export function verifyRotation(snapshot: EstateSnapshot, policy: PolicyDocument, now: Date, lastErrors: ReadonlyMap<string, RecordedError> = new Map()): Verification {
  const plan = planRotation(snapshot, policy, now, { propagateOnly: true });
  const stepsByResource = new Map<string, PlanStep[]>();
  for (const step of plan.steps) {
    const k = resourceKey(step.resource.id);
    stepsByResource.set(k, [...(stepsByResource.get(k) ?? []), step]);
  }
  const gaps: PlanGap[] = [...plan.gaps];
  const consumers: VerifiedConsumer[] = [];
  const hosts = new Map<string, { keyName: string; currentVersion: string; createdOn?: string }>();
  for (const key of plan.keys) {
    if (!key.currentVersion || !key.hsmUri) {
      gaps.push({ resource: { id: key.keyId, name: key.keyName }, message: key.reasons.join(" ") });
      continue;
    }
    const snapshotKey = snapshot.managedHsms.flatMap((h) => h.keys ?? []).find((k) => k.id.toLowerCase() === key.keyId.toLowerCase());
    const createdOn = snapshotKey ? versionAttributes(snapshotKey, key.currentVersion)?.createdOn : undefined;
    hosts.set(`${new URL(key.hsmUri).host.toLowerCase()}|${key.keyName.toLowerCase()}`, { keyName: key.keyName, currentVersion: key.currentVersion, ...(createdOn ? { createdOn } : {}) });
  }

  const all: Consumer[] = [...snapshot.consumers.sqlManagedInstances, ...snapshot.consumers.diskEncryptionSets, ...snapshot.consumers.storageAccounts];
  for (const consumer of all) {
    const ref = consumer.kind === "sqlManagedInstance" ? consumer.encryptionProtector?.keyReference : consumer.keyReference;
    const key = ref ? hosts.get(`${ref.host}|${ref.keyName.toLowerCase()}`) : undefined;
    if (!key) continue;
    const base = { keyName: key.keyName, resource: { id: consumer.resourceId, name: consumer.name, kind: consumer.kind }, versionInUse: versionInUse(consumer), currentVersion: key.currentVersion };
    const steps = stepsByResource.get(resourceKey(consumer.resourceId)) ?? [];
    if (steps.length === 0) {
      consumers.push({ ...base, verdict: "moved", reason: `${consumer.name} uses the current version ${key.currentVersion}.` });
      continue;
    }
    const blockedStep = steps.find((s) => s.action === "blocked");
    if (blockedStep) {
      consumers.push({ ...base, verdict: "blocked", reason: blockedStep.risks.at(-1)?.message ?? blockedStep.reason });
      continue;
    }
    const azureError = consumer.kind === "diskEncryptionSet" ? consumer.autoKeyRotationError : undefined;
    if (azureError) {
      consumers.push({ ...base, verdict: "failed", reason: `${consumer.name} reports an automatic key rotation error.`, error: { ...(azureError.code ? { code: azureError.code } : {}), message: azureError.message ?? "" } });
      continue;
    }
    const verifyStep = steps.find((s) => s.action === "verify");
    if (verifyStep?.catchUpWithin) {
      const within = verifyStep.catchUpWithin;
      const deadline = key.createdOn ? catchUpDeadline(key.createdOn, within) : undefined;
      const pastDeadline = deadline !== undefined && deadline.getTime() < now.getTime();
      consumers.push({
        ...base,
        verdict: "pending",
        reason: pastDeadline
          ? `${consumer.name} should have caught up with ${key.currentVersion} within ${within} of its creation and has not.`
          : `${consumer.name} moves on its own within ${within} of the version's creation.`,
        ...(deadline ? { deadline: deadline.toISOString() } : {}),
        pastDeadline,
      });
      continue;
    }
    const error = lastErrors.get(resourceKey(consumer.resourceId));
    consumers.push({
      ...base,
      verdict: "failed",
      reason: `${consumer.name} still uses version ${base.versionInUse ?? "unknown"}, not the current ${key.currentVersion}${error ? "; the last run's write failed" : "; no run has moved it yet"}.`,
      ...(error ? { error } : {}),
    });
  }
  consumers.sort((a, b) => a.keyName.localeCompare(b.keyName) || resourceKey(a.resource.id).localeCompare(resourceKey(b.resource.id)));
  return { checkedAt: now.toISOString(), consumers, gaps };
}

/** Exit code 4 territory: a consumer blocked, or pending past its deadline. */
export function needsAttention(verification: Verification): VerifiedConsumer[] {
  return verification.consumers.filter((c) => c.verdict === "blocked" || (c.verdict === "pending" && c.pastDeadline === true));
}
