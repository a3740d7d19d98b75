import { sendFailureOf } from "../azure/errors.js";
import type { LogsSink } from "../azure/logsIngestion.js";
import type { Clock } from "../clock.js";
import { ensureError } from "../errors.js";
import { Outbox, type OutboxItem, type OutboxSink } from "../state/outbox.js";
import type { StateStore } from "../state/stateStore.js";
import { FINDINGS_STREAM, ROTATIONS_STREAM, type AlertRow } from "./alertRows.js";

/** Under the SDK's 1 MB chunk, so one outbox batch is one upload: all accepted or all refused. */
const MAX_BATCH_BYTES = 900_000;
const MAX_BATCH_ROWS = 5_000;

export interface AlertDelivery {
  /** Rows new this run (each also written to the function log). */
  queued: number;
  /** Rows Azure Monitor accepted this run (this run's and any an earlier failure left). */
  sent: number;
  /** Rows still waiting (the next run sends them), with the last error. */
  undelivered: { count: number; error?: string };
  /** Rows Azure Monitor refused as malformed (kept under alerts/rejected/). */
  rejected: number;
  /** No Logs Ingestion configured: the function log is the only sink. */
  logOnly: boolean;
}

export interface AlertDeliveryDeps {
  store: StateStore;
  clock: Clock;
  /** Absent: rows go to the function log only. */
  sink?: LogsSink;
  /** One structured entry per new row. */
  log(line: string): void;
  owner: string;
  /** Facts told elsewhere that rows may require (alertRows.ts rotationNotes): noted, never sent. */
  known?: readonly string[];
}

/** A stream's alerts outbox: alerts/<the stream's name without Custom- and _CL, lower-cased>/. */
export function alertOutboxPrefix(stream: string): string {
  return `alerts/${stream.replace(/^Custom-/, "").replace(/_CL$/, "").toLowerCase()}/`;
}

/**
 * Delivers alert rows once per fact: new rows go to the function log as structured entries and, with Logs
 * Ingestion configured, through the `alerts/` outbox to Azure Monitor, grouped per stream. An upload that fails
 * stays in the outbox and goes with the next run; the result says so, so the scan can say alerts were not
 * delivered.
 */
export async function deliverAlerts(rows: readonly OutboxItem<AlertRow>[], deps: AlertDeliveryDeps): Promise<AlertDelivery> {
  const total: AlertDelivery = { queued: 0, sent: 0, undelivered: { count: 0 }, rejected: 0, logOnly: !deps.sink };
  // One outbox per stream, so that a batch is one upload to one stream: all accepted or all refused.
  for (const stream of [FINDINGS_STREAM, ROTATIONS_STREAM] as const) {
    const prefix = alertOutboxPrefix(stream);
    const outbox = new Outbox<AlertRow>(deps.store, prefix, deps.clock);
    const ofStream = rows.filter((r) => r.item.stream === stream);
    // Only rotation rows follow facts told elsewhere (a "completed" after an event-only "pending").
    if (stream === ROTATIONS_STREAM && deps.known && deps.known.length > 0) await outbox.note(deps.known);
    const enqueued = await outbox.enqueue(ofStream);
    total.queued += enqueued.queued.length;
    if (!deps.sink) {
      // Without Azure Monitor the log is the sink; the sent records still say what was said, once.
      const logged = await outbox.flush(logSink(deps.log), deps.owner);
      total.sent += logged.sent.length;
      continue;
    }
    for (const q of enqueued.queued) deps.log(logLine(q.item));
    const flushed = await outbox.flush(ingestionSink(deps.sink, stream), deps.owner);
    total.sent += flushed.sent.length;
    total.rejected += flushed.rejected.length;
    total.undelivered.count += (await deps.store.list(`${prefix}pending/`)).length;
    if (flushed.failed[0] && !total.undelivered.error) total.undelivered.error = flushed.failed[0].error;
  }
  return total;
}

/** The error line when alerts wait in the outbox, or undefined when everything was delivered. */
export function undeliveredAlerts(delivery: AlertDelivery): string | undefined {
  if (delivery.undelivered.count === 0) return undefined;
  return `Alerts were not delivered to Azure Monitor: ${delivery.undelivered.count} row(s) wait in the outbox for the next run (${delivery.undelivered.error ?? "not sent yet"}).`;
}

function logSink(log: (line: string) => void): OutboxSink<AlertRow> {
  return { send: async (items) => items.forEach((i) => log(logLine(i))), failure: (e) => ({ message: ensureError(e).message, malformed: false }), maxBatchBytes: MAX_BATCH_BYTES, maxBatchItems: MAX_BATCH_ROWS };
}

function logLine(row: AlertRow): string {
  return JSON.stringify({ event: "KeyWarden.Alert", stream: row.stream, ...row.row });
}

function ingestionSink(sink: LogsSink, stream: string): OutboxSink<AlertRow> {
  return {
    send: (items) => sink.upload(stream, items.map((i) => i.row)),
    failure: sendFailureOf,
    maxBatchBytes: MAX_BATCH_BYTES,
    maxBatchItems: MAX_BATCH_ROWS,
  };
}
