import { describe, expect, it } from "vitest";
import { forDisplay } from "../../../src/lib/report/forDisplay.js";
import { allResults, sampleReport } from "./sampleReport.js";

describe("forDisplay", () => {
  const report = sampleReport();

  it("evaluation keeps every result, whatever will be displayed", () => {
    expect(report.minSeverity).toBe("info");
    expect(allResults(report).map((r) => r.severity)).toEqual(expect.arrayContaining(["critical", "high", "medium", "low", "info"]));
    expect(report.summary.displayedResults).toEqual(report.summary.results);
  });

  it("lists only results at or above minSeverity, and says so", () => {
    const shown = forDisplay(report, "high");
    expect(shown.minSeverity).toBe("high");
    const severities = [...new Set(allResults(shown).map((r) => r.severity))].sort();
    expect(severities).toEqual(["critical", "high"]);
    expect(shown.summary.displayedResults).toEqual({ FAIL: 5, UNKNOWN: 1, PASS: 4 });
  });

  it("leaves the summary and each control's status judging every result", () => {
    const shown = forDisplay(report, "critical");
    expect(shown.summary.results).toEqual(report.summary.results);
    expect(shown.summary.controls).toEqual(report.summary.controls);
    expect(shown.controls.map((c) => c.status)).toEqual(report.controls.map((c) => c.status));
  });

  it("does not change the report it is given", () => {
    const before = JSON.stringify(report);
    forDisplay(report, "critical");
    expect(JSON.stringify(report)).toBe(before);
  });
});
