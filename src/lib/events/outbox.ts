import { sendFailureOf } from "../azure/errors.js";
import type { EventsPublisher, OutgoingEvent } from "../azure/eventGrid.js";
import type { Clock } from "../clock.js";
import { Outbox, type EnqueueResult as OutboxEnqueueResult, type FlushResult as OutboxFlushResult, type OutboxSink } from "../state/outbox.js";
import type { StateStore } from "../state/stateStore.js";
import type { EventToPublish } from "./keyVaultEvents.js";

/**
 * The events outbox (src/lib/state/outbox.ts under `events/`): `events/pending/`, `events/sent/`, `events/rejected/`.
 * Event Grid refuses a malformed event with 400 (or 413 for one too large); anything else is retried next run.
 */
export const EVENTS_OUTBOX_PREFIX = "events/";

/** Event Grid's limit per publish request is 1 MB; leave room for the array's brackets and commas. */
export const MAX_BATCH_BYTES = 1_000_000;
/** Event Grid's documented maximum of events per batch. */
export const MAX_BATCH_EVENTS = 5_000;

export type EnqueueResult = Omit<OutboxEnqueueResult<OutgoingEvent>, "queued"> & { queued: EventToPublish[] };

export interface FlushResult {
  sent: OutgoingEvent[];
  failed: { event: OutgoingEvent; attempts: number; error: string }[];
  rejected: { event: OutgoingEvent; error: string }[];
  busy: boolean;
}

/** Queues each event unless the fact it reports was published or is queued already. */
export async function enqueueEvents(store: StateStore, events: readonly EventToPublish[], clock: Clock): Promise<EnqueueResult> {
  const result = await new Outbox<OutgoingEvent>(store, EVENTS_OUTBOX_PREFIX, clock).enqueue(events.map((e) => ({ identity: e.identity, item: e.event, ...(e.requires ? { requires: e.requires } : {}) })));
  return { ...result, queued: result.queued.map((q) => ({ identity: q.identity, event: q.item, ...(q.requires ? { requires: q.requires } : {}) })) };
}

/** Sends every pending event to the topic (see Outbox.flush). */
export async function flushOutbox(store: StateStore, publisher: EventsPublisher, clock: Clock, owner: string): Promise<FlushResult> {
  const r: OutboxFlushResult<OutgoingEvent> = await new Outbox<OutgoingEvent>(store, EVENTS_OUTBOX_PREFIX, clock).flush(topicSink(publisher), owner);
  return { sent: r.sent, failed: r.failed.map((f) => ({ event: f.item, attempts: f.attempts, error: f.error })), rejected: r.rejected.map((x) => ({ event: x.item, error: x.error })), busy: r.busy };
}

function topicSink(publisher: EventsPublisher): OutboxSink<OutgoingEvent> {
  return {
    send: (events) => publisher.send(events),
    failure: sendFailureOf,
    maxBatchBytes: MAX_BATCH_BYTES,
    maxBatchItems: MAX_BATCH_EVENTS,
  };
}
