import type { ComplianceReport } from "../compliance/evaluate.js";
import type { ControlResult } from "../compliance/types.js";
import { neutraliseText } from "../text/neutralise.js";
import { firstSeenOf, type ReportExtras } from "./reportHistory.js";

export const CSV_COLUMNS = [
  "controlId",
  "area",
  "severity",
  "status",
  "resourceName",
  "resourceId",
  "message",
  "observed",
  "expected",
  "observedAt",
  "remediationCli",
  /** When the history first saw the finding open; empty for a pass or without a history. */
  "firstSeen",
] as const;

/**
 * One row per result (PASS included: a spreadsheet is for the whole picture), and one row with status
 * NOT_APPLICABLE and no resource for each control that had nothing in scope; RFC 4180: CRLF line
 * ends, fields quoted when they hold a comma, quote, CR or LF, quotes doubled. Observed/expected are
 * compact JSON. No byte-order mark. Control and bidi characters become visible escapes (tab, CR and LF stay, inside
 * quotes), then a cell a spreadsheet would run as a formula is made text.
 */
export function renderCsv(report: ComplianceReport, { history }: ReportExtras = {}): string {
  const rows: string[][] = [[...CSV_COLUMNS]];
  for (const outcome of report.controls) {
    for (const result of outcome.results) {
      rows.push([...row(result, outcome.metadata.area, outcome.metadata.remediation.cli), firstSeenOf(history, result) ?? ""]);
    }
    if (outcome.status === "NOT_APPLICABLE") {
      const { id, area, severity } = outcome.metadata;
      rows.push([id, area, severity, "NOT_APPLICABLE", "", "", "not applicable: nothing in the estate is in this control's scope", "", "", "", "", ""]);
    }
  }
  return rows.map((cells) => `${cells.map((cell) => quoteCsv(neutraliseFormula(neutraliseText(cell, { keepLayout: true })))).join(",")}\r\n`).join("");
}

function row(result: ControlResult, area: string, cli: string): string[] {
  const { evidence } = result;
  return [
    result.controlId,
    area,
    result.severity,
    result.status,
    result.resourceName,
    result.resourceId,
    result.message,
    JSON.stringify(evidence.observed),
    JSON.stringify(evidence.expected),
    evidence.observedAt,
    cli,
  ];
}

/**
 * Spreadsheets evaluate a cell that starts with = + - @ (and, in some, after a leading tab, CR or
 * LF) as a formula; a leading apostrophe makes it text (OWASP "CSV injection").
 */
export function neutraliseFormula(cell: string): string {
  return /^[=+\-@\t\r\n]/.test(cell) ? `'${cell}` : cell;
}

export function quoteCsv(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}
