/**
 * Log Analytics and metrics through the real SDK (LogsQueryClient, MetricsClient, KeyClient with emulatorCredential.ts):
 * AuditEvent rows from what the emulated HSM served (allowed and denied calls, with the caller from the token), only in
 * the workspace its diagnostic setting names and only once ingested; the KQL subset and its 400 for anything else; the
 * audience and reader checks; the metrics batch; faults by host; and the /_emulator control endpoints.
 */
import { KeyClient } from "@azure/keyvault-keys";
import { LogsQueryClient } from "@azure/monitor-query-logs";
import { MetricsClient } from "@azure/monitor-query-metrics";
import type { RestError } from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import { createEmulatorCredential } from "../src/lib/azure/emulatorCredential.js";
import { emulatorPerFile } from "./emulatorPerFile.js";
import { call, KEYWARDEN_OID, SUBSCRIPTION_ID } from "./test-support.js";

const NOW = new Date("2026-03-01T10:00:00Z");
const HSM = "Contoso-PROD-HSM";
const HSM_ID = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-contoso-hsm/providers/Microsoft.KeyVault/managedHSMs/${HSM}`;
const WORKSPACE_ID = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-contoso-monitor/providers/Microsoft.OperationalInsights/workspaces/law-contoso-security`;
/** Holds no role on the HSM and no reader role on the workspace. */
const NOBODY = "c3000000-0000-4000-8000-00000000dead";
const t = emulatorPerFile(() => ({ fixture: "contoso-reference", now: NOW }));

const control = async (method: string, path: string, body?: unknown) => {
  const r = await call(t.emu, method, path, { token: null, body });
  expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
  return r.body as Record<string, unknown>;
};
const advance = (by: string) => control("POST", "/_emulator/clock", { advance: by });

const logs = (oid = KEYWARDEN_OID) =>
  new LogsQueryClient(createEmulatorCredential(oid), { endpoint: `https://api.loganalytics.io:${t.emu.port}/v1`, agent: t.agent, retryOptions: { maxRetries: 0 } });
const metrics = (region = "southindia") => new MetricsClient(`https://${region}.metrics.monitor.azure.com:${t.emu.port}`, createEmulatorCredential(KEYWARDEN_OID), { agent: t.agent, retryOptions: { maxRetries: 0 } });
const keys = (oid: string) => new KeyClient(t.emu.hsmUri(HSM), createEmulatorCredential(oid), { agent: t.agent, retryOptions: { maxRetries: 0 } });

const lastDay = { startTime: new Date(NOW.getTime() - 86_400_000), endTime: new Date(NOW.getTime() + 86_400_000) };
const workspace = WORKSPACE_ID.slice(1);

async function query(kql: string, client = logs()) {
  const result = await client.queryResource(workspace, kql, lastDay);
  if (result.status !== "Success") throw new Error(`query status ${result.status}`);
  const table = result.tables[0]!;
  return table.rows.map((row) => Object.fromEntries(table.columnDescriptors.map((c, i) => [c.name, row[i]])));
}

type QueryError = Omit<RestError, "details"> & { details?: { error?: { code?: string; innererror?: { code?: string } } } };

async function restError(p: Promise<unknown>): Promise<QueryError> {
  try {
    await p;
  } catch (e) {
    return e as QueryError;
  }
  throw new Error("expected the call to fail");
}

