import { neutraliseText } from "./neutralise.js";

/**
 * Plain-text tables for a terminal: left-aligned columns separated by two spaces, a header row and a rule.
 * Cells are made single-line and stripped of control characters, so text from Azure (error messages)
 * cannot break the layout or send escape sequences to the terminal; bidirectional formatting characters and the
 * line separators are shown as visible `\u{…}` escapes, as in every report, so a name cannot reorder a line.
 */

export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], indent = ""): string {
  const clean = rows.map((row) => headers.map((_, column) => cleanCell(row[column] ?? "")));
  const header = headers.map(cleanCell);
  const widths = header.map((title, column) => Math.max(title.length, ...clean.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    `${indent}${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ")}`.trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...clean.map(line)].join("\n");
}

/** Aligned `label  value` lines (a two-column table without a header). */
export function renderFields(fields: readonly (readonly [string, string])[], indent = ""): string {
  const width = Math.max(0, ...fields.map(([label]) => cleanCell(label).length));
  return fields.map(([label, value]) => `${indent}${cleanCell(label).padEnd(width)}  ${cleanCell(value)}`.trimEnd()).join("\n");
}

// eslint-disable-next-line no-control-regex -- stripping control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]+/g;

export function cleanCell(text: string): string {
  return neutraliseText(text.replace(CONTROL_CHARACTERS, " ").replace(/ {2,}/g, " ").trim());
}
