import { findingRows } from "../alerts/alertRows.js";
import { deliverAlerts, type AlertDelivery } from "../alerts/deliverAlerts.js";
import type { LogsSink } from "../azure/logsIngestion.js";
import { pruneScans, recordScan, type RecordedScan } from "../history/scanHistory.js";
import type { StateStore } from "../state/stateStore.js";
import { runScan, type ScanDeps, type ScanResult } from "./runScan.js";

export interface RecordingDeps {
  store: StateStore;
  /** Absent: alert rows go to `log` only. */
  sink?: LogsSink;
  /** One structured entry per new alert row. */
  log(line: string): void;
  owner: string;
  /** KEYWARDEN_HISTORY_RETENTION_DAYS. */
  retentionDays: number;
}

export interface RecordedScanRound extends ScanResult {
  recorded: RecordedScan;
  delivery: AlertDelivery;
  /** Scans deleted by retention. */
  pruned: string[];
}

/**
 * A scan that counts as evidence (the timer, `?refresh=true`, `scan --emit`): scan, store it in the history, alert
 * on what changed since the scan before, then apply retention. Every path that records a scan alerts on it, so no
 * transition is recorded without being told.
 */
export async function scanAndRecord(deps: ScanDeps & RecordingDeps): Promise<RecordedScanRound> {
  const { snapshot, report } = await runScan(deps);
  const recorded = await recordScan(deps.store, { report, snapshot });
  const delivery = await deliverAlerts(findingRows(recorded.transitions, report), { store: deps.store, clock: deps.clock, ...(deps.sink ? { sink: deps.sink } : {}), log: deps.log, owner: deps.owner });
  const pruned = await pruneScans(deps.store, deps.clock.now(), deps.retentionDays);
  return { snapshot, report, recorded, delivery, pruned };
}

/**
 * The one summary line of a recorded scan, for the timer's log and the CLI. `logOnly` says where the alerts went
 * when Logs Ingestion is not configured (the timer's function log by default).
 */
export function recordedScanSummary(round: RecordedScanRound, options: { logOnly?: string } = {}): string {
  const { report, recorded, delivery } = round;
  const s = report.summary.results;
  return (
    `Compliance scan ${recorded.scanId}: ${s.FAIL} failed, ${s.UNKNOWN} unknown, ${s.PASS} passed; ${report.collectionErrors.length} collection error(s); ` +
    `${recorded.transitions.length} change(s) since ${recorded.previous?.scanId ?? "no earlier scan"}; alerts: ${delivery.queued} new, ${delivery.sent} delivered${delivery.logOnly ? ` (${options.logOnly ?? "function log only"})` : " to Azure Monitor"}` +
    `${round.pruned.length > 0 ? `; ${round.pruned.length} scan(s) past retention deleted` : ""}.`
  );
}
