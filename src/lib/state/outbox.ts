import { ensureError } from "../errors.js";
import type { Clock } from "../clock.js";
import { identityHash } from "./identityHash.js";
import type { StateStore } from "./stateStore.js";
import { isLeaseBusy, withLease } from "./withLease.js";

/**
 * An outbox in the state store: what KeyWarden has to deliver (events to Event Grid, alert rows to Azure
 * Monitor), kept so that nothing is delivered twice and nothing is lost. `<prefix>pending/<h>` holds an item
 * until the sink accepted it; `<prefix>sent/<h>` records that it was (h = a hash of the item's identity, the fact
 * it reports, so a fact already delivered is never queued again); `<prefix>rejected/<h>` keeps the last copy of an
 * item the sink refused as malformed: it is not resent as it was, but the fact is queued again by the next run
 * that sees it (built under the settings then, which may have been fixed). A crash between the send and its
 * record resends the same item at the next flush: at least once.
 */
export interface OutboxItem<T> {
  identity: string;
  item: T;
  /** Queue only once the item of this identity was delivered (a "completed" after its "pending"). */
  requires?: string;
}

export interface SendFailure {
  statusCode?: number;
  code?: string;
  message: string;
  /** The sink refused the items as malformed: resending them as they are would not help. */
  malformed: boolean;
}

export interface OutboxSink<T> {
  send(items: T[]): Promise<void>;
  /** Maps a failed send to what the outbox records. */
  failure(error: unknown): SendFailure;
  /** Batch limits of the sink. */
  maxBatchBytes: number;
  maxBatchItems: number;
}

export interface EnqueueResult<T> {
  queued: OutboxItem<T>[];
  alreadySent: number;
  alreadyPending: number;
  /** Waiting for an item they follow that was never delivered. */
  notYet: number;
}

export interface FlushResult<T> {
  sent: T[];
  /** Still pending (the next flush retries them), with why. */
  failed: { item: T; attempts: number; error: string }[];
  /** Refused by the sink as malformed: kept under <prefix>rejected/. */
  rejected: { item: T; error: string }[];
  /** Another process was flushing (it delivers them). */
  busy: boolean;
}

interface PendingRecord<T> {
  identity: string;
  item: T;
  queuedAt: string;
  attempts: number;
  lastAttemptAt?: string;
  lastError?: Omit<SendFailure, "malformed">;
}

/** The lease an outbox's flush holds (locks/<prefix>-outbox), so that two runs never send one batch at once. */
export function outboxLockName(prefix: string): string {
  return `locks/${prefix.replace(/\/+$/, "")}-outbox`;
}

export class Outbox<T> {
  constructor(
    private readonly store: StateStore,
    /** e.g. "events/" */
    private readonly prefix: string,
    private readonly clock: Clock,
  ) {}

  private pendingName(identity: string): string {
    return `${this.prefix}pending/${identityHash(identity)}.json`;
  }

  private sentName(identity: string): string {
    return `${this.prefix}sent/${identityHash(identity)}.json`;
  }

  /** Queues each item unless the fact it reports was delivered or is queued already. */
  async enqueue(items: readonly OutboxItem<T>[]): Promise<EnqueueResult<T>> {
    const result: EnqueueResult<T> = { queued: [], alreadySent: 0, alreadyPending: 0, notYet: 0 };
    const unique = [...new Map(items.map((e) => [e.identity, e])).values()];
    await Promise.all(
      unique.map(async (e) => {
        if (e.requires !== undefined && !(await this.store.get(this.sentName(e.requires)))) {
          result.notYet += 1;
          return;
        }
        if (await this.store.get(this.sentName(e.identity))) {
          result.alreadySent += 1;
          return;
        }
        const record: PendingRecord<T> = { identity: e.identity, item: e.item, queuedAt: this.clock.now().toISOString(), attempts: 0 };
        if (await this.store.create(this.pendingName(e.identity), JSON.stringify(record))) result.queued.push(e);
        else result.alreadyPending += 1;
      }),
    );
    return result;
  }

  /**
   * Records facts told through another channel as known here, without sending anything, so that items which
   * require them can be queued (a "completed" alert after a "pending" that is an event only, not an alert).
   */
  async note(identities: readonly string[]): Promise<void> {
    await Promise.all(
      [...new Set(identities)].map(async (identity) => {
        if (await this.store.get(this.sentName(identity))) return;
        await this.store.create(this.sentName(identity), JSON.stringify({ identity, notedAt: this.clock.now().toISOString() }));
      }),
    );
  }

