import type { ComplianceReport, ControlOutcome, ControlStatusCounts, StatusCounts } from "../compliance/evaluate.js";
import { AREAS, SEVERITIES, type ControlMetadata, type ControlResult } from "../compliance/types.js";
import type { CollectionError } from "../estate/snapshot.js";
import { codeBlock, escapeMarkdown, markdownTable } from "./markdownText.js";
import { fillRemediation, remediationIndex, type RemediationIndex } from "./remediation.js";
import { firstSeenOf, type ReportExtras } from "./reportHistory.js";
import { compareOutcomes, compareResults, countResults, mappingReferences, prettyEvidence } from "./view.js";

/**
 * A Markdown report for a pull request, an issue or a wiki: summary tables, then every failing or
 * unknown control with its evidence and remediation, then the passing controls in one table.
 * Every value from the snapshot or a control goes through escapeMarkdown, markdownTable or codeBlock. With a
 * history, each finding says when it was first seen.
 */
export function renderMarkdown(report: ComplianceReport, extras: ReportExtras = {}): string {
  const outcomes = [...report.controls].sort(compareOutcomes);
  const attention = outcomes.filter((o) => o.status === "FAIL" || o.status === "UNKNOWN");
  const passing = outcomes.filter((o) => o.status === "PASS");
  const notApplicable = outcomes.filter((o) => o.status === "NOT_APPLICABLE");
  const fill = remediationIndex(extras);
  const sections = [
    "# KeyWarden compliance report",
    header(report),
    "## Summary",
    `**Controls:** ${controlCounts(report.summary.controls)}. **Results:** ${counts(report.summary.results)}.`,
    "### By severity",
    statusTable("Severity", SEVERITIES.map((s) => [s, report.summary.bySeverity[s]])),
    "### By area",
    statusTable("Area", AREAS.map((a) => [a, report.summary.byArea[a]])),
    ...collectionErrors(report.collectionErrors),
    "## Failing and unknown controls",
    ...(attention.length === 0 ? ["None: every control passed."] : attention.flatMap((o) => controlSection(o, extras, fill))),
    "## Passing controls",
    passing.length === 0 ? "None." : passingTable(passing),
    ...(notApplicable.length === 0 ? [] : ["## Not applicable controls", "Nothing in the estate was in their scope: neither a pass nor a finding.", notApplicableTable(notApplicable)]),
  ];
  return `${sections.join("\n\n")}\n`;
}

function header(report: ComplianceReport): string {
  return markdownTable(
    ["Snapshot", "Value"],
    [
      ["Collected at", report.snapshot.collectedAt],
      ["SHA-256", report.snapshot.sha256],
      ["Cloud", report.snapshot.cloud],
      ["Snapshot schema version", String(report.snapshot.schemaVersion)],
      ["Report generated at", report.generatedAt],
      ["Minimum severity", displayNote(report)],
    ],
  );
}

function counts(c: StatusCounts): string {
  return `${c.FAIL} failing, ${c.UNKNOWN} unknown, ${c.PASS} passing`;
}

function controlCounts(c: ControlStatusCounts): string {
  return `${counts(c)}, ${c.NOT_APPLICABLE} not applicable`;
}

/** The summary counts every result; say how many of them the sections below show. */
function displayNote(report: ComplianceReport): string {
  const total = sum(report.summary.results);
  const shown = sum(report.summary.displayedResults);
  return shown === total ? report.minSeverity : `${report.minSeverity} (${shown} of ${total} results shown; the summary counts all)`;
}

function sum(c: StatusCounts): number {
  return c.FAIL + c.UNKNOWN + c.PASS;
}

function statusTable(title: string, rows: [string, StatusCounts][]): string {
  return markdownTable(
    [title, "FAIL", "UNKNOWN", "PASS"],
    rows.map(([name, c]) => [name, String(c.FAIL), String(c.UNKNOWN), String(c.PASS)]),
  );
}

function collectionErrors(errors: readonly CollectionError[]): string[] {
  if (errors.length === 0) return [];
  return [
    "## Collection errors",
    "These reads failed; controls that needed the data report UNKNOWN.",
    markdownTable(["Part", "Resource", "Operation", "HTTP status", "Code", "Message"], errors.map(collectionErrorRow)),
  ];
}

