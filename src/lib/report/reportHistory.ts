import type { PolicyDocument } from "../config/types.js";
import type { EstateSnapshot } from "../estate/snapshot.js";
import type { StoredScan } from "../history/scanHistory.js";
import type { FindingTransition } from "../history/transitions.js";
import { findingFingerprint } from "../history/findings.js";
import type { ControlResult } from "../compliance/types.js";

/** What the evidence history says about the report shown: built by loadReportHistory (src/lib/history/reportHistory.ts). */
export interface ReportHistory {
  /** Finding fingerprint (src/lib/history/findings.ts) -> ISO time the finding was first seen open. */
  firstSeen: ReadonlyMap<string, string>;
  /** Across the stored scans up to the one shown, oldest first. */
  transitions: readonly FindingTransition[];
  /** The scans those cover, oldest first (the last is the scan shown). */
  scans: readonly StoredScan[];
}

/**
 * What a renderer may use besides the report. All optional: without them every format renders as before. The
 * report does not carry its snapshot, so the HTML's consumer map and version axis need it passed; the policy gives
 * each key's rotation cadence.
 */
export interface ReportExtras {
  history?: ReportHistory;
  snapshot?: EstateSnapshot;
  policy?: PolicyDocument;
}

/** When the history first saw this result open; undefined for a pass or without a history. */
export function firstSeenOf(history: ReportHistory | undefined, result: ControlResult): string | undefined {
  if (!history || result.status === "PASS") return undefined;
  return history.firstSeen.get(findingFingerprint(result.controlId, result.resourceId));
}
