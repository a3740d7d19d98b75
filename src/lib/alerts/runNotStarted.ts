import { ensureError } from "../errors.js";
import { deliverAlerts, type AlertDeliveryDeps } from "./deliverAlerts.js";
import { ROTATIONS_STREAM, runNotStartedRows, type RunNotStarted } from "./alertRows.js";

export interface RunNotStartedAlert {
  /** How the rows went: through the outbox as usual, straight to Logs Ingestion, or (no Logs Ingestion, or it failed too) to the log only. */
  via: "outbox" | "direct" | "log";
  rows: number;
  /** Why the outbox could not take them, and why the direct upload failed, if it did. */
  outboxError?: string;
  uploadError?: string;
}

/**
 * Raises the alert of a run the state store stopped (its journal's first record or a key's lock could not be
 * written). The alerts outbox lives in that same store, so when it cannot be written (or flushed) the rows go
 * straight to Logs Ingestion, best effort and once, and always to the log as KeyWarden.Alert entries. Never
 * throws: the caller fails the invocation with the run's own error either way. A row the outbox kept after all is
 * sent again by the next flush (the outbox delivers at least once).
 */
export async function alertRunNotStarted(failure: RunNotStarted, deps: AlertDeliveryDeps): Promise<RunNotStartedAlert> {
  const rows = runNotStartedRows(failure, deps.clock.now());
  try {
    // The outbox took them: it sends them now or, if Logs Ingestion failed, with the next run (as every alert).
    const delivery = await deliverAlerts(rows, deps);
    return { via: deps.sink ? "outbox" : "log", rows: rows.length, ...(delivery.undelivered.error ? { uploadError: delivery.undelivered.error } : {}) };
  } catch (error) {
    return { ...(await direct(rows.map((r) => r.item.row), deps)), outboxError: ensureError(error).message };
  }
}

async function direct(rows: Record<string, unknown>[], deps: AlertDeliveryDeps): Promise<RunNotStartedAlert> {
  for (const row of rows) deps.log(JSON.stringify({ event: "KeyWarden.Alert", stream: ROTATIONS_STREAM, ...row }));
  if (!deps.sink) return { via: "log", rows: rows.length };
  try {
    await deps.sink.upload(ROTATIONS_STREAM, rows);
    return { via: "direct", rows: rows.length };
  } catch (error) {
    return { via: "log", rows: rows.length, uploadError: ensureError(error).message };
  }
}
