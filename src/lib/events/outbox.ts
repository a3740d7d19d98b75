import { AzureRequestError } from "../azure/errors.js";
import type { EventsPublisher, OutgoingEvent } from "../azure/eventGrid.js";
import type { Clock } from "../clock.js";
import { ensureError } from "../errors.js";
import type { StateStore } from "../state/stateStore.js";
import { isLeaseBusy, withLease } from "../state/withLease.js";
import { identityHash } from "./eventIdentity.js";
import type { EventToPublish } from "./keyVaultEvents.js";

/**
 * The outbox: what KeyWarden has to publish, kept in the state store so that nothing is sent twice and nothing
 * is lost. `events/pending/<h>` holds an event until the topic accepted it; `events/sent/<h>` records that it was
 * (h = a hash of the event's identity, so a fact already sent is never queued again); `events/rejected/<h>` keeps
 * the last copy of an event the topic refused as malformed (400/413): it is not resent as it was, but the fact is
 * queued again by the next run that sees it (built under the settings then, which may have been fixed). A crash between the send and
 * its record resends the same event, with the same id, at the next flush: at least once, as Event Grid itself.
 */
const PENDING = "events/pending/";
const SENT = "events/sent/";
const REJECTED = "events/rejected/";
const FLUSH_LOCK = "locks/events-outbox";

/** Event Grid's limit per publish request is 1 MB; leave room for the array's brackets and commas. */
export const MAX_BATCH_BYTES = 1_000_000;
/** Event Grid's documented maximum of events per batch. */
export const MAX_BATCH_EVENTS = 5_000;

interface PendingRecord {
  identity: string;
  event: OutgoingEvent;
  queuedAt: string;
  attempts: number;
  lastAttemptAt?: string;
  lastError?: { statusCode?: number; code?: string; message: string };
}

export interface EnqueueResult {
  queued: EventToPublish[];
  alreadySent: number;
  alreadyPending: number;
  /** Waiting for an event they follow (RotationCompleted after its RotationPending) that was never published. */
  notYet: number;
}

export interface FlushResult {
  sent: OutgoingEvent[];
  /** Still pending (the next flush retries them), with why. */
  failed: { event: OutgoingEvent; attempts: number; error: string }[];
  /** Refused by the topic as malformed: kept under events/rejected/, not resent as they were. */
  rejected: { event: OutgoingEvent; error: string }[];
  /** Another process was flushing (it sends them). */
  busy: boolean;
}

/** Queues each event unless the fact it reports was published or is queued already. */
export async function enqueueEvents(store: StateStore, events: readonly EventToPublish[], clock: Clock): Promise<EnqueueResult> {
  const result: EnqueueResult = { queued: [], alreadySent: 0, alreadyPending: 0, notYet: 0 };
  const unique = [...new Map(events.map((e) => [e.identity, e])).values()];
  await Promise.all(
    unique.map(async (e) => {
      const h = identityHash(e.identity);
      if (e.requires !== undefined && !(await store.get(`${SENT}${identityHash(e.requires)}.json`))) {
        result.notYet += 1;
        return;
      }
      if (await store.get(`${SENT}${h}.json`)) {
        result.alreadySent += 1;
        return;
      }
      const record: PendingRecord = { identity: e.identity, event: e.event, queuedAt: clock.now().toISOString(), attempts: 0 };
      if (await store.create(`${PENDING}${h}.json`, JSON.stringify(record))) result.queued.push(e);
      else result.alreadyPending += 1;
    }),
  );
  return result;
}

/**
 * Sends every pending event, oldest first, in batches within Event Grid's limits, under one lease so that two
 * runs do not send the same batch at once. A batch the topic refuses as malformed is retried event by event, so
 * one bad event cannot hold the others back; any other failure leaves the rest pending for the next flush.
 */
export async function flushOutbox(store: StateStore, publisher: EventsPublisher, clock: Clock, owner: string): Promise<FlushResult> {
  const held = await withLease(store, FLUSH_LOCK, { durationMs: 60_000, owner, clock }, async (signal) => flush(store, publisher, clock, signal));
  if (isLeaseBusy(held)) return { sent: [], failed: [], rejected: [], busy: true };
  return held;
}