function collectionErrorRow(error: CollectionError): string[] {
  return [error.part, error.resourceId, error.operation, error.statusCode === undefined ? "" : String(error.statusCode), error.code ?? "", error.message];
}

function controlSection(outcome: ControlOutcome, extras: ReportExtras, fill: RemediationIndex): string[] {
  const { metadata } = outcome;
  const results = [...outcome.results].sort(compareResults);
  const c = countResults(results);
  const passingNames = results.filter((r) => r.status === "PASS").map((r) => r.resourceName);
  return [
    `### ${outcome.status}: ${escapeMarkdown(metadata.title)}`,
    `Control ${escapeMarkdown(metadata.id)} · severity **${metadata.severity}** · area **${metadata.area}** · results: ${c.FAIL} failing, ${c.UNKNOWN} unknown, ${c.PASS} passing`,
    `**Risk:** ${escapeMarkdown(metadata.risk)}`,
    ...results.filter((r) => r.status !== "PASS").flatMap((r) => resultSection(r, metadata, extras, fill)),
    ...(passingNames.length > 0 ? [`**Passing for:** ${passingNames.map(escapeMarkdown).join(", ")}`] : []),
    ...remediation(metadata),
    ...mappings(metadata),
  ];
}

function resultSection(result: ControlResult, metadata: ControlMetadata, { history }: ReportExtras, fill: RemediationIndex): string[] {
  const { evidence } = result;
  const firstSeen = firstSeenOf(history, result);
  const lines = [
    `#### ${result.status} (${result.severity}): ${escapeMarkdown(result.resourceName)}`,
    [
      `- **Resource:** ${escapeMarkdown(result.resourceId || "(none)")}`,
      `- **Finding:** ${escapeMarkdown(result.message)}`,
      `- **Observed at:** ${escapeMarkdown(evidence.observedAt)}`,
      ...(history ? [`- **First seen:** ${firstSeen === undefined ? "not in the history" : escapeMarkdown(firstSeen)}`] : []),
    ].join("\n"),
    "**Observed:**",
    codeBlock(prettyEvidence(evidence.observed), "json"),
    "**Expected:**",
    codeBlock(prettyEvidence(evidence.expected), "json"),
    "**Remediation command:**",
    codeBlock(fillRemediation(metadata.remediation.cli, result, fill), "sh"),
  ];
  const errors = evidence.collectionErrors ?? [];
  if (errors.length > 0) {
    lines.push(
      "**Collection errors behind this result:**",
      markdownTable(["Part", "Resource", "Operation", "HTTP status", "Code", "Message"], errors.map(collectionErrorRow)),
    );
  }
  return lines;
}

/** The control's advice; each result above carries its own filled-in command. */
function remediation(metadata: ControlMetadata): string[] {
  return [
    `**Remediation:** ${escapeMarkdown(metadata.remediation.summary)}`,
    ...(metadata.remediation.bicep ? ["**Bicep:**", codeBlock(metadata.remediation.bicep, "bicep")] : []),
  ];
}

function mappings(metadata: ControlMetadata): string[] {
  const references = mappingReferences(metadata);
  if (references.length === 0) return [];
  const items = references.map((m) => `- ${escapeMarkdown(m.framework)} ${escapeMarkdown(m.id)}${m.title ? `: ${escapeMarkdown(m.title)}` : ""}`);
  return ["**Mappings:**", items.join("\n")];
}

function notApplicableTable(outcomes: readonly ControlOutcome[]): string {
  return markdownTable(
    ["Control", "Title", "Area", "Severity", "Status"],
    outcomes.map((o) => [o.metadata.id, o.metadata.title, o.metadata.area, o.metadata.severity, "not applicable"]),
  );
}

function passingTable(outcomes: readonly ControlOutcome[]): string {
  return markdownTable(
    ["Control", "Title", "Area", "Severity", "Results"],
    outcomes.map((o) => [o.metadata.id, o.metadata.title, o.metadata.area, o.metadata.severity, String(o.results.length)]),
  );
}