  /**
   * Sends every pending item, oldest first, in batches within the sink's limits, under one lease so that two runs
   * do not send the same batch at once. A batch refused as malformed is retried item by item, so one bad item
   * cannot hold the others back; any other failure leaves the rest pending for the next flush.
   */
  async flush(sink: OutboxSink<T>, owner: string): Promise<FlushResult<T>> {
    const held = await withLease(this.store, outboxLockName(this.prefix), { durationMs: 60_000, owner, clock: this.clock }, (signal) => this.flushHeld(sink, signal));
    if (isLeaseBusy(held)) return { sent: [], failed: [], rejected: [], busy: true };
    return held;
  }

  private async flushHeld(sink: OutboxSink<T>, signal: AbortSignal): Promise<FlushResult<T>> {
    const { store } = this;
    const result: FlushResult<T> = { sent: [], failed: [], rejected: [], busy: false };
    const names = await store.list(`${this.prefix}pending/`);
    const items = (await Promise.all(names.map(async (name) => ({ name, stored: await store.get(name) })))).flatMap(({ name, stored }) =>
      stored ? [{ name, etag: stored.etag, record: JSON.parse(stored.body) as PendingRecord<T> }] : [],
    );
    items.sort((a, b) => a.record.queuedAt.localeCompare(b.record.queuedAt) || a.record.identity.localeCompare(b.record.identity));

    // A record already marked sent (a crash after the send): only the pending copy is left to remove.
    const toSend: typeof items = [];
    for (const it of items) {
      if (await store.get(this.sentName(it.record.identity))) await store.delete(it.name);
      else toSend.push(it);
    }

    for (const batch of batches(toSend, sink)) {
      if (signal.aborted) break;
      const outcome = await trySend(sink, batch.map((b) => b.record.item));
      if (outcome === "sent") {
        for (const b of batch) await this.markSent(b.name, b.record);
        result.sent.push(...batch.map((b) => b.record.item));
        continue;
      }
      if (outcome.malformed) {
        let stop = false;
        for (const b of batch) {
          const single = batch.length === 1 ? outcome : await trySend(sink, [b.record.item]);
          if (single === "sent") {
            await this.markSent(b.name, b.record);
            result.sent.push(b.record.item);
          } else if (single.malformed) {
            await store.put(`${this.prefix}rejected/${identityHash(b.record.identity)}.json`, JSON.stringify({ ...b.record, rejectedAt: this.clock.now().toISOString(), error: single }));
            await store.delete(b.name);
            result.rejected.push({ item: b.record.item, error: single.message });
          } else {
            await this.recordFailure(b, single, result);
            stop = true;
            break;
          }
        }
        if (stop) break;
        continue;
      }
      for (const b of batch) await this.recordFailure(b, outcome, result);
      // The sink is unreachable or refusing us: leave the rest for the next flush rather than fail each in turn.
      break;
    }
    return result;
  }

  private async markSent(pendingName: string, record: PendingRecord<T>): Promise<void> {
    const body = JSON.stringify({ identity: record.identity, queuedAt: record.queuedAt, sentAt: this.clock.now().toISOString(), attempts: record.attempts + 1 });
    await this.store.create(this.sentName(record.identity), body);
    await this.store.delete(pendingName);
  }

  private async recordFailure(b: { name: string; etag: string; record: PendingRecord<T> }, failure: SendFailure, result: FlushResult<T>): Promise<void> {
    const attempts = b.record.attempts + 1;
    const { malformed: _ignored, ...lastError } = failure;
    const record: PendingRecord<T> = { ...b.record, attempts, lastAttemptAt: this.clock.now().toISOString(), lastError };
    // The send failed; recording the attempt is best effort (the item stays pending either way).
    await this.store.put(b.name, JSON.stringify(record), { ifMatch: b.etag }).catch(() => undefined);
    result.failed.push({ item: b.record.item, attempts, error: failure.message });
  }
}

async function trySend<T>(sink: OutboxSink<T>, items: T[]): Promise<"sent" | SendFailure> {
  try {
    await sink.send(items);
    return "sent";
  } catch (thrown) {
    try {
      return sink.failure(thrown);
    } catch {
      return { message: ensureError(thrown).message, malformed: false };
    }
  }
}

/** Consecutive batches within the sink's item count and JSON size. */
function* batches<T, R extends { record: PendingRecord<T> }>(items: R[], sink: OutboxSink<T>): Generator<R[]> {
  let batch: R[] = [];
  let bytes = 2;
  for (const it of items) {
    const size = Buffer.byteLength(JSON.stringify(it.record.item)) + 1;
    if (batch.length > 0 && (bytes + size > sink.maxBatchBytes || batch.length >= sink.maxBatchItems)) {
      yield batch;
      batch = [];
      bytes = 2;
    }
    batch.push(it);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}