async function flush(store: StateStore, publisher: EventsPublisher, clock: Clock, signal: AbortSignal): Promise<FlushResult> {
  const result: FlushResult = { sent: [], failed: [], rejected: [], busy: false };
  const names = await store.list(PENDING);
  const items = (await Promise.all(names.map(async (name) => ({ name, item: await store.get(name) })))).flatMap(({ name, item }) =>
    item ? [{ name, etag: item.etag, record: JSON.parse(item.body) as PendingRecord }] : [],
  );
  items.sort((a, b) => a.record.queuedAt.localeCompare(b.record.queuedAt) || a.record.identity.localeCompare(b.record.identity));

  // A record already marked sent (a crash after the send): only the pending copy is left to remove.
  const toSend: typeof items = [];
  for (const it of items) {
    if (await store.get(sentName(it.record.identity))) await store.delete(it.name);
    else toSend.push(it);
  }

  for (const batch of batches(toSend)) {
    if (signal.aborted) break;
    const outcome = await trySend(publisher, batch.map((b) => b.record.event));
    if (outcome === "sent") {
      for (const b of batch) await markSent(store, b.name, b.record, clock);
      result.sent.push(...batch.map((b) => b.record.event));
      continue;
    }
    if (outcome.malformed) {
      // Find the bad ones: send one by one.
      let stop = false;
      for (const b of batch) {
        const single = batch.length === 1 ? outcome : await trySend(publisher, [b.record.event]);
        if (single === "sent") {
          await markSent(store, b.name, b.record, clock);
          result.sent.push(b.record.event);
        } else if (single.malformed) {
          await store.put(`${REJECTED}${identityHash(b.record.identity)}.json`, JSON.stringify({ ...b.record, rejectedAt: clock.now().toISOString(), error: single.error }));
          await store.delete(b.name);
          result.rejected.push({ event: b.record.event, error: single.error.message });
        } else {
          await recordFailure(store, b, single.error, clock, result);
          stop = true;
          break;
        }
      }
      if (stop) break;
      continue;
    }
    for (const b of batch) await recordFailure(store, b, outcome.error, clock, result);
    // The topic is unreachable or refusing us: leave the rest for the next flush rather than fail each in turn.
    break;
  }
  return result;
}

function sentName(identity: string): string {
  return `${SENT}${identityHash(identity)}.json`;
}

async function markSent(store: StateStore, pendingName: string, record: PendingRecord, clock: Clock): Promise<void> {
  const body = JSON.stringify({ identity: record.identity, id: record.event.id, type: record.event.type, subject: record.event.subject, queuedAt: record.queuedAt, sentAt: clock.now().toISOString(), attempts: record.attempts + 1 });
  if (!(await store.create(sentName(record.identity), body))) return void (await store.delete(pendingName));
  await store.delete(pendingName);
}

async function recordFailure(
  store: StateStore,
  b: { name: string; etag: string; record: PendingRecord },
  error: { statusCode?: number; code?: string; message: string },
  clock: Clock,
  result: FlushResult,
): Promise<void> {
  const attempts = b.record.attempts + 1;
  const record: PendingRecord = { ...b.record, attempts, lastAttemptAt: clock.now().toISOString(), lastError: error };
  // The send failed; recording the attempt is best effort (the event stays pending either way).
  await store.put(b.name, JSON.stringify(record), { ifMatch: b.etag }).catch(() => undefined);
  result.failed.push({ event: b.record.event, attempts, error: error.message });
}

type SendOutcome = "sent" | { malformed: boolean; error: { statusCode?: number; code?: string; message: string } };

async function trySend(publisher: EventsPublisher, events: OutgoingEvent[]): Promise<SendOutcome> {
  try {
    await publisher.send(events);
    return "sent";
  } catch (thrown) {
    const e = thrown instanceof AzureRequestError ? thrown : undefined;
    const error = { ...(e?.statusCode !== undefined ? { statusCode: e.statusCode } : {}), ...(e?.code ? { code: e.code } : {}), message: ensureError(thrown).message };
    return { malformed: e?.statusCode === 400 || e?.statusCode === 413, error };
  }
}

/** Consecutive batches of at most MAX_BATCH_EVENTS events and MAX_BATCH_BYTES of JSON. */
function* batches<T extends { record: PendingRecord }>(items: T[]): Generator<T[]> {
  let batch: T[] = [];
  let bytes = 2;
  for (const it of items) {
    const size = Buffer.byteLength(JSON.stringify(it.record.event)) + 1;
    if (batch.length > 0 && (bytes + size > MAX_BATCH_BYTES || batch.length >= MAX_BATCH_EVENTS)) {
      yield batch;
      batch = [];
      bytes = 2;
    }
    batch.push(it);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}
