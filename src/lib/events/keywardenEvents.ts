import type { RunResult } from "../rotation/executor.js";
import type { RotationPlan } from "../rotation/plan.js";
import type { Verification, VerifiedConsumer } from "../rotation/verify.js";
import { eventIdFor } from "./eventIdentity.js";
import type { EventToPublish } from "./keyVaultEvents.js";

/** KeyWarden's own event types, published to the same topic as the Key Vault ones. */
export const KEYWARDEN_EVENT_TYPES = {
  rotationCompleted: "KeyWarden.RotationCompleted",
  rotationPending: "KeyWarden.RotationPending",
  rotationFailed: "KeyWarden.RotationFailed",
  consumerBlocked: "KeyWarden.ConsumerBlocked",
  consumerLagging: "KeyWarden.ConsumerLagging",
} as const;

export interface RoundFacts {
  plan: RotationPlan;
  /** Absent in plan mode or when nothing was executed. */
  run?: RunResult;
  /** Every consumer read back after the run (or, without a run, from the plan's snapshot). */
  verification: Verification;
  mode: "plan" | "execute";
  /**
   * Keys (lower-cased ids) that earlier runs changed whose facts no round told (the process died between the run
   * and telling): their completion is news as if this run had moved them.
   */
  movedEarlier?: ReadonlySet<string>;
}

/**
 * What a rotation round tells subscribers, one event per fact, so a rerun in the same state sends nothing new:
 * - RotationFailed: once per (run, key) with failed steps, or that worked on the key while a part of the estate
 *   could not be read (its consumers may be there, unseen): each failed run is news.
 * - RotationPending: once per (key, version) due but not rotated (plan mode, or blocked), and once per (key,
 *   version) whose consumers are still catching up on their own (or, moved, may have consumers the snapshot could
 *   not see: stage "unseen").
 * - RotationCompleted: once per (key, version) when every consumer uses it and the snapshot saw every part, after this run moved something or
 *   after a RotationPending for it was published.
 * - ConsumerBlocked / ConsumerLagging: once per (consumer, key version): its identity cannot use the version, or
 *   it is past its catch-up deadline / failed to move.
 * Pure: (round facts, now).
 */
