import type { ComplianceReport } from "../compliance/evaluate.js";
import { sortedKeys } from "../text/sortedJson.js";
import { escapeUnsafeInJson } from "../text/neutralise.js";
import { firstSeenOf, type ReportExtras } from "./reportHistory.js";

/** Names the document type, so a consumer can tell a KeyWarden report from any other JSON. */
export const REPORT_KIND = "keywarden.compliance-report";

/**
 * The ComplianceReport as-is, led by `kind` and `schemaVersion` (bumped on any breaking change).
 * Keys below the top are sorted at every level, so the same report always renders to the same
 * bytes and two reports diff line by line whatever order the controls built their evidence in.
 *
 * With a history, each failing or unknown result gains `firstSeen` (when the history first saw it open). Values are
 * exact; control and bidi characters in them are written as `\uXXXX` escapes, never raw.
 */
export function renderJson(report: ComplianceReport, extras: ReportExtras = {}): string {
  const { schemaVersion, ...rest } = withFirstSeen(report, extras);
  const top = Object.keys(rest).sort() as (keyof typeof rest)[];
  const document = { kind: REPORT_KIND, schemaVersion, ...Object.fromEntries(top.map((k) => [k, rest[k]])) };
  // The newline joins the serialiser's output before anything reads it, so the text is made flat once: a large
  // report (47.7 MB at 10,000 consumers) flattened and then copied again with a newline held both at once.
  return escapeUnsafeInJson(`${JSON.stringify(document, sortedKeys(document), 2)}\n`);
}

function withFirstSeen(report: ComplianceReport, { history }: ReportExtras): ComplianceReport {
  if (!history) return report;
  const controls = report.controls.map((outcome) => ({
    ...outcome,
    results: outcome.results.map((result) => {
      const firstSeen = firstSeenOf(history, result);
      return firstSeen === undefined ? result : { ...result, firstSeen };
    }),
  }));
  return { ...report, controls };
}
