import type { ComplianceReport } from "../compliance/evaluate.js";
import { listScans, readReport, scanAt, type StoredScan } from "../history/scanHistory.js";
import type { StateStore } from "../state/stateStore.js";
import type { RecordedScanRound } from "./scanAndRecord.js";

/** Which scan a report request asks for. */
export type ReportSource = { kind: "latest" } | { kind: "refresh" } | { kind: "at"; at: Date };

export interface ServedReport {
  report: ComplianceReport;
  scan: StoredScan;
  /** Scanned for this request (`refresh`, or no scan stored yet) rather than read from the history. */
  fresh: boolean;
  /** The fresh scan's recording (its alerts), when fresh. */
  round?: RecordedScanRound;
}

export class NoScanAtError extends Error {
  constructor(at: Date, oldest: StoredScan | undefined) {
    super(oldest ? `No stored scan was made at or before ${at.toISOString()}; the oldest stored scan is from ${oldest.scannedAt}.` : `No stored scan was made at or before ${at.toISOString()}; the history is empty.`);
    this.name = "NoScanAtError";
  }
}

/**
 * The report a request asks for: by default the latest stored scan (a read, whatever the estate's size); at a time,
 * the scan in force then; on refresh (or with nothing stored yet) a scan made now and recorded, so that it alerts
 * like any other. Throws NoScanAtError when nothing was stored by that time.
 */
export async function servedReport(source: ReportSource, deps: { store: StateStore; scanAndRecord(): Promise<RecordedScanRound> }): Promise<ServedReport> {
  if (source.kind === "at") {
    const scan = await scanAt(deps.store, source.at);
    if (!scan) throw new NoScanAtError(source.at, (await listScans(deps.store))[0]);
    return { report: await readReport(deps.store, scan.scanId), scan, fresh: false };
  }
  if (source.kind === "latest") {
    const scan = (await listScans(deps.store)).at(-1);
    if (scan) return { report: await readReport(deps.store, scan.scanId), scan, fresh: false };
  }
  const round = await deps.scanAndRecord();
  return { report: round.report, scan: { scanId: round.recorded.scanId, scannedAt: round.recorded.scannedAt }, fresh: true, round };
}
