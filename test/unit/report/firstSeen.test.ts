import { describe, expect, it } from "vitest";
import type { ControlResult } from "../../../src/lib/compliance/types.js";
import { findingFingerprint } from "../../../src/lib/history/findings.js";
import { CSV_COLUMNS } from "../../../src/lib/report/csv.js";
import { renderReport } from "../../../src/lib/report/formats.js";
import type { ReportHistory } from "../../../src/lib/report/reportHistory.js";
import { allResults, sampleReport } from "./sampleReport.js";

const report = sampleReport();
const open = allResults(report).filter((r) => r.status !== "PASS");
/** Every open finding but the last has a distinct first-seen time; the last is not in the history. */
const seenAt = (i: number): string => new Date(Date.UTC(2025, 4, 1 + i, 6)).toISOString();
const history: ReportHistory = {
  firstSeen: new Map(open.slice(0, -1).map((r, i) => [findingFingerprint(r.controlId, r.resourceId), seenAt(i)])),
  transitions: [],
  scans: [{ scanId: "20250601T080500000Z-000000000000", scannedAt: "2025-06-01T08:05:00.000Z" }],
};
const key = (r: ControlResult): string => `${r.controlId} ${r.resourceId}`;

describe("first seen, in every format", () => {
  it("has findings in and out of the history to show", () => {
    expect(open.length).toBeGreaterThanOrEqual(3);
    expect(history.firstSeen.size).toBe(open.length - 1);
  });

  it("json: a firstSeen field on each open result the history knows, none on passes", () => {
    const doc = JSON.parse(renderReport(report, "json", { history }).body) as { controls: { results: (ControlResult & { firstSeen?: string })[] }[] };
    const results = doc.controls.flatMap((c) => c.results);
    const byKey = new Map(results.map((r) => [key(r), r.firstSeen]));
    open.slice(0, -1).forEach((r, i) => expect(byKey.get(key(r)), key(r)).toBe(seenAt(i)));
    expect(byKey.get(key(open.at(-1) as ControlResult))).toBeUndefined();
    expect(results.filter((r) => r.status === "PASS" && "firstSeen" in r)).toEqual([]);
    expect(renderReport(report, "json").body).not.toContain('"firstSeen"');
  });

  it("csv: a firstSeen column, empty for passes, unknown findings and without a history", () => {
    expect(CSV_COLUMNS.at(-1)).toBe("firstSeen");
    const lines = renderReport(report, "csv", { history }).body.split("\r\n");
    for (let i = 0; i < open.length - 1; i++) expect(lines.filter((l) => l.endsWith(`,${seenAt(i)}`)).length, seenAt(i)).toBeGreaterThanOrEqual(1);
    const without = renderReport(report, "csv").body;
    expect(without).not.toContain(seenAt(0));
    expect(without.split("\r\n")[0]?.endsWith(",firstSeen")).toBe(true);
  });

  it("sarif: provenance.firstDetectionTimeUtc and properties.firstSeen", () => {
    const log = JSON.parse(renderReport(report, "sarif", { history }).body) as {
      runs: { results: { provenance?: { firstDetectionTimeUtc: string }; properties: { firstSeen?: string } }[] }[];
    };
    const results = log.runs[0]?.results ?? [];
    expect(results).toHaveLength(open.length);
    const times = results.map((r) => r.provenance?.firstDetectionTimeUtc).filter((t) => t !== undefined);
    expect(times.sort()).toEqual(open.slice(0, -1).map((_, i) => seenAt(i)).sort());
    expect(results.map((r) => r.properties.firstSeen).filter(Boolean).sort()).toEqual(times);
  });

  it("md and html: a first-seen line on each finding, saying when the history does not have it", () => {
    const md = renderReport(report, "md", { history }).body;
    const html = renderReport(report, "html", { history }).body;
    for (let i = 0; i < open.length - 1; i++) {
      expect(md).toContain(`- **First seen:** ${seenAt(i)}`);
      expect(html).toContain(`<dt>First seen</dt><dd class="first-seen">${seenAt(i)}</dd>`);
    }
    expect(md.split("- **First seen:** not in the history")).toHaveLength(2);
    expect(html.split(`<dd class="first-seen">not in the history</dd>`)).toHaveLength(2);
    expect(md.split("**First seen:**")).toHaveLength(open.length + 1);
    expect(renderReport(report, "md").body).not.toContain("First seen");
    expect(renderReport(report, "html").body).not.toContain("First seen");
  });
});
