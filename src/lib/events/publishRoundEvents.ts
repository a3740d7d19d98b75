import type { EventsPublisher } from "../azure/eventGrid.js";
import type { Clock } from "../clock.js";
import type { PolicyDocument } from "../config/types.js";
import type { EstateSnapshot } from "../estate/snapshot.js";
import type { RunResult } from "../rotation/executor.js";
import type { RotationPlan } from "../rotation/plan.js";
import { verifyRotation, type Verification } from "../rotation/verify.js";
import type { StateStore } from "../state/stateStore.js";
import { keyVaultEvents, type EventToPublish } from "./keyVaultEvents.js";
import { keywardenEvents } from "./keywardenEvents.js";
import { enqueueEvents, flushOutbox, type EnqueueResult, type FlushResult } from "./outbox.js";

export interface RoundForEvents {
  plan: RotationPlan;
  run?: RunResult;
  verification?: Verification;
  snapshot: EstateSnapshot;
}

/** Every event a rotation round calls for: the Key Vault ones for each managed key, then KeyWarden's own. Pure. */
export function roundEvents(round: RoundForEvents, policy: PolicyDocument, mode: "plan" | "execute", now: Date, movedEarlier?: ReadonlySet<string>): EventToPublish[] {
  const verification = round.verification ?? verifyRotation(round.snapshot, policy, now);
  return [...keyVaultEvents(round.snapshot, policy, now), ...keywardenEvents({ plan: round.plan, ...(round.run ? { run: round.run } : {}), verification, mode, ...(movedEarlier ? { movedEarlier } : {}) }, now)];
}

export interface PublishOutcome {
  enqueued: EnqueueResult;
  flushed: FlushResult;
}

export interface PublishDeps {
  store: StateStore;
  clock: Clock;
  publisher: EventsPublisher;
  owner: string;
}

/** Queues events in the outbox and sends everything pending (these and any a failed send left). */
export async function publishEvents(events: readonly EventToPublish[], deps: PublishDeps): Promise<PublishOutcome> {
  const enqueued = await enqueueEvents(deps.store, events, deps.clock);
  const flushed = await flushOutbox(deps.store, deps.publisher, deps.clock, deps.owner);
  return { enqueued, flushed };
}

/** Logs what a publish did, for the timers: a line with the counts, a warning per event still pending, an error per one refused. */
export function logPublished(outcome: PublishOutcome, log: { log(line: string): void; warn(line: string): void; error(line: string): void }): void {
  const { enqueued, flushed } = outcome;
  log.log(JSON.stringify({ event: "KeyWarden.EventsPublished", queued: enqueued.queued.length, sent: flushed.sent.length, failed: flushed.failed.length, rejected: flushed.rejected.length, types: [...new Set(flushed.sent.map((e) => e.type))] }));
  for (const f of flushed.failed) log.warn(`Event ${f.event.type} ${f.event.id} not sent yet (attempt ${f.attempts}); it stays queued for the next run: ${f.error}`);
  for (const r of flushed.rejected) log.error(`Event ${r.event.type} ${r.event.id} was refused by the topic and is kept under events/rejected/: ${r.error}`);
}
