import { zeroStatusCounts, type ComplianceReport } from "../compliance/evaluate.js";
import { atLeast, type Severity } from "../compliance/types.js";

/**
 * The report as a person should see it: each control lists only its results at or above `minSeverity`.
 * Pure, and only for rendering: the summary (bar `displayedResults`) and every control's status still
 * judge every result, so a gate or an alert run on either report cannot be narrowed by a display flag.
 */
export function forDisplay(report: ComplianceReport, minSeverity: Severity): ComplianceReport {
  const displayedResults = zeroStatusCounts();
  const controls = report.controls.map((outcome) => {
    const results = outcome.results.filter((r) => atLeast(r.severity, minSeverity));
    for (const r of results) displayedResults[r.status]++;
    return { ...outcome, results };
  });
  return { ...report, minSeverity, controls, summary: { ...report.summary, displayedResults } };
}
