/**
 * Turning untrusted text into Markdown that renders as that text and nothing else, for
 * CommonMark/GitHub-flavoured renderers.
 */

import { neutraliseText } from "../text/neutralise.js";

// Line breaks and line/paragraph separators would end a table row or a list item: inline text joins its lines.
const LINE_BREAKING = /[\t\n\r\u2028\u2029]+/g;

/*
 * Backslash-escaping is defined for every ASCII punctuation character. These are the ones that can
 * start markup mid-line: emphasis, code spans, links/images, raw HTML (`<`), entities (`&`), table
 * cell separators (`|`, which GFM splits on before inline parsing), strikethrough and math — and `#`, because
 * a heading drops a trailing run of them as its closing sequence (a name ending in " #" would lose it).
 * Values never start a line, so the other block markers (`-`, `+`, `1.`, `>`) need no escaping.
 */
const INLINE_SIGNIFICANT = /[\\`*_[\]<>&|~$!@#]/g;

/**
 * GFM turns bare `http://…`, `https://…` and `www.…` into links, and GitHub turns `@name` into a
 * mention: a resource name must not become a link to wherever it points, nor ping someone.
 */
const AUTOLINK_TRIGGER = /:\/\/|\b(www)\./gi;

/**
 * One line of inline text, safe in a paragraph, a heading, a list item or a table cell. Other control and bidi
 * characters become visible escapes (whose backslash the escaping below then keeps literal).
 */
export function escapeMarkdown(text: string): string {
  return neutraliseText(text.replace(LINE_BREAKING, " "))
    .replace(INLINE_SIGNIFICANT, (character) => `\\${character}`)
    .replace(AUTOLINK_TRIGGER, (_match, www: string | undefined) => (www ? `${www}\\.` : ":\\/\\/"));
}

/**
 * A fenced code block holding `text` verbatim. The fence is longer than any backtick run inside,
 * so the content cannot close it; code blocks render their content as text (no HTML, no links). Lines stay lines;
 * control and bidi characters become visible escapes.
 */
export function codeBlock(text: string, info = ""): string {
  const longestRun = Math.max(0, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = "`".repeat(Math.max(3, longestRun + 1));
  const body = neutraliseText(text.replace(/\r\n?/g, "\n"), { keepLayout: true });
  return `${fence}${info}\n${body}\n${fence}`;
}

/** A GitHub-flavoured table; every cell escaped, rows padded or cut to the header's width. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${headers.map((_, column) => escapeMarkdown(cells[column] ?? "")).join(" | ")} |`;
  return [line(headers), `|${headers.map(() => " --- ").join("|")}|`, ...rows.map(line)].join("\n");
}
