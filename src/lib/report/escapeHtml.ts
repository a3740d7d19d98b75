import { neutraliseText } from "../text/neutralise.js";

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "`": "&#96;",
};

/**
 * The one way a value reaches the HTML report. Escapes every character that can end a text node or
 * an attribute value (quoted or not) — and the backtick, which old IE treated as a quote. Control and
 * bidirectional characters become visible escapes first (tab, LF and CR stay: in a text node they are layout).
 */
export function escapeHtml(value: string): string {
  return neutraliseText(value, { keepLayout: true }).replace(/[&<>"'`]/g, (character) => HTML_ESCAPES[character] ?? character);
}
