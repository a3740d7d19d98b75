import { marked, type Token, type Tokens } from "marked";
import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../../src/lib/report/markdown.js";
import { codeBlock, escapeMarkdown, markdownTable } from "../../../src/lib/report/markdownText.js";
import { neutraliseText } from "../../../src/lib/text/neutralise.js";
import { FORMULA_PAYLOADS, MARKDOWN_PAYLOADS, sampleReport, SCRIPT_PAYLOADS, UNICODE_NAME } from "./sampleReport.js";

/** Every token of a kind, at any depth, as a GFM renderer (marked) parses the document. */
function tokensOf<T extends Token>(markdown: string, type: string): T[] {
  const found: T[] = [];
  marked.walkTokens(marked.lexer(markdown), (token) => {
    if (token.type === type) found.push(token as T);
  });
  return found;
}

/** Rendered HTML → its text (entities decoded), to compare with what a person would read. */
function textOf(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

describe("renderMarkdown", () => {
  const report = sampleReport();
  const markdown = renderMarkdown(report);
  const html = marked.parse(markdown, { async: false });

  it("starts with the snapshot's time and hash, then the summary tables by severity and area", () => {
    const headings = tokensOf<Tokens.Heading>(markdown, "heading").map((h) => h.text);
    expect(headings.slice(0, 5)).toEqual(["KeyWarden compliance report", "Summary", "By severity", "By area", "Collection errors"]);
    expect(markdown).toContain(`| Collected at | 2025-06-01T08:00:00.000Z |`);
    expect(markdown).toContain(`| SHA-256 | ${report.snapshot.sha256} |`);
    expect(markdown).toContain("| high | 4 | 1 | 3 |");
    expect(markdown).toContain("| rbac | 2 | 0 | 0 |");
  });

  it("keeps every table's column count whatever the values hold", () => {
    const tables = tokensOf<Tokens.Table>(markdown, "table");
    expect(tables.length).toBeGreaterThanOrEqual(6);
    for (const table of tables) {
      for (const row of table.rows) expect(row).toHaveLength(table.header.length);
    }
    // The collection-error table holds pipes, quotes, commas and a CRLF, and still has 2 rows of 6.
    const errors = tables.find((t) => t.header.map((h) => h.text).join() === "Part,Resource,Operation,HTTP status,Code,Message");
    expect(errors?.rows.map((r) => r.length)).toEqual([6, 6]);
    expect(errors?.rows[1]?.[5]?.text).toBe(escapeMarkdown(MARKDOWN_PAYLOADS.multiline));
  });

  it("lists failing and unknown results grouped by control, worst first, with evidence and remediation", () => {
    const headings = tokensOf<Tokens.Heading>(markdown, "heading").filter((h) => h.depth === 3 && /^(FAIL|UNKNOWN):/.test(h.text));
    expect(headings.map((h) => textOf(marked.parseInline(h.text, { async: false })))).toEqual([
      "FAIL: Managed HSM has soft delete and purge protection enabled",
      "FAIL: Keys have an expiration date",
      "FAIL: HSM RBAC grants no broad administrator roles to applications",
      "FAIL: Keys rotate automatically within the cryptoperiod",
      "FAIL: Storage accounts are encrypted with an HSM key",
      "UNKNOWN: Managed HSM disables public network access and uses a private endpoint",
      "UNKNOWN: Keys use an allowed type and size",
    ]);
    const code = tokensOf<Tokens.Code>(markdown, "code");
    expect(code.filter((c) => c.lang === "sh").map((c) => c.text)).toContain(
      "az keyvault update-hsm --hsm-name <hsm-name: not known for this finding> --resource-group <resource-group: not known for this finding> --enable-purge-protection true",
    );
    // Evidence is JSON in code blocks, verbatim, even when it holds backticks and HTML.
    const jsonBlocks = code.filter((c) => c.lang === "json").map((c) => JSON.parse(c.text) as unknown);
    expect(jsonBlocks).toContainEqual({ enablePurgeProtection: false, enableSoftDelete: true, tags: { owner: SCRIPT_PAYLOADS.preBreakout, note: SCRIPT_PAYLOADS.titleBreakout } });
    expect(jsonBlocks).toContainEqual({
      roleDefinitionName: "Managed HSM Administrator",
      principal: { name: MARKDOWN_PAYLOADS.backticks, type: "ServicePrincipal" },
      scopes: ["/", "/keys"],
    });
    expect(markdown).toContain("- PCI DSS v4.0 3.7.3: Key-management procedures cover secure storage of keys");
  });

  it("shows passing controls compactly in one table", () => {
    const passing = markdown.slice(markdown.indexOf("## Passing controls"));
    expect(passing).toContain("| Control | Title | Area | Severity | Results |");
    expect(passing).toContain("| sql\\_tde\\_cmk | SQL managed instances use an HSM key as TDE protector | sql | high | 1 |");
    expect(passing.split("\n").filter((line) => line.startsWith("| ")).length).toBe(5);
  });

  it("renders hostile values as their text: no HTML, no links, no images, no emphasis", () => {
    expect(html).not.toMatch(/<(script|img|svg|iframe|meta|details|del)\b/i);
    expect(html).not.toMatch(/<a\b/i);
    expect(html).not.toMatch(/<em\b/i);
    const text = textOf(html);
    for (const value of [SCRIPT_PAYLOADS.scriptTag, SCRIPT_PAYLOADS.imgOnerror, SCRIPT_PAYLOADS.attributeBreakout, SCRIPT_PAYLOADS.javascriptUrl, SCRIPT_PAYLOADS.entity, MARKDOWN_PAYLOADS.pipes, MARKDOWN_PAYLOADS.link, MARKDOWN_PAYLOADS.emphasis, FORMULA_PAYLOADS.hyperlink, neutraliseText(UNICODE_NAME)]) {
      expect(text, value).toContain(value);
    }
    // The right-to-left override in a name is shown as an escape, never obeyed.
    expect(markdown).not.toContain("\u202E");
  });
});

describe("markdown text helpers", () => {
  it("escapes inline markup, table pipes, autolinks and mentions, and joins lines", () => {
    expect(escapeMarkdown("a|b `c` *d* <e> &f; [g](h) @i http://j www.k\nl")).toBe(
      "a\\|b \\`c\\` \\*d\\* \\<e\\> \\&f; \\[g\\](h) \\@i http:\\/\\/j www\\.k l",
    );
    const html = marked.parse(escapeMarkdown("see http://evil.example and www.evil.example, ping @octocat"), { async: false });
    expect(html).toBe("<p>see http://evil.example and www.evil.example, ping @octocat</p>\n");
  });

  it("fences code with more backticks than the code holds", () => {
    const block = codeBlock("a ```` b", "json");
    expect(block).toBe("`````json\na ```` b\n`````");
    expect(tokensOf<Tokens.Code>(block, "code")[0]?.text).toBe("a ```` b");
  });

  it("pads short rows to the header's width", () => {
    expect(markdownTable(["a", "b"], [["1"]])).toBe("| a | b |\n| --- | --- |\n| 1 |  |");
  });
});
