import { createHash } from "node:crypto";
import type { ComplianceReport } from "../compliance/evaluate.js";
import { SEVERITIES, type Severity, type Status } from "../compliance/types.js";

/** One open finding (a FAIL or UNKNOWN result) as the history keeps it. */
export interface FindingRecord {
  /** Stable across scans: the control and the resource it is about. */
  fingerprint: string;
  controlId: string;
  severity: Severity;
  status: Exclude<Status, "PASS">;
  resourceId: string;
  resourceName: string;
  message: string;
  /** When a scan first saw it open (carried from scan to scan while it stays open). */
  firstSeen: string;
}

/** The fingerprint of a (control, resource) pair: alert rules group and deduplicate on it. */
export function findingFingerprint(controlId: string, resourceId: string): string {
  return createHash("sha256").update(`${controlId}|${resourceId.toLowerCase()}`).digest("hex").slice(0, 32);
}

/**
 * The report's open findings, each with its first-seen time: from the previous scan's record while it stayed open,
 * else this scan's time. Pure. One finding per fingerprint (a control that names one resource twice keeps its
 * most severe result).
 */
export function findingsOf(report: ComplianceReport, previous: readonly FindingRecord[] | undefined, scannedAt: string): FindingRecord[] {
  const before = new Map((previous ?? []).map((f) => [f.fingerprint, f]));
  const out = new Map<string, FindingRecord>();
  for (const outcome of report.controls) {
    for (const r of outcome.results) {
      if (r.status === "PASS") continue;
      const fingerprint = findingFingerprint(r.controlId, r.resourceId);
      const existing = out.get(fingerprint);
      // SEVERITIES runs from the most severe: a lower index is more severe.
      if (existing && SEVERITIES.indexOf(existing.severity) <= SEVERITIES.indexOf(r.severity)) continue;
      out.set(fingerprint, {
        fingerprint,
        controlId: r.controlId,
        severity: r.severity,
        status: r.status,
        resourceId: r.resourceId,
        resourceName: r.resourceName,
        message: r.message,
        firstSeen: before.get(fingerprint)?.firstSeen ?? scannedAt,
      });
    }
  }
  return [...out.values()].sort((a, b) => a.fingerprint.localeCompare(b.fingerprint));
}
