import type { FindingRecord } from "./findings.js";

export type FindingTransitionKind = "opened" | "resolved" | "severityChanged" | "statusChanged";

/** A change between two consecutive scans: what Azure Monitor is told, once. */
export interface FindingTransition {
  transition: FindingTransitionKind;
  fingerprint: string;
  controlId: string;
  severity: FindingRecord["severity"];
  previousSeverity?: FindingRecord["severity"];
  /** The finding's status now; `PASS` once resolved. */
  status: FindingRecord["status"] | "PASS";
  previousStatus?: FindingRecord["status"];
  resourceId: string;
  resourceName: string;
  message: string;
  firstSeen: string;
  scanId: string;
  at: string;
}

/**
 * What changed from the previous scan's findings to this one's: each finding opened, resolved, or changed in
 * severity or status (FAIL ↔ UNKNOWN). Without a previous scan every open finding is opened. Pure; in
 * fingerprint order.
 */
export function findingTransitions(previous: readonly FindingRecord[] | undefined, current: readonly FindingRecord[], scan: { scanId: string; scannedAt: string }): FindingTransition[] {
  const before = new Map((previous ?? []).map((f) => [f.fingerprint, f]));
  const now = new Map(current.map((f) => [f.fingerprint, f]));
  const out: FindingTransition[] = [];
  const row = (f: FindingRecord, transition: FindingTransitionKind, extra: Partial<FindingTransition> = {}): FindingTransition => ({
    transition,
    fingerprint: f.fingerprint,
    controlId: f.controlId,
    severity: f.severity,
    status: f.status,
    resourceId: f.resourceId,
    resourceName: f.resourceName,
    message: f.message,
    firstSeen: f.firstSeen,
    scanId: scan.scanId,
    at: scan.scannedAt,
    ...extra,
  });
  for (const f of current) {
    const was = before.get(f.fingerprint);
    if (!was) out.push(row(f, "opened"));
    else if (was.severity !== f.severity) out.push(row(f, "severityChanged", { previousSeverity: was.severity, ...(was.status !== f.status ? { previousStatus: was.status } : {}) }));
    else if (was.status !== f.status) out.push(row(f, "statusChanged", { previousStatus: was.status }));
  }
  for (const was of previous ?? []) {
    if (!now.has(was.fingerprint)) out.push(row(was, "resolved", { status: "PASS", previousStatus: was.status }));
  }
  return out.sort((a, b) => a.fingerprint.localeCompare(b.fingerprint) || a.transition.localeCompare(b.transition));
}
