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
export function roundEvents(round: RoundForEvents, policy: PolicyDocument, mode: "plan" | "execute", now: Date): EventToPublish[] {
  const verification = round.verification ?? verifyRotation(round.snapshot, policy, now);
  return [...keyVaultEvents(round.snapshot, policy, now), ...keywardenEvents({ plan: round.plan, ...(round.run ? { run: round.run } : {}), verification, mode }, now)];
}

export interface PublishOutcome {
  enqueued: EnqueueResult;
  flushed: FlushResult;
}

/** Queues the round's events in the outbox and sends everything pending (this round's and any a failed send left). */
export async function publishRoundEvents(
  round: RoundForEvents,
  deps: { policy: PolicyDocument; mode: "plan" | "execute"; store: StateStore; clock: Clock; publisher: EventsPublisher; owner: string },
): Promise<PublishOutcome> {
  const enqueued = await enqueueEvents(deps.store, roundEvents(round, deps.policy, deps.mode, deps.clock.now()), deps.clock);
  const flushed = await flushOutbox(deps.store, deps.publisher, deps.clock, deps.owner);
  return { enqueued, flushed };
}