export function keywardenEvents(round: RoundFacts, now: Date): EventToPublish[] {
  const { plan, run, verification } = round;
  const out: EventToPublish[] = [];
  const time = now.toISOString();
  const keyOfStep = new Map(plan.steps.map((s) => [s.id, s.key.id.toLowerCase()]));
  const consumersByKey = new Map<string, VerifiedConsumer[]>();
  for (const c of verification.consumers) {
    const k = c.keyName.toLowerCase();
    consumersByKey.set(k, [...(consumersByKey.get(k) ?? []), c]);
  }

  // Parts of the estate the snapshot could not read (a subscription's consumers of a kind, a TDE protector).
  const unseenGaps = verification.gaps.filter((g) => !plan.keys.some((k) => k.keyId.toLowerCase() === g.resource.id.toLowerCase()));
  for (const key of plan.keys) {
    if (key.status === "unknown" || key.status === "missing") continue;
    const keyId = key.keyId.toLowerCase();
    const base = { keyId: key.keyId, keyName: key.keyName, hsmResourceId: key.hsmResourceId };
    const make = (type: string, identity: string, data: Record<string, unknown>, requires?: string): EventToPublish => ({
      identity,
      event: { id: eventIdFor(identity), type, subject: key.keyName, source: key.hsmResourceId, time, dataVersion: "1", data: { ...base, ...data } },
      ...(requires ? { requires } : {}),
    });
    const outcomes = run?.outcomes.filter((o) => keyOfStep.get(o.stepId) === keyId) ?? [];
    const failed = outcomes.filter((o) => o.status === "failed");
    // A part of the estate that could not be read may hold this key's consumers: a run on the key has not
    // finished it (and "every consumer moved" cannot be said) until a snapshot sees them all.
    const unseen = run && outcomes.length > 0 ? unseenGaps : [];
    if (run && (failed.length > 0 || unseen.length > 0)) {
      out.push(
        make(KEYWARDEN_EVENT_TYPES.rotationFailed, `${KEYWARDEN_EVENT_TYPES.rotationFailed}|${run.runId}|${keyId}`, {
          runId: run.runId,
          planId: run.planId,
          failures: [
            ...failed.map((o) => ({ stepId: o.stepId, resourceId: o.resource.id, resourceName: o.resource.name, message: o.message, ...(o.error?.code ? { code: o.error.code } : {}), ...(o.error?.statusCode ? { statusCode: o.error.statusCode } : {}) })),
            ...unseen.map((g) => ({ resourceId: g.resource.id, resourceName: g.resource.name, message: g.message })),
          ],
        }),
      );
    }
    const rotation = outcomes.find((o) => o.kind === "rotateKey" && o.status === "changed");
    const rotatedNow = rotation !== undefined;
    if (key.status === "due" && !rotatedNow && failed.length === 0) {
      const why = run ? "the rotation was not carried out in this run" : round.mode === "plan" ? "KEYWARDEN_ROTATION_MODE is plan" : "nothing was executed";
      out.push(
        make(KEYWARDEN_EVENT_TYPES.rotationPending, `${KEYWARDEN_EVENT_TYPES.rotationPending}|${keyId}|${String(key.currentVersion).toLowerCase()}|due`, {
          stage: "due",
          version: key.currentVersion,
          reasons: key.reasons,
          why,
        }),
      );
    }

    const consumers = consumersByKey.get(key.keyName.toLowerCase()) ?? [];
    const current = consumers[0]?.currentVersion ?? (rotation ? rotation.version : key.currentVersion ?? undefined);
    for (const c of consumers) {
      const consumerData = { consumerId: c.resource.id, consumerName: c.resource.name, consumerKind: c.resource.kind, versionInUse: c.versionInUse, currentVersion: c.currentVersion, reason: c.reason };
      const tail = `${c.resource.id.toLowerCase()}|${keyId}|${c.currentVersion.toLowerCase()}`;
      if (c.verdict === "blocked") out.push(make(KEYWARDEN_EVENT_TYPES.consumerBlocked, `${KEYWARDEN_EVENT_TYPES.consumerBlocked}|${tail}`, consumerData));
      if (c.verdict === "failed" || (c.verdict === "pending" && c.pastDeadline === true)) {
        out.push(make(KEYWARDEN_EVENT_TYPES.consumerLagging, `${KEYWARDEN_EVENT_TYPES.consumerLagging}|${tail}`, { ...consumerData, ...(c.deadline ? { deadline: c.deadline } : {}) }));
      }
    }
    if (current === undefined) continue;
    const pending = consumers.filter((c) => c.verdict === "pending" && c.pastDeadline !== true);
    const pendingIdentity = `${KEYWARDEN_EVENT_TYPES.rotationPending}|${keyId}|${current.toLowerCase()}|catchUp`;
    if (pending.length > 0) {
      out.push(
        make(KEYWARDEN_EVENT_TYPES.rotationPending, pendingIdentity, {
          stage: "catchUp",
          version: current,
          consumers: pending.map((c) => ({ consumerId: c.resource.id, consumerName: c.resource.name, ...(c.deadline ? { deadline: c.deadline } : {}) })),
        }),
      );
      continue;
    }
    const allMoved = consumers.every((c) => c.verdict === "moved");
    if (!allMoved || failed.length > 0 || (key.status === "due" && !rotatedNow)) continue;
    const movedNow = outcomes.some((o) => o.status === "changed" || o.status === "verified") || round.movedEarlier?.has(keyId) === true;
    if (unseenGaps.length > 0) {
      // Completion waits for a snapshot that sees every part; this pending is what lets a later round tell it.
      if (movedNow) {
        out.push(
          make(KEYWARDEN_EVENT_TYPES.rotationPending, pendingIdentity, {
            stage: "unseen",
            version: current,
            unseen: unseenGaps.map((g) => ({ resourceId: g.resource.id, resourceName: g.resource.name, message: g.message })),
          }),
        );
      }
      continue;
    }
    const completedIdentity = `${KEYWARDEN_EVENT_TYPES.rotationCompleted}|${keyId}|${current.toLowerCase()}`;
    const data = { version: current, consumers: consumers.length, ...(run ? { runId: run.runId } : {}) };
    out.push(make(KEYWARDEN_EVENT_TYPES.rotationCompleted, completedIdentity, data, movedNow ? undefined : pendingIdentity));
  }
  return out;
}
