import { describe, expect, it } from "vitest";
import { CSV_COLUMNS, neutraliseFormula, renderCsv } from "../../../src/lib/report/csv.js";
import { neutraliseText } from "../../../src/lib/text/neutralise.js";
import { parseCsv } from "../../support/csv.js";
import { allResults, FORMULA_PAYLOADS, MARKDOWN_PAYLOADS, sampleReport, SCRIPT_PAYLOADS, UNICODE_NAME } from "./sampleReport.js";

describe("renderCsv", () => {
  const report = sampleReport();
  const body = renderCsv(report);
  const [header, ...rows] = parseCsv(body);

  it("has a header and one row per result (PASS included), every row as wide as the header", () => {
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(allResults(report).length);
    for (const row of rows) expect(row).toHaveLength(CSV_COLUMNS.length);
  });

  it("parses back to the same cells, formula cells and control/bidi characters apart", () => {
    const expected = report.controls.flatMap((o) =>
      o.results.map((r) =>
        [
          r.controlId,
          o.metadata.area,
          r.severity,
          r.status,
          r.resourceName,
          r.resourceId,
          r.message,
          JSON.stringify(r.evidence.observed),
          JSON.stringify(r.evidence.expected),
          r.evidence.observedAt,
          o.metadata.remediation.cli,
          // firstSeen: no history given
          "",
        ].map((cell) => neutraliseFormula(neutraliseText(cell, { keepLayout: true }))),
      ),
    );
    expect(rows).toEqual(expected);
    // Commas, quotes, CR and LF survive quoting.
    expect(rows.map((row) => row[6])).toContain(`${MARKDOWN_PAYLOADS.multiline} ${MARKDOWN_PAYLOADS.emphasis} ${MARKDOWN_PAYLOADS.link}`);
    expect(rows.map((row) => row[4])).toContain(SCRIPT_PAYLOADS.scriptTag);
    // A right-to-left override is shown, not obeyed.
    expect(body).not.toContain("\u202E");
    expect(rows.map((row) => row[4])).toContain(`${neutraliseText(UNICODE_NAME)}-storage`);
  });

  it("neutralises every cell a spreadsheet would evaluate", () => {
    const cells = rows.flat();
    for (const payload of Object.values(FORMULA_PAYLOADS)) {
      expect(cells, payload).toContain(`'${payload}`);
      expect(cells, payload).not.toContain(payload);
    }
    for (const cell of cells) expect(cell, cell).not.toMatch(/^[=+\-@\t\r\n]/);
    // Negative numbers in evidence are JSON inside a cell that starts with `{` or `[`: left alone.
    expect(cells.some((cell) => cell.includes('-1,"=1+1"'))).toBe(true);
  });

  it("leaves ordinary cells unchanged", () => {
    expect(neutraliseFormula("cmk-sql")).toBe("cmk-sql");
    expect(neutraliseFormula("a=b")).toBe("a=b");
    expect(neutraliseFormula("-1")).toBe("'-1");
  });

  it("ends every record with CRLF and has no byte-order mark", () => {
    expect(body.endsWith("\r\n")).toBe(true);
    expect(body.charCodeAt(0)).not.toBe(0xfeff);
    expect(body.split("\r\n")[0]).toBe(CSV_COLUMNS.join(","));
  });
});
