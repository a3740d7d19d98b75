import type { ComplianceReport } from "../compliance/evaluate.js";

/** Names the document type, so a consumer can tell a KeyWarden report from any other JSON. */
export const REPORT_KIND = "keywarden.compliance-report";

/**
 * The ComplianceReport as-is, led by `kind` and `schemaVersion` (bumped on any breaking change).
 * Keys below the top are sorted at every level, so the same report always renders to the same
 * bytes and two reports diff line by line whatever order the controls built their evidence in.
 */
export function renderJson(report: ComplianceReport): string {
  const { schemaVersion, ...rest } = report;
  const document = { kind: REPORT_KIND, schemaVersion, ...(sortKeys(rest) as object) };
  return `${JSON.stringify(document, null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
}