describe("AuditEvent rows from the emulated HSM", () => {
  it("records every data-plane call with the caller, operation and status, queryable once ingested", async () => {
    await keys(KEYWARDEN_OID).getKey("Contoso-SQLMI-CMK");
    const byCaller = `AzureDiagnostics | where ResourceId =~ "${HSM_ID}" and Category == "AuditEvent" and TimeGenerated >= ago(10m) | summarize n = count() by identity_claim_oid_g, OperationName, httpStatusCode_d`;
    expect(await query(byCaller)).toEqual([]);
    await advance("PT5M");
    expect(await query(`${byCaller} | top 10 by n desc`)).toEqual(
      expect.arrayContaining([
        // The KeyClient's first request draws the bearer challenge: a 401 with no caller.
        { identity_claim_oid_g: null, OperationName: "KeyGet", httpStatusCode_d: 401, n: 1 },
        { identity_claim_oid_g: KEYWARDEN_OID, OperationName: "KeyGet", httpStatusCode_d: 200, n: 1 },
      ]),
    );
  });

  it("records a denied call (403) with the caller the token names", async () => {
    await expect(keys(NOBODY).getKey("Contoso-SQLMI-CMK")).rejects.toMatchObject({ statusCode: 403 });
    await advance("PT5M");
    const rows = await query(`AzureDiagnostics | where httpStatusCode_d in (401, 403) and identity_claim_oid_g == "${NOBODY}" | project identity_claim_oid_g, OperationName, httpStatusCode_d, ResultSignature, CallerIPAddress`);
    expect(rows).toEqual([{ identity_claim_oid_g: NOBODY, OperationName: "KeyGet", httpStatusCode_d: 403, ResultSignature: "Forbidden", CallerIPAddress: "127.0.0.1" }]);
  });

  it("lands rows only in the workspace the HSM's diagnostic setting sends AuditEvent to", async () => {
    const fixture = (await import("./fixtures/contoso-reference.json", { with: { type: "json" } })).default as unknown as { managedHsms: { diagnosticSettings: { logs: { category: string; enabled: boolean }[] }[] }[] };
    const copy = structuredClone(fixture);
    copy.managedHsms[0]!.diagnosticSettings[0]!.logs = [{ category: "AuditEvent", enabled: false }];
    await control("POST", "/_emulator/fixture", copy);
    try {
      await keys(KEYWARDEN_OID).getKey("Contoso-SQLMI-CMK");
      await advance("PT5M");
      const { workspaces } = (await control("GET", "/_emulator/loganalytics/workspaces")) as { workspaces: { name: string; rows: number }[] };
      expect(workspaces).toEqual([expect.objectContaining({ name: "law-contoso-security", rows: 0 })]);
    } finally {
      // A fixture loads at the clock's time: put it back first, so the later tests see the fixture as loaded at NOW.
      await control("POST", "/_emulator/clock", { set: NOW.toISOString() });
      await control("POST", "/_emulator/fixture", { name: "contoso-reference" });
    }
  });

  it("shows the rows and accepts seeded audit events through the control endpoints", async () => {
    const seeded = await control("POST", "/_emulator/loganalytics/audit", { hsm: HSM, operation: "KeyDelete", status: 403, caller: NOBODY, time: "-PT3H", count: 2 });
    expect(seeded).toEqual({ workspaces: 1, rows: 2 });
    const { rows } = (await control("GET", "/_emulator/loganalytics/workspaces/law-contoso-security/rows")) as { rows: { row: Record<string, unknown>; ingestedAt: string }[] };
    expect(rows.filter((r) => r.row.OperationName === "KeyDelete")).toHaveLength(2);
    expect((await call(t.emu, "POST", "/_emulator/loganalytics/audit", { token: null, body: { hsm: HSM, operation: "KeyGet", caller: "x" } })).body.error.message).toContain("caller: must be a GUID");
  });
});

