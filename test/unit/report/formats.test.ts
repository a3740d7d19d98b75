import { describe, expect, it } from "vitest";
import { UnknownReportFormatError } from "../../../src/lib/report/errors.js";
import { isReportFormat, REPORT_FORMATS, renderReport, type ReportFormat } from "../../../src/lib/report/formats.js";
import { sampleReport } from "./sampleReport.js";

describe("renderReport", () => {
  const report = sampleReport();

  it.each([
    ["json", "application/json; charset=utf-8", "json"],
    ["md", "text/markdown; charset=utf-8", "md"],
    ["html", "text/html; charset=utf-8", "html"],
    ["sarif", "application/sarif+json; charset=utf-8", "sarif"],
    ["csv", "text/csv; charset=utf-8; header=present", "csv"],
  ] as const)("renders %s as %s (.%s)", (format, contentType, fileExtension) => {
    const rendered = renderReport(report, format);
    expect(rendered.contentType).toBe(contentType);
    expect(rendered.fileExtension).toBe(fileExtension);
    expect(rendered.body.length).toBeGreaterThan(500);
  });

  it("is deterministic: the same report renders to the same bytes", () => {
    for (const format of REPORT_FORMATS) {
      expect(renderReport(sampleReport(), format).body, format).toBe(renderReport(report, format).body);
    }
  });

  it("does not change the report it renders", () => {
    const before = JSON.stringify(report);
    for (const format of REPORT_FORMATS) renderReport(report, format);
    expect(JSON.stringify(report)).toBe(before);
  });

  it("rejects an unknown format with a typed error naming it and the supported ones", () => {
    expect(isReportFormat("pdf")).toBe(false);
    expect(isReportFormat("sarif")).toBe(true);
    const render = (): unknown => renderReport(report, "pdf" as ReportFormat);
    expect(render).toThrow(UnknownReportFormatError);
    expect(render).toThrow('Unknown report format "pdf": expected one of json, md, html, sarif, csv.');
  });
});
