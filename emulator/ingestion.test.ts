/**
 * Logs Ingestion through the real SDK (LogsIngestionClient with emulatorCredential.ts): uploads to both of KeyWarden's
 * streams, the SDK's own 1 MB split, the errors Azure answers (rule, stream, audience, role, size, body), a fault on the
 * rule, and the /_emulator/monitor/* control endpoints.
 */
import { readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { isAggregateLogsUploadError, LogsIngestionClient } from "@azure/monitor-ingestion";
import { describe, expect, it } from "vitest";
import { createCredential } from "../src/lib/azure/credential.js";
import { createEmulatorCredential, createEmulatorToken } from "../src/lib/azure/emulatorCredential.js";
import { dataPlaneClientOptions } from "../src/lib/azure/pipelineOptions.js";
import { createRequestLayer, requestLayerOptions } from "../src/lib/azure/requests.js";
import { loadConfig } from "../src/lib/config/load.js";
import { keywardenEnv } from "./keywardenEnv.js";
import { emulatorPerFile } from "./emulatorPerFile.js";
import { FixtureError, parseFixture } from "./fixture.js";
import { call, KEYWARDEN_OID } from "./test-support.js";

const RULE = "dcr-keywarden";
const FINDINGS = "Custom-KeyWardenFindings_CL";
const ROTATIONS = "Custom-KeyWardenRotations_CL";
const NOBODY = "c3000000-0000-4000-8000-00000000dead";
const NOW = new Date("2026-03-01T10:00:00Z");
const t = emulatorPerFile(() => ({ fixture: "contoso-reference", now: NOW }));

interface RuleView {
  name: string;
  immutableId: string;
  endpoint: string;
  streams: string[];
}
interface StoredRow {
  seq: number;
  receivedAt: string;
  row: Record<string, unknown>;
  droppedColumns?: string[];
  invalidValues?: { column: string; type: string; value: unknown }[];
}

const control = async (method: string, path: string, body?: unknown) => {
  const r = await call(t.emu, method, path, { token: null, body });
  expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
  return r.body as Record<string, unknown>;
};
const rule = async (): Promise<RuleView> => {
  const rules = (await control("GET", "/_emulator/monitor/rules")).rules as RuleView[];
  const found = rules.find((r) => r.name === RULE);
  if (!found) throw new Error(`no rule ${RULE}`);
  return found;
};
const rows = async (stream: string, since?: number): Promise<StoredRow[]> =>
  (await control("GET", `/_emulator/monitor/rules/${RULE}/streams/${stream}/rows${since === undefined ? "" : `?since=${since}`}`)).rows as StoredRow[];

const client = (oid = KEYWARDEN_OID, credential = createEmulatorCredential(oid)) =>
  new LogsIngestionClient(t.emu.ingestionEndpoint(RULE), credential, { agent: t.agent, retryOptions: { maxRetries: 0 } });

/** The upload's failure: the SDK collects every chunk's error into an AggregateLogsUploadError. */
async function uploadFailure(p: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message: string }[]> {
  try {
    await p;
  } catch (e) {
    if (!isAggregateLogsUploadError(e)) throw e;
    return e.errors.map((x) => x.cause as { statusCode?: number; code?: string; message: string });
  }
  throw new Error("the upload succeeded");
}

const finding = (fingerprint: string, extra: Record<string, unknown> = {}) => ({
  TimeGenerated: "2026-03-01T09:59:00.000Z",
  Fingerprint: fingerprint,
  Transition: "opened",
  ControlId: "KW-HSM-001",
  Severity: "high",
  Status: "open",
  ResourceId: "/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/contoso-prod-hsm",
  ResourceName: "contoso-prod-hsm",
  Message: "Purge protection is off",
  Evidence: { enablePurgeProtection: false },
  FirstSeen: "2026-02-01T00:00:00Z",
  ScanId: "scan-1",
  ...extra,
});

/** A raw upload (what the SDK would not send) to the rule's endpoint. */
async function rawUpload(body: Buffer | string, opts: { ruleId?: string; stream?: string; encoding?: string | null; token?: string | null; apiVersion?: string } = {}) {
  const r = await rule();
  const url = new URL(r.endpoint);
  const token = opts.token === undefined ? createEmulatorToken(KEYWARDEN_OID, undefined, "https://monitor.azure.com") : opts.token;
  const encoding = opts.encoding === undefined ? "gzip" : opts.encoding;
  const raw = typeof body === "string" ? Buffer.from(body) : body;
  return call(t.emu, "POST", `/dataCollectionRules/${opts.ruleId ?? r.immutableId}/streams/${opts.stream ?? FINDINGS}?api-version=${opts.apiVersion ?? "2023-01-01"}`, {
    host: url.host,
    token,
    rawBody: raw,
    headers: { "content-type": "application/json", ...(encoding === null ? {} : { "content-encoding": encoding }) },
  });
}

describe("Logs Ingestion: uploading through LogsIngestionClient", () => {
  it("lists the fixture's rule with its immutable id, data collection endpoint and streams", async () => {
    const r = await rule();
    expect(r.immutableId).toMatch(/^dcr-[0-9a-f]{32}$/);
    expect(r.endpoint).toBe(`https://dcr-keywarden-dce.southindia-1.ingest.monitor.azure.com:${t.emu.port}`);
    expect(t.emu.ingestionEndpoint("DCR-KeyWarden")).toBe(r.endpoint);
    expect(r.streams).toEqual([FINDINGS, ROTATIONS]);
    expect(() => t.emu.ingestionEndpoint("dcr-nope")).toThrow(/no data collection rule 'dcr-nope'.*dcr-keywarden/);
  });

  it("uploads rows to both streams (gzip, 204) and reads them back in order with the emulator time", async () => {
    const { immutableId } = await rule();
    await client().upload(immutableId, FINDINGS, [finding("fp-1"), finding("fp-2")]);
    await control("POST", "/_emulator/clock", { advance: "PT5M" });
    const rotation = { TimeGenerated: "2026-03-01T10:04:00Z", Fingerprint: "rot-1", Transition: "rotated", KeyId: "https://contoso-prod-hsm.managedhsm.azure.net/keys/cmk/abc", KeyName: "cmk", Version: "abc", RunId: "run-1", Message: "rotated", Details: { steps: 3 } };
    await client().upload(immutableId, ROTATIONS, [rotation]);

    const found = await rows(FINDINGS);
    expect(found.map((r) => [r.seq, r.row.Fingerprint, r.receivedAt])).toEqual([
      [1, "fp-1", "2026-03-01T10:00:00.000Z"],
      [2, "fp-2", "2026-03-01T10:00:00.000Z"],
    ]);
    expect(found[0]!.row).toEqual(finding("fp-1"));
    expect(found[0]!.droppedColumns).toBeUndefined();
    const rotated = await rows(ROTATIONS);
    expect(rotated).toEqual([{ seq: 1, receivedAt: "2026-03-01T10:05:00.000Z", row: rotation }]);
    expect((await rows(FINDINGS, 1)).map((r) => r.seq)).toEqual([2]);
  });

  it("KeyWarden's own client options reach the endpoint: its emulator agent resolves *.ingest.monitor.azure.com", async () => {
    const config = await loadConfig({ env: keywardenEnv(t.emu, { KEYWARDEN_MAX_RETRIES: "0" }), readFile: (p) => readFile(p, "utf8") });
    const options = dataPlaneClientOptions(config.settings, createRequestLayer(requestLayerOptions(config.settings)));
    const { immutableId } = await rule();
    await new LogsIngestionClient(t.emu.ingestionEndpoint(RULE), createCredential(config.settings), options).upload(immutableId, FINDINGS, [finding("via-keywarden")]);
    expect((await rows(FINDINGS)).map((r) => r.row.Fingerprint)).toEqual(["via-keywarden"]);
  });

  it("a batch over 1 MB is split by the SDK into requests under the limit, and every row arrives", async () => {
    const { immutableId } = await rule();
    const padding = "x".repeat(2_000);
    const logs = Array.from({ length: 1_200 }, (_, i) => finding(`fp-${i}`, { Message: `${i} ${padding}` }));
    expect(Buffer.byteLength(JSON.stringify(logs))).toBeGreaterThan(2 * 1_048_576);
    const before = ((await control("GET", "/_emulator/requests")).counts as Record<string, number>).Upload ?? 0;
    await client().upload(immutableId, FINDINGS, logs, { maxConcurrency: 2 });
    const after = ((await control("GET", "/_emulator/requests")).counts as Record<string, number>).Upload ?? 0;
    expect(after - before).toBeGreaterThanOrEqual(3);
    const stored = await rows(FINDINGS);
    expect(stored).toHaveLength(logs.length);
    expect(new Set(stored.map((r) => r.row.Fingerprint)).size).toBe(logs.length);
  });

  it("a ruleId that is not a rule's immutable id on this endpoint: 404 NotFound, Azure's message", async () => {
    const errors = await uploadFailure(client().upload("dcr-00000000000000000000000000000000", FINDINGS, [finding("fp-1")]));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ statusCode: 404, code: "NotFound", message: "Data collection rule with immutable Id 'dcr-00000000000000000000000000000000' not found." });
    expect(await rows(FINDINGS)).toEqual([]);
  });

  it("a stream the rule does not declare: 400 InvalidStream naming the declared streams", async () => {
    const { immutableId } = await rule();
    const errors = await uploadFailure(client().upload(immutableId, "Custom-Nope_CL", [finding("fp-1")]));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ statusCode: 400, code: "InvalidStream" });
    expect(errors[0]!.message).toContain(FINDINGS);
  });

  it("a token for another audience: 401 InvalidAudience; a principal without the publisher role: 403 OperationFailed", async () => {
    const { immutableId } = await rule();
    const wrongAudience = { getToken: async () => ({ token: createEmulatorToken(KEYWARDEN_OID, undefined, "https://management.azure.com"), expiresOnTimestamp: Date.now() + 3_600_000 }) };
    const unauthenticated = await uploadFailure(client(KEYWARDEN_OID, wrongAudience).upload(immutableId, FINDINGS, [finding("fp-1")]));
    expect(unauthenticated).toHaveLength(1);
    expect(unauthenticated[0]).toMatchObject({ statusCode: 401, code: "InvalidAudience" });
    expect(unauthenticated[0]!.message).toContain("https://monitor.azure.com");

    const forbidden = await uploadFailure(client(NOBODY).upload(immutableId, FINDINGS, [finding("fp-1")]));
    expect(forbidden).toHaveLength(1);
    expect(forbidden[0]).toMatchObject({ statusCode: 403, code: "OperationFailed" });
    expect(forbidden[0]!.message).toContain(`does not have access to ingest data for the data collection rule with immutable Id '${immutableId}'`);
    expect(await rows(FINDINGS)).toEqual([]);
  });

  it("a 503 fault on the rule: the SDK's AggregateLogsUploadError carries the failed chunk's logs", async () => {
    const { immutableId } = await rule();
    await control("POST", "/_emulator/faults", { host: RULE, operationId: "Upload", status: 503, count: 1 });
    try {
      await client().upload(immutableId, FINDINGS, [finding("fp-1")]);
      throw new Error("the upload succeeded");
    } catch (e) {
      expect(isAggregateLogsUploadError(e)).toBe(true);
      if (!isAggregateLogsUploadError(e)) return;
      expect(e.errors).toHaveLength(1);
      expect(e.errors[0]!.cause).toMatchObject({ statusCode: 503 });
      expect(e.errors[0]!.failedLogs).toEqual([finding("fp-1")]);
    }
    // Spent: the next upload goes through; a fault on the "monitor" plane applies too.
    await client().upload(immutableId, FINDINGS, [finding("fp-2")]);
    expect((await rows(FINDINGS)).map((r) => r.row.Fingerprint)).toEqual(["fp-2"]);
    await control("POST", "/_emulator/faults", { host: "monitor", status: 500, count: 1 });
    expect((await uploadFailure(client().upload(immutableId, FINDINGS, [finding("fp-3")])))[0]).toMatchObject({ statusCode: 500 });
  });
});