describe("the KQL subset", () => {
  it("answers count() and max() without by as one row, even over no rows", async () => {
    const [seeded] = await query(`AzureDiagnostics | where ResourceId =~ "${HSM_ID}" and Category == "AuditEvent" | summarize Events = count(), NewestEvent = max(TimeGenerated)`);
    expect(seeded).toEqual({ Events: 7, NewestEvent: new Date(NOW.getTime() - 3_600_000) });
    const [none] = await query(`AzureDiagnostics | where ResourceId =~ "/subscriptions/x" | summarize Events = count(), NewestEvent = max(TimeGenerated)`);
    expect(none).toEqual({ Events: 0, NewestEvent: null });
  });

  it("honours the timespan, or/and, parentheses, take", async () => {
    const rows = await query(`AzureDiagnostics | where (OperationName == "KeyGet" or OperationName == "KeyList") and httpStatusCode_d == 200 | take 2`);
    expect(rows).toHaveLength(2);
    const none = await logs().queryResource(workspace, "AzureDiagnostics | summarize n = count()", { startTime: new Date(NOW.getTime() - 60_000), endTime: NOW });
    expect(none.status === "Success" && none.tables[0]!.rows).toEqual([[0]]);
  });

  it.each([
    ["an operator outside the subset", "AzureDiagnostics | extend x = 1", "SyntaxError"],
    ["a function outside the subset", "AzureDiagnostics | where TimeGenerated > now()", "SyntaxError"],
    ["an unknown table", "AZKVAuditLogs | take 1", "SemanticError"],
    ["an unknown column", 'AzureDiagnostics | where Caller == "x"', "SemanticError"],
  ])("answers 400 BadArgumentError for %s", async (_what, kql, inner) => {
    const e = await restError(logs().queryResource(workspace, kql, lastDay));
    expect(e.statusCode).toBe(400);
    expect(e.code).toBe("BadArgumentError");
    expect(e.details?.error?.innererror?.code).toBe(inner);
  });
});

describe("query authentication and authorisation", () => {
  it("answers 403 to a caller without Log Analytics Reader, 404 for a workspace that does not exist", async () => {
    expect((await restError(query("AzureDiagnostics | take 1", logs(NOBODY)))).statusCode).toBe(403);
    const e = await restError(logs().queryResource(`${workspace}-gone`, "AzureDiagnostics | take 1", lastDay));
    expect([e.statusCode, e.code]).toEqual([404, "ResourceNotFoundError"]);
  });

  it("answers 401 to a token for another audience", async () => {
    const r = await call(t.emu, "POST", `/v1${WORKSPACE_ID}/query`, { host: `api.loganalytics.io:${t.emu.port}`, body: { query: "AzureDiagnostics | take 1" } });
    expect([r.status, r.body.error.code]).toEqual([401, "InvalidTokenError"]);
  });

  it("fails by host with an injected fault", async () => {
    await control("POST", "/_emulator/faults", { host: "loganalytics", status: 503, count: 1 });
    expect((await restError(query("AzureDiagnostics | take 1"))).statusCode).toBe(503);
  });
});

describe("metrics batch", () => {
  const ask = (client = metrics(), names = ["Availability", "ServiceApiLatency"]) =>
    client.queryResources([HSM_ID], names, "Microsoft.KeyVault/managedHSMs", { startTime: new Date(NOW.getTime() - 6 * 3_600_000), endTime: NOW, interval: "PT1H", aggregation: "average,minimum" });

  it("answers the fixture's baseline per hour, and seeded values where seeded", async () => {
    await control("POST", "/_emulator/monitor/metrics", { hsm: HSM, metric: "Availability", value: 97.5, from: "-PT2H", to: "-PT1H" });
    const [result] = await ask();
    const availability = result!.metrics.find((m) => m.id.endsWith("/Availability"))!;
    expect(availability.unit).toBe("Percent");
    expect(availability.timeseries[0]!.data!.map((p) => p.average)).toEqual([100, 100, 100, 100, 97.5, 100]);
    const latency = result!.metrics.find((m) => m.id.endsWith("/ServiceApiLatency"))!;
    expect(latency.timeseries[0]!.data!.map((p) => p.average)).toEqual([20, 20, 20, 20, 20, 20]);
  });

  it("refuses an unknown metric and a resource outside the endpoint's region", async () => {
    const unknown = await restError(ask(metrics(), ["NoSuchMetric"]));
    expect([unknown.statusCode, unknown.code]).toEqual([400, "BadRequest"]);
    const region = await restError(ask(metrics("centralindia")));
    expect(region.message).toContain("is in region 'southindia'");
  });

  it("fails by host with an injected fault", async () => {
    await control("POST", "/_emulator/faults", { host: "metrics", status: 403, code: "AuthorizationFailed", count: 1 });
    expect((await restError(ask())).statusCode).toBe(403);
  });
});
