import type { ReportHistory } from "../report/reportHistory.js";
import type { StateStore } from "../state/stateStore.js";
import type { FindingRecord } from "./findings.js";
import { listScans, readFindings } from "./scanHistory.js";
import { findingTransitions, type FindingTransition } from "./transitions.js";

export const DEFAULT_REPORT_HISTORY_SCANS = 90;
/** Findings files read at once: enough to hide a blob round trip, few enough not to queue on the request layer's cap. */
const READ_CONCURRENCY = 8;

export class ScanNotFoundError extends Error {
  override readonly name = "ScanNotFoundError";
  constructor(readonly scanId: string) {
    super(`scan ${scanId} is not in the history (no scans/${scanId}/findings.json)`);
  }
}

/**
 * The history behind the report of scan `scanId`: first-seen times of its open findings and the transitions of
 * the last `limit` scans up to it (each against the scan before it, so the window's first scan is compared with
 * its predecessor when there is one). Reads one list and at most limit + 1 findings files — never a report or a
 * snapshot — so it stays cheap whatever the estate's size.
 */
export async function loadReportHistory(store: StateStore, scanId: string, options: { limit?: number } = {}): Promise<ReportHistory> {
  const limit = options.limit ?? DEFAULT_REPORT_HISTORY_SCANS;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`loadReportHistory: limit must be a positive integer, not ${String(limit)}`);
  const all = await listScans(store);
  const shown = all.findIndex((s) => s.scanId === scanId);
  if (shown < 0) throw new ScanNotFoundError(scanId);
  const start = Math.max(0, shown + 1 - limit);
  const scans = all.slice(start, shown + 1);
  const predecessor = start > 0 ? all[start - 1] : undefined;
  const toRead = predecessor ? [predecessor, ...scans] : scans;
  const findings = await mapLimited(toRead, READ_CONCURRENCY, (s) => readFindings(store, s.scanId));
  const offset = predecessor ? 1 : 0;
  const transitions: FindingTransition[] = [];
  scans.forEach((scan, i) => {
    const previous = i + offset > 0 ? findings[i + offset - 1] : undefined;
    transitions.push(...findingTransitions(previous, findings[i + offset] as FindingRecord[], scan));
  });
  const current = findings.at(-1) ?? [];
  return { firstSeen: new Map(current.map((f) => [f.fingerprint, f.firstSeen])), transitions, scans };
}

async function mapLimited<T, R>(items: readonly T[], concurrency: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