describe("Logs Ingestion: the request checks Azure applies", () => {
  it("identity encoding is accepted as well as gzip", async () => {
    const r = await rawUpload(JSON.stringify([finding("plain")]), { encoding: null });
    expect(r.status, JSON.stringify(r.body)).toBe(204);
    expect(r.body).toBeUndefined();
    expect((await rows(FINDINGS)).map((x) => x.row.Fingerprint)).toEqual(["plain"]);
  });

  it("over 1 MB compressed or once inflated: 413 RequestEntityTooLarge", async () => {
    const big = JSON.stringify([finding("big", { Message: "y".repeat(1_100_000) })]);
    const inflated = await rawUpload(gzipSync(big));
    expect(inflated.status).toBe(413);
    expect(inflated.body.error.code).toBe("RequestEntityTooLarge");
    const plain = await rawUpload(big, { encoding: null });
    expect(plain.status).toBe(413);
    expect(await rows(FINDINGS)).toEqual([]);
  });

  it("a body that is not a JSON array of objects, or not gzip as declared: 400", async () => {
    const object = await rawUpload(gzipSync(JSON.stringify(finding("one"))));
    expect([object.status, object.body.error.code]).toEqual([400, "InvalidRequestBody"]);
    const notJson = await rawUpload(gzipSync("[{"));
    expect([notJson.status, notJson.body.error.code]).toEqual([400, "InvalidRequestBody"]);
    const item = await rawUpload(gzipSync(JSON.stringify([finding("ok"), 42])));
    expect([item.status, item.body.error.code]).toEqual([400, "InvalidRequestBody"]);
    expect(item.body.error.message).toContain("Item 1");
    const notGzip = await rawUpload(JSON.stringify([finding("x")]));
    expect([notGzip.status, notGzip.body.error.code]).toEqual([400, "InvalidContentEncoding"]);
    expect(await rows(FINDINGS)).toEqual([]);
  });

  it("undeclared properties are dropped and misfit values ingested as null (204, as Azure accepts them), and the rows say so", async () => {
    const r = await rawUpload(gzipSync(JSON.stringify([finding("shaped", { Extra: "no column", FirstSeen: "yesterday", Severity: 3 })])));
    expect(r.status, JSON.stringify(r.body)).toBe(204);
    const [stored] = await rows(FINDINGS);
    expect(stored!.row.Extra).toBeUndefined();
    expect(stored!.row.FirstSeen).toBeNull();
    expect(stored!.row.Severity).toBe("3");
    expect(stored!.droppedColumns).toEqual(["Extra"]);
    expect(stored!.invalidValues).toEqual([{ column: "FirstSeen", type: "datetime", value: "yesterday" }]);
  });

  it("no token or an unknown endpoint host: 401 / 404 before anything else; api-version is required", async () => {
    const noToken = await rawUpload(gzipSync("[]"), { token: null });
    expect([noToken.status, noToken.body.error.code]).toEqual([401, "InvalidAuthenticationToken"]);
    expect(noToken.headers["www-authenticate"]).toContain("https://monitor.azure.com");
    const unknownHost = await call(t.emu, "POST", `/dataCollectionRules/dcr-x/streams/${FINDINGS}?api-version=2023-01-01`, { host: `nope-dce.southindia-1.ingest.monitor.azure.com:${t.emu.port}`, rawBody: "[]" });
    expect(unknownHost.status).toBe(404);
    const badVersion = await rawUpload(gzipSync("[]"), { apiVersion: "2020-01-01" });
    expect([badVersion.status, badVersion.body.error.code]).toEqual([400, "UnsupportedApiVersion"]);
    const empty = await rawUpload(gzipSync("[]"));
    expect(empty.status).toBe(204);
  });
});

