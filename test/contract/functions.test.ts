import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpRequest, InvocationContext, type Timer } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ComplianceReport } from "../../src/lib/compliance/evaluate.js";
import { createRuntime, setRuntime } from "../../src/lib/runtime.js";
import { complianceReportHandler } from "../../src/functions/complianceReport.js";
import { complianceScanHandler } from "../../src/functions/complianceScan.js";
import { CONTENT_SECURITY_POLICY } from "../../src/lib/report/html.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";

/** The function handlers, called as the Functions host calls them, end to end against the emulator. */
describe("compliance functions (drifted estate on the emulator)", () => {
  let t: TestEmulator;
  const logs: unknown[][] = [];
  let stateDir: string;
  const context = () => new InvocationContext({ invocationId: "test", functionName: "complianceReport", logHandler: (level, ...args) => logs.push([level, ...args]) });
  const get = (query: string) => complianceReportHandler(new HttpRequest({ method: "GET", url: `http://localhost:7071/api/compliance/report${query}` }), context());

  beforeAll(async () => {
    t = await startTestEmulator("contoso-drifted");
    stateDir = mkdtempSync(join(tmpdir(), "kw-functions-"));
    setRuntime(createRuntime({ env: t.env({ KEYWARDEN_STATE_DIR: stateDir }) }));
  });
  afterAll(async () => {
    setRuntime(undefined);
    await t.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("serves the JSON report with the planted findings", async () => {
    const res = await get("?format=json");
    expect(res.status).toBe(200);
    expect((res.headers as Record<string, string>)["content-type"]).toMatch(/^application\/json/);
    const report = JSON.parse(String(res.body)) as ComplianceReport;
    expect(report.schemaVersion).toBe(1);
    expect(report.snapshot.sha256).toMatch(/^[0-9a-f]{64}$/);
    const failed = report.controls.flatMap((c) => c.results).filter((r) => r.status === "FAIL");
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.filter((r) => r.evidence.observedAt !== report.snapshot.collectedAt)).toEqual([]);
  });

  it("lists only results at or above minSeverity, and still counts every result", async () => {
    const report = JSON.parse(String((await get("?format=json&minSeverity=critical")).body)) as ComplianceReport;
    const listed = report.controls.flatMap((c) => c.results);
    expect(listed.length).toBeGreaterThan(0);
    expect([...new Set(listed.map((r) => r.severity))]).toEqual(["critical"]);
    expect(report.minSeverity).toBe("critical");
    // The nine planted findings, eight of them below critical, are all in the summary.
    expect(report.summary.results.FAIL).toBe(9);
    expect(report.summary.displayedResults.FAIL).toBe(1);
  });

  it("serves HTML under the page's own content security policy, in the header too", async () => {
    const res = await get("?format=html");
    expect(res.status).toBe(200);
    const body = String(res.body);
    expect(body).toMatch(/^<!DOCTYPE html>/i);
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(body)?.[1];
    const header = (res.headers as Record<string, string>)["content-security-policy"];
    expect(header).toBe(CONTENT_SECURITY_POLICY);
    expect(meta?.replace(/&#39;/g, "'")).toBe(header);
  });

  it.each([
    ["?format=xml", /Invalid format "xml"; valid formats: json, md, html, sarif, csv/],
    ["?minSeverity=urgent", /Invalid minSeverity "urgent"; valid values: critical, high, medium, low, info/],
    ["?format=json&colour=blue", /Unknown query parameter "colour"; valid parameters: format, minSeverity/],
  ])("answers %s with 400 naming what is wrong", async (query, message) => {
    const res = await get(query);
    expect(res.status).toBe(400);
    expect((res.jsonBody as { error: { message: string } }).error.message).toMatch(message);
  });

  it("serves the latest stored scan, a fresh one on refresh=true, and the scan in force at a time", async () => {
    const header = (res: Awaited<ReturnType<typeof get>>, name: string) => (res.headers as Record<string, string>)[name];
    const stored = async (query: string) => {
      const res = await get(query);
      expect(res.status, String(res.body)).toBe(200);
      const body = String(res.body);
      return { id: header(res, "x-keywarden-scan-id"), at: header(res, "x-keywarden-scanned-at"), source: header(res, "x-keywarden-report-source"), report: (query.includes("format=json") ? JSON.parse(body) : undefined) as ComplianceReport };
    };
    // the earlier tests' requests stored the first scan (nothing was stored yet); from then on it is read
    const latest = await stored("?format=json");
    expect(latest.source).toBe("stored");
    expect(latest.id).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{12}$/);
    expect((await stored("?format=json")).id).toBe(latest.id);
    // every open finding says when the history first saw it
    const open = latest.report.controls.flatMap((c) => c.results).filter((r) => r.status !== "PASS") as (ComplianceReport["controls"][number]["results"][number] & { firstSeen?: string })[];
    expect(open.length).toBeGreaterThan(0);
    expect(open.filter((r) => typeof r.firstSeen !== "string" || Date.parse(r.firstSeen) > Date.parse(latest.report.generatedAt))).toEqual([]);
    // the page draws the estate and the history from the stored scan
    const page = await get("?format=html");
    for (const label of ["Key to consumers map", "Findings timeline", "Key versions timeline"]) expect(String(page.body)).toContain(`aria-label="${label}"`);

    const fresh = await stored("?format=json&refresh=true");
    expect(fresh.source).toBe("fresh");
    expect(fresh.id).not.toBe(latest.id);
    expect(Date.parse(fresh.report.generatedAt)).toBeGreaterThan(Date.parse(latest.report.generatedAt));
    expect((await stored("?format=json")).id).toBe(fresh.id);

    // at a time: the scan in force then
    expect((await stored(`?format=json&at=${encodeURIComponent(String(latest.at))}`)).id).toBe(latest.id);
    expect((await stored(`?format=json&at=${encodeURIComponent(new Date(Date.parse(String(fresh.at)) - 1).toISOString())}`)).id).toBe(latest.id);
    expect((await stored("?format=md&at=2999-01-01")).id).toBe(fresh.id);
    const before = await get("?at=2020-01-01T00:00:00Z");
    expect(before.status).toBe(404);
    expect((before.jsonBody as { error: { message: string } }).error.message).toMatch(/^No stored scan was made at or before 2020-01-01T00:00:00\.000Z; the oldest stored scan is from \d{4}-/);
  });

  it.each([
    ["?at=yesterday", /^Invalid at: "yesterday" is not an ISO 8601 date/],
    ["?at=2026-11-30T10:00:00", /not an ISO 8601 date \(2026-11-30\) or date-time with a zone/],
    ["?at=2026-02-30", /"2026-02-30" is not a calendar date/],
    ["?refresh=yes", /^Invalid refresh "yes"; valid values: true, false\.$/],
    ["?refresh=true&at=2026-11-30", /Give "at" or "refresh=true", not both/],
  ])("refuses %s with 400 naming what is wrong", async (query, message) => {
    const res = await get(query);
    expect(res.status).toBe(400);
    expect((res.jsonBody as { error: { message: string } }).error.message).toMatch(message);
  });

  it("timer: stores the scan and alerts once per change: every open finding on the first scan, nothing on an unchanged rescan", async () => {
    // a history of its own: the report requests above stored scans of their own
    const own = mkdtempSync(join(tmpdir(), "kw-functions-timer-"));
    setRuntime(createRuntime({ env: t.env({ KEYWARDEN_STATE_DIR: own }) }));
    const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };
    const run = async () => {
      logs.length = 0;
      await complianceScanHandler(timer, new InvocationContext({ functionName: "complianceScan", logHandler: (level, ...args) => logs.push([level, ...args]) }));
      return logs.filter(([, text]) => String(text).startsWith('{"event":"KeyWarden.Alert"')).map(([, text]) => JSON.parse(String(text)) as { Transition: string; Status: string; Fingerprint: string });
    };
    const first = await run();
    expect(first.length).toBeGreaterThan(0);
    expect(first.filter((a) => a.Transition !== "opened" || (a.Status !== "FAIL" && a.Status !== "UNKNOWN"))).toEqual([]);
    expect(new Set(first.map((a) => a.Fingerprint)).size).toBe(first.length);
    expect(logs.some(([, text]) => /Compliance scan \d{8}T\d{9}Z-[0-9a-f]{12}: \d+ failed.*change\(s\) since no earlier scan; alerts: \d+ new/.test(String(text)))).toBe(true);
    expect(await run()).toEqual([]);
    expect(logs.some(([, text]) => /0 change\(s\) since \d{8}T/.test(String(text)))).toBe(true);
    rmSync(own, { recursive: true, force: true });
  });

});
