import { describe, expect, it } from "vitest";
import { KEYWARDEN_EVENT_TYPES, keywardenEvents } from "../../src/lib/events/keywardenEvents.js";
import type { RunResult, StepOutcome } from "../../src/lib/rotation/executor.js";
import { planRotation } from "../../src/lib/rotation/planner.js";
import { verifyRotation } from "../../src/lib/rotation/verify.js";
import { contosoPolicy, loadSnapshot } from "../support/snapshots.js";

const policy = contosoPolicy();

function drifted() {
  const snapshot = loadSnapshot("contoso-drifted");
  const now = new Date(snapshot.collectedAt);
  return { snapshot, now, plan: planRotation(snapshot, policy, now), verification: verifyRotation(snapshot, policy, now) };
}

const types = (events: { event: { type: string; subject: string } }[]) => events.map((e) => `${e.event.type} ${e.event.subject}`).sort();

describe("keywardenEvents", () => {
  it("in plan mode: the due key is pending, the lagging consumer is reported, and nothing is called completed without a run", () => {
    const { now, plan, verification } = drifted();
    const events = keywardenEvents({ plan, verification, mode: "plan" }, now);
    expect(types(events.filter((e) => e.requires === undefined))).toEqual([
      `${KEYWARDEN_EVENT_TYPES.consumerLagging} Contoso-DISK-CMK`,
      `${KEYWARDEN_EVENT_TYPES.rotationPending} Contoso-STORAGE-CMK`,
    ]);
    const pending = events.find((e) => e.event.type === KEYWARDEN_EVENT_TYPES.rotationPending);
    expect(pending?.event.data).toMatchObject({ stage: "due", why: "KEYWARDEN_ROTATION_MODE is plan", keyName: "Contoso-STORAGE-CMK" });
    const lagging = events.find((e) => e.event.type === KEYWARDEN_EVENT_TYPES.consumerLagging);
    expect(lagging?.event.data).toMatchObject({ consumerName: "des-contoso-centralindia", consumerKind: "diskEncryptionSet" });
    // A key already in order is "completed" only after a RotationPending for its version was published.
    const completed = events.filter((e) => e.event.type === KEYWARDEN_EVENT_TYPES.rotationCompleted);
    expect(completed.length).toBeGreaterThan(0);
    for (const c of completed) expect(c.requires).toMatch(/^KeyWarden\.RotationPending\|.*\|catchUp$/);
    // the same state later: the same facts, so the same identities and ids
    const later = keywardenEvents({ plan, verification, mode: "plan" }, new Date(now.getTime() + 86_400_000));
    expect(later.map((e) => e.event.id)).toEqual(events.map((e) => e.event.id));
  });

  it("a key an earlier, untold run changed is completed without waiting for a RotationPending (the round that ran it died before telling)", () => {
    const { now, plan, verification } = drifted();
    const before = keywardenEvents({ plan, verification, mode: "execute" }, now).filter((e) => e.event.type === KEYWARDEN_EVENT_TYPES.rotationCompleted);
    const key = before[0];
    if (!key) throw new Error("no completed event in the drifted estate");
    expect(key.requires).toBeDefined();
    const keyId = String(key.event.data.keyId).toLowerCase();
    const after = keywardenEvents({ plan, verification, mode: "execute", movedEarlier: new Set([keyId]) }, now).filter((e) => e.event.type === KEYWARDEN_EVENT_TYPES.rotationCompleted);
    expect(after.find((e) => String(e.event.data.keyId).toLowerCase() === keyId)?.requires).toBeUndefined();
    expect(after.find((e) => e.event.id === key.event.id)).toBeDefined();
    expect(after.filter((e) => String(e.event.data.keyId).toLowerCase() !== keyId && e.requires === undefined)).toEqual([]);
  });

  it("after a run: a failed step is one RotationFailed per run and key; a rotation whose consumers all moved is completed", () => {
    const { now, plan, verification } = drifted();
    const step = plan.steps.find((s) => s.kind === "rotateKey");
    if (!step) throw new Error("no rotation planned");
    const outcome = (status: StepOutcome["status"], extra: Partial<StepOutcome> = {}): StepOutcome => ({
      stepId: step.id,
      kind: step.kind,
      action: step.action,
      keyName: step.key.name,
      resource: step.resource,
      status,
      message: status,
      requestIds: [],
      elapsedMs: 1,
      ...extra,
    });
    const run = (outcomes: StepOutcome[], runId: string): RunResult => ({ runId, planId: plan.id, dryRun: false, startedAt: now.toISOString(), finishedAt: now.toISOString(), outcomes });

    const failed = keywardenEvents({ plan, run: run([outcome("failed", { error: { code: "Forbidden", statusCode: 403, message: "no" } })], "r1"), verification, mode: "execute" }, now);
    const f = failed.filter((e) => e.event.type === KEYWARDEN_EVENT_TYPES.rotationFailed);
    expect(f).toHaveLength(1);
    expect(f[0]?.event.data).toMatchObject({ runId: "r1", failures: [{ stepId: step.id, code: "Forbidden", statusCode: 403 }] });
    expect(failed.some((e) => e.event.type === KEYWARDEN_EVENT_TYPES.rotationPending && e.event.subject === step.key.name)).toBe(false);
    // another failed run is another fact
    const again = keywardenEvents({ plan, run: run([outcome("failed")], "r2"), verification, mode: "execute" }, now).find((e) => e.event.type === KEYWARDEN_EVENT_TYPES.rotationFailed);
    expect(again?.identity).not.toBe(f[0]?.identity);

    const rotated = keywardenEvents({ plan, run: run([outcome("changed", { version: "newversion" })], "r3"), verification, mode: "execute" }, now);
    const completed = rotated.find((e) => e.event.type === KEYWARDEN_EVENT_TYPES.rotationCompleted && e.event.subject === step.key.name);
    expect(completed).toBeDefined();
    expect(completed?.requires).toBeUndefined();
    expect(completed?.event.data).toMatchObject({ runId: "r3", keyName: step.key.name });
  });
});