describe("Logs Ingestion: control endpoints and fixtures", () => {
  it("DELETE clears a stream's rows and keeps the numbering; reset clears everything; unknown names answer 404", async () => {
    const { immutableId } = await rule();
    await client().upload(immutableId, FINDINGS, [finding("a"), finding("b")]);
    expect(await control("DELETE", `/_emulator/monitor/rules/${RULE}/streams/${FINDINGS}/rows`)).toEqual({ deleted: 2 });
    await client().upload(immutableId, FINDINGS, [finding("c")]);
    expect((await rows(FINDINGS)).map((r) => r.seq)).toEqual([3]);
    await control("POST", "/_emulator/reset");
    expect(await rows(FINDINGS)).toEqual([]);
    const noRule = await call(t.emu, "GET", `/_emulator/monitor/rules/nope/streams/${FINDINGS}/rows`, { token: null });
    expect([noRule.status, noRule.body.error.code]).toEqual([404, "RuleNotFound"]);
    const noStream = await call(t.emu, "GET", `/_emulator/monitor/rules/${RULE}/streams/Custom-Nope_CL/rows`, { token: null });
    expect([noStream.status, noStream.body.error.code]).toEqual([404, "StreamNotFound"]);
    const badSince = await call(t.emu, "GET", `/_emulator/monitor/rules/${RULE}/streams/${FINDINGS}/rows?since=-1`, { token: null });
    expect(badSince.status).toBe(400);
  });

  it("fixture rules: default immutable id is stable, names and streams are checked", async () => {
    const base = { name: "t", tenantId: "8f3d2c1b-6a5e-4d7c-9b8a-1e2f3a4b5c6d", subscriptionId: "5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10" };
    const stream = { name: "Custom-A_CL", columns: [{ name: "TimeGenerated", type: "datetime" }] };
    expect(() => parseFixture({ ...base, dataCollectionRules: [{ name: "r", resourceGroup: "rg", location: "brazilsouth", streams: [stream] }] })).toThrow(FixtureError);
    expect(() => parseFixture({ ...base, dataCollectionRules: [{ name: "r", resourceGroup: "rg", location: "eastus", streams: [{ name: "A_CL", columns: stream.columns }] }] })).toThrow(/streams\.0\.name: must be Custom-/);
    expect(() => parseFixture({ ...base, dataCollectionRules: [{ name: "r", resourceGroup: "rg", location: "eastus", streams: [stream, stream] }] })).toThrow(/'Custom-A_CL' is declared twice/);
    expect(() =>
      parseFixture({ ...base, dataCollectionRules: [{ name: "r1", resourceGroup: "rg", location: "eastus", endpointName: "shared", streams: [stream] }, { name: "r2", resourceGroup: "rg", location: "westeurope", endpointName: "shared", streams: [stream] }] }),
    ).toThrow(/endpoint 'shared' of dataCollectionRules\.0 is in 'eastus'/);
    await control("POST", "/_emulator/fixture", {
      ...base,
      principals: [{ id: KEYWARDEN_OID, displayName: "KeyWarden" }],
      dataCollectionRules: [
        { name: "r1", resourceGroup: "rg", location: "eastus", endpointName: "shared", streams: [stream] },
        { name: "r2", resourceGroup: "rg", location: "eastus", endpointName: "shared", immutableId: "dcr-0123456789abcdef0123456789abcdef", streams: [stream], ingestors: [NOBODY] },
      ],
    });
    try {
      const rules = (await control("GET", "/_emulator/monitor/rules")).rules as RuleView[];
      expect(rules.map((r) => [r.name, r.endpoint])).toEqual([
        ["r1", `https://shared.eastus-1.ingest.monitor.azure.com:${t.emu.port}`],
        ["r2", `https://shared.eastus-1.ingest.monitor.azure.com:${t.emu.port}`],
      ]);
      const [r1, r2] = rules;
      const shared = new LogsIngestionClient(r1!.endpoint, createEmulatorCredential(KEYWARDEN_OID), { agent: t.agent, retryOptions: { maxRetries: 0 } });
      await shared.upload(r1!.immutableId, "Custom-A_CL", [{ TimeGenerated: "2026-03-01T00:00:00Z" }]);
      // r2 lists only NOBODY as ingestor.
      expect((await uploadFailure(shared.upload(r2!.immutableId, "Custom-A_CL", [{ TimeGenerated: "2026-03-01T00:00:00Z" }])))[0]).toMatchObject({ statusCode: 403 });
      const again = (await control("GET", "/_emulator/monitor/rules")).rules as RuleView[];
      expect(again[0]!.immutableId).toBe(r1!.immutableId);
    } finally {
      await control("POST", "/_emulator/fixture", { name: "contoso-reference" });
    }
  });
});
