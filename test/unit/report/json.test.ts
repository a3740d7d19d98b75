import { describe, expect, it } from "vitest";
import type { ComplianceReport } from "../../../src/lib/compliance/evaluate.js";
import { REPORT_KIND, renderJson } from "../../../src/lib/report/json.js";
import { SCRIPT_PAYLOADS, sampleReport } from "./sampleReport.js";

describe("renderJson", () => {
  const report = sampleReport();
  const body = renderJson(report);

  it("leads with kind and schemaVersion", () => {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    expect(Object.keys(parsed).slice(0, 2)).toEqual(["kind", "schemaVersion"]);
    expect(parsed.kind).toBe(REPORT_KIND);
    expect(parsed.schemaVersion).toBe(1);
  });

  it("round-trips: parsing gives back the report, hostile strings included", () => {
    const { kind, ...parsed } = JSON.parse(body) as ComplianceReport & { kind: string };
    expect(kind).toBe("keywarden.compliance-report");
    expect(parsed).toEqual(report);
    expect(body).toContain(JSON.stringify(SCRIPT_PAYLOADS.scriptTag));
  });

  it("sorts keys below the top level, so insertion order does not change the bytes", () => {
    const reordered = JSON.parse(JSON.stringify(report), (_key, value: unknown) =>
      value !== null && typeof value === "object" && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).reverse()) : value,
    ) as ComplianceReport;
    expect(renderJson(reordered)).toBe(body);
    expect(Object.keys((JSON.parse(body) as { snapshot: object }).snapshot)).toEqual(["cloud", "collectedAt", "schemaVersion", "sha256"]);
  });

  it("is pretty-printed and ends with a newline", () => {
    expect(body.startsWith('{\n  "kind": "keywarden.compliance-report",\n  "schemaVersion": 1,\n')).toBe(true);
    expect(body.endsWith("}\n")).toBe(true);
  });
});
