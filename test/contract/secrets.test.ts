import { spawnSync } from "node:child_process";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AzureLogger, setLogLevel } from "@azure/logger";
import { HttpRequest, InvocationContext, type HttpResponseInit, type Timer } from "@azure/functions";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { runCli, type CliIo } from "../../src/cli/runCli.js";
import { collectFromAzure, rotationServices } from "../../src/cli/wiring.js";
import { complianceReportHandler } from "../../src/functions/complianceReport.js";
import { complianceScanHandler } from "../../src/functions/complianceScan.js";
import { keyEventsHandler } from "../../src/functions/keyEvents.js";
import { keyEventsWebhookHandler } from "../../src/functions/keyEventsWebhook.js";
import { keyRotationHandler } from "../../src/functions/keyRotation.js";
import { createEmulatorToken } from "../../src/lib/azure/emulatorCredential.js";
import { KEY_VAULT_EVENT_TYPES, keyVaultEvents } from "../../src/lib/events/keyVaultEvents.js";
import { collectEstate } from "../../src/lib/inventory/collect.js";
import { createRuntime, setRuntime } from "../../src/lib/runtime.js";
import { REPORT_FORMATS } from "../../src/lib/report/formats.js";
import { KEYWARDEN_PRINCIPAL_ID, startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { CONTOSO_TOPIC } from "../support/eventTopic.js";

/**
 * No secret anywhere: the demo, every CLI command and every function run with the Azure SDKs logging at verbose,
 * and every line they print or log, every file and blob they write and every HTTP response they give is scanned
 * for the credentials in play — the bearer tokens KeyWarden sent, the Event Grid topic keys, Azurite's account key
 * and connection string, KeyWarden's secret settings — in each form they could take (as is, base64, base64url,
 * URL- or JSON-escaped, a JWT's payload and signature), and for anything shaped like one (a JWT, a private key,
 * an account key in a connection string).
 */

const ROOT = join(import.meta.dirname, "..", "..");
const RULE = "dcr-keywarden";
/** Shorter strings would match by chance (a GUID's segment, a word); no credential here is that short. */
const MIN_SECRET_LENGTH = 12;

interface Secret {
  /** What it is, for the failure message: the scan never prints a secret itself. */
  label: string;
  value: string;
}

/** A secret and every form it could be written in. */
function secretForms(label: string, value: string): Secret[] {
  const forms: Secret[] = [{ label, value }];
  const add = (form: string, v: string) => {
    if (v.length >= MIN_SECRET_LENGTH && !forms.some((f) => f.value === v)) forms.push({ label: `${label} (${form})`, value: v });
  };
  add("base64", Buffer.from(value, "utf8").toString("base64"));
  add("base64url", Buffer.from(value, "utf8").toString("base64url"));
  add("URL-encoded", encodeURIComponent(value));
  add("JSON-escaped", JSON.stringify(value).slice(1, -1));
  const jwt = value.split(".");
  if (jwt.length === 3) {
    add("JWT payload", jwt[1] ?? "");
    add("JWT signature", jwt[2] ?? "");
    add("JWT payload, decoded", Buffer.from(jwt[1] ?? "", "base64url").toString("utf8"));
  }
  // A base64 key's bytes, as hex (what a debugging print of a Buffer shows).
  if (/^[A-Za-z0-9+/]{16,}={0,2}$/.test(value)) add("key bytes, hex", Buffer.from(value, "base64").toString("hex"));
  return forms.filter((f) => f.value.length >= MIN_SECRET_LENGTH);
}

/** Anything shaped like a credential, whatever its value. */
const SHAPES: { label: string; pattern: RegExp }[] = [
  { label: "a JWT", pattern: /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\./ },
  { label: "a private key", pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  { label: "an account key in a connection string", pattern: /AccountKey=[A-Za-z0-9+/]{8,}/ },
  { label: "a bearer token", pattern: /Bearer\s+[A-Za-z0-9_-]{8,}\./ },
];

/** Where each secret (and credential shape) occurs: "<where>: <what>", never the secret. */
function findSecrets(outputs: { where: string; text: string }[], secrets: Secret[]): string[] {
  const hits: string[] = [];
  for (const { where, text } of outputs) {
    for (const s of secrets) if (text.includes(s.value)) hits.push(`${where}: ${s.label}`);
    for (const s of SHAPES) if (s.pattern.test(text)) hits.push(`${where}: ${s.label}`);
  }
  return hits;
}

async function filesUnder(dir: string): Promise<{ where: string; text: string }[]> {
  const out: { where: string; text: string }[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push({ where: `file ${path.slice(dir.length + 1)}`, text: await readFile(path, "utf8") });
  }
  return out;
}

const responseText = (r: HttpResponseInit) =>
  [String(r.status), JSON.stringify(r.headers ?? {}), typeof r.body === "string" ? r.body : JSON.stringify(r.body ?? ""), JSON.stringify(r.jsonBody ?? "")].join("\n");

describe("no secret in any output, log, file or response", () => {
  let t: TestEmulator;
  let work: string;
  const outputs: { where: string; text: string }[] = [];
  /** Authorization (and aeg-sas-key) header values KeyWarden sent, as Node's HTTP client saw them. */
  const sentCredentials = new Map<string, string>();
  const sdkLog: string[] = [];
  const onRequest = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    for (const name of ["authorization", "aeg-sas-key", "aeg-sas-token"]) {
      const value = request.getHeader(name);
      if (typeof value !== "string") continue;
      // "Bearer <jwt>", "SharedKey <account>:<signature>": the credential is what follows the scheme (and account).
      const credential = value.replace(/^(Bearer|SharedKey)\s+/i, "").replace(/^[a-z0-9]+:/, "");
      sentCredentials.set(credential, `${name} header sent to ${request.host}`);
    }
  };
  const previousLog = AzureLogger.log;
  /** What anything in this process printed to the console (the Functions library's warnings, a stray debug print). */
  const consoleLines: string[] = [];
  let topicKeys: string[] = [];
  let monitor: Record<string, string> = {};
  const azurite = () => inject("azuriteConnectionString");

  beforeAll(async () => {
    subscribe("http.client.request.start", onRequest);
    setLogLevel("verbose");
    AzureLogger.log = (...args: unknown[]) => void sdkLog.push(args.map(String).join(" "));
    for (const level of ["log", "info", "warn", "error", "debug", "trace"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void consoleLines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ")));
    }
    t = await startTestEmulator("contoso-drifted");
    work = await mkdtemp(join(tmpdir(), "kw-secrets-"));
    const topics = (await t.control("GET", "/_emulator/eventgrid/topics")) as { topics: { name: string; key1: string; key2: string }[] };
    topicKeys = topics.topics.flatMap((x) => [x.key1, x.key2]);
    const rules = (await t.control("GET", "/_emulator/monitor/rules")) as { rules: { name: string; immutableId: string }[] };
    const rule = rules.rules.find((r) => r.name === RULE);
    if (!rule) throw new Error(`the emulator has no data collection rule ${RULE}`);
    monitor = { KEYWARDEN_MONITOR_INGESTION_ENDPOINT: t.emulator.ingestionEndpoint(RULE), KEYWARDEN_MONITOR_DCR_ID: rule.immutableId };
    await t.control("POST", "/_emulator/config", { lroRetryAfterSeconds: 0 });
  });
  afterAll(async () => {
    unsubscribe("http.client.request.start", onRequest);
    AzureLogger.log = previousLog;
    vi.restoreAllMocks();
    setLogLevel();
    setRuntime(undefined);
    await t?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const eventsEnv = () => ({ KEYWARDEN_EVENTS_TOPIC_ENDPOINT: t.emulator.topicEndpoint(CONTOSO_TOPIC), KEYWARDEN_EVENTS_TOPIC_KEY: topicKeys[0] ?? "" });

  /** Every secret in play, in every form. */
  function secrets(): Secret[] {
    const raw: Secret[] = [
      ...topicKeys.map((value, i) => ({ label: `Event Grid topic key ${i + 1}`, value })),
      { label: "Azurite's connection string", value: azurite() },
      { label: "Azurite's account key", value: /AccountKey=([^;]+)/.exec(azurite())?.[1] ?? "" },
      // The tokens KeyWarden's emulator credential makes, for every audience it asks for (and none).
      ...["https://management.azure.com", "https://managedhsm.azure.net", "https://eventgrid.azure.net", "https://monitor.azure.com", "https://api.loganalytics.io", undefined].map((aud) => ({
        label: `emulator token${aud ? ` for ${aud}` : ""}`,
        value: createEmulatorToken(KEYWARDEN_PRINCIPAL_ID, undefined, aud),
      })),
      ...[...sentCredentials].map(([value, label]) => ({ label, value })),
    ];
    return raw.flatMap((s) => secretForms(s.label, s.value));
  }

  it("the scanner finds a planted secret in each of its forms, and a credential by its shape", () => {
    const planted = secretForms("planted key", "RajFOaQ3aW07uTIUSW9AfoanNbS7OnzHD1p10e54lTo=");
    expect(planted.length).toBeGreaterThanOrEqual(5);
    for (const form of planted) expect(findSecrets([{ where: "line", text: `x ${form.value} y` }], planted), form.label).toContain(`line: ${form.label}`);
    const jwt = createEmulatorToken("a1000000-0000-4000-8000-000000000003", undefined, "https://eventgrid.azure.net");
    expect(findSecrets([{ where: "log", text: `{"authorization":"Bearer ${jwt}"}` }], [])).toEqual(["log: a JWT", "log: a bearer token"]);
    expect(findSecrets([{ where: "log", text: "AccountKey=Eby8vdM02xNOcqFl;" }], [])).toEqual(["log: an account key in a connection string"]);
    expect(findSecrets([{ where: "log", text: "authorization: REDACTED; AccountKey=[secret]" }], planted)).toEqual([]);
  });

  it("the CLI: every command, with the SDKs logging at verbose", async () => {
    const stateDir = join(work, "cli-state");
    const outDir = join(work, "cli-out");
    const env = t.env({ KEYWARDEN_STATE_DIR: stateDir, ...eventsEnv(), ...monitor, AZURE_LOG_LEVEL: "verbose" });
    const run = async (argv: string[], runEnv = env) => {
      const out: string[] = [];
      const err: string[] = [];
      const io: CliIo = {
        stdout: (text) => void out.push(text),
        stderr: (text) => void err.push(text),
        env: runEnv,
        readFile: (path) => readFile(path, "utf8"),
        writeFile: (path, contents) => writeFile(path, contents, "utf8"),
      };
      const code = await runCli(argv, io, { collect: collectFromAzure, services: rotationServices });
      outputs.push({ where: `keywarden ${argv.join(" ")} (stdout)`, text: out.join("") }, { where: `keywarden ${argv.join(" ")} (stderr)`, text: err.join("") });
      return { code, out: out.join(""), err: err.join("") };
    };
    await mkdir(outDir, { recursive: true });

    const codes: Record<string, number> = {};
    const commands: string[][] = [
      ["help"],
      ["validate"],
      ["inventory"],
      ["inventory", "--json", "--out", join(outDir, "estate.json")],
      ...REPORT_FORMATS.map((format) => ["scan", "--format", format]),
      ...REPORT_FORMATS.map((format) => ["scan", "--format", format, "--out", join(outDir, `report.${format}`)]),
      ["scan", "--snapshot", join(outDir, "estate.json"), "--format", "json"],
      ["scan", "--emit", "--out", join(outDir, "emitted.md")],
      ["plan"],
      ["plan", "--json"],
      ["rotate", "--dry-run"],
      ["rotate", "--yes"],
      ["verify"],
      ["verify", "--json"],
      ["runs"],
      ["runs", "--json"],
      ["scan", "--emit", "--format", "json", "--out", join(outDir, "emitted.json")],
      ["history"],
      ["history", "--json"],
    ];
    for (const argv of commands) codes[argv.join(" ")] = (await run(argv)).code;
    const runIds = JSON.parse((await run(["runs", "--json"])).out) as string[];
    expect(runIds.length).toBeGreaterThan(0);
    for (const id of runIds) codes[`runs --id ${id}`] = (await run(["runs", "--id", id])).code;
    const scans = JSON.parse((await run(["history", "--json"])).out) as { scannedAt: string }[];
    expect(scans.length).toBe(2);
    for (const scan of scans) codes[`history --at ${scan.scannedAt}`] = (await run(["history", "--at", scan.scannedAt])).code;
    // A secret setting that does not parse: the message names the setting, never its value.
    const badConnection = `DefaultEndpointsProtocol=http;AccountKey=${/AccountKey=([^;]+)/.exec(azurite())?.[1] ?? ""};NoSuchPart`;
    const bad = await run(["validate"], { ...env, KEYWARDEN_STATE_DIR: "", KEYWARDEN_STATE_BLOB_CONNECTION_STRING: badConnection });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("KEYWARDEN_STATE_BLOB_CONNECTION_STRING");

    // Every command ran to an answer (4 = a consumer blocked or pending, which the drifted estate has); none failed.
    expect(Object.entries(codes).filter(([, code]) => code !== 0 && code !== 4)).toEqual([]);
    outputs.push(...(await filesUnder(stateDir)), ...(await filesUnder(outDir)));
    expect(outputs.filter((o) => o.where.startsWith("file ")).some((o) => o.where.includes("scans/"))).toBe(true);
  });

  it("the functions: every HTTP format and error, both timers, the Event Grid trigger and the webhook", async () => {
    await t.control("POST", "/_emulator/reset");
    await t.control("POST", "/_emulator/config", { lroRetryAfterSeconds: 0 });
    const container = `kw-secrets-${Date.now().toString(36)}`;
    const policyJson = await readFile(join(ROOT, "examples", "contoso.policy.json"), "utf8");
    const env = t.env({
      KEYWARDEN_POLICY_FILE: "",
      KEYWARDEN_POLICY_JSON: policyJson,
      KEYWARDEN_STATE_BLOB_CONNECTION_STRING: azurite(),
      KEYWARDEN_STATE_CONTAINER: container,
      KEYWARDEN_ROTATION_MODE: "execute",
      ...eventsEnv(),
      ...monitor,
    });
    delete env.KEYWARDEN_POLICY_FILE;
    const runtime = await createRuntime({ env });
    setRuntime(runtime);
    const log: string[] = [];
    const context = (name: string) => new InvocationContext({ invocationId: `inv-${name}`, functionName: name, logHandler: (level, ...args) => void log.push(`${level} ${args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ")}`) });
    const timer: Timer = { isPastDue: true, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };
    const responses: { where: string; response: HttpResponseInit }[] = [];
    const report = async (query: string) => {
      const response = await complianceReportHandler(new HttpRequest({ method: "GET", url: `http://localhost:7071/api/compliance/report${query}&code=function-key` }), context("complianceReport"));
      responses.push({ where: `GET /api/compliance/report${query}`, response });
      return response;
    };
    const webhook = async (method: string, headers: Record<string, string>, body?: string) => {
      const response = await keyEventsWebhookHandler(new HttpRequest({ method, url: "http://localhost:7071/api/events", headers, ...(body ? { body: { string: body } } : {}) }), context("keyEventsWebhook"));
      responses.push({ where: `${method} /api/events`, response });
      return response;
    };

    await complianceScanHandler(timer, context("complianceScan"));
    for (const format of REPORT_FORMATS) expect((await report(`?format=${format}`)).status).toBe(200);
    expect((await report("?format=json&minSeverity=high&refresh=true")).status).toBe(200);
    expect((await report(`?format=md&at=${encodeURIComponent(new Date(runtime.clock.now().getTime() + 60_000).toISOString())}`)).status).toBe(200);
    expect((await report("?format=xml")).status).toBe(400);

    const published = keyVaultEvents(await collectEstate(runtime.config, runtime.clients, runtime.clock), runtime.config.policy, runtime.clock.now());
    const nearExpiry = (key: string, id: string) => {
      const created = published.find((e) => e.event.type === KEY_VAULT_EVENT_TYPES.newVersion && e.event.subject === key)?.event;
      if (!created) throw new Error(`no ${KEY_VAULT_EVENT_TYPES.newVersion} event for ${key}`);
      return { id, topic: "/t", subject: created.subject, eventType: KEY_VAULT_EVENT_TYPES.nearExpiry, eventTime: created.time, data: created.data, dataVersion: "1", metadataVersion: "1" };
    };
    await keyEventsHandler(nearExpiry("Contoso-STORAGE-CMK", "44444444-4444-4444-8444-444444444444"), context("keyEvents"));
    const validation = await webhook("POST", { "aeg-event-type": "SubscriptionValidation" }, JSON.stringify([{ id: "v1", topic: "/t", subject: "", eventType: "Microsoft.EventGrid.SubscriptionValidationEvent", eventTime: "2026-12-01T00:00:00Z", data: { validationCode: "code-123", validationUrl: "https://rp/validate" }, dataVersion: "2", metadataVersion: "1" }]));
    expect(validation.status).toBe(200);
    expect((await webhook("OPTIONS", { "webhook-request-origin": "eventgrid.azure.net" })).status).toBe(200);
    expect((await webhook("POST", { "aeg-event-type": "Notification" }, JSON.stringify([nearExpiry("Contoso-SQLMI-CMK", "55555555-5555-4555-8555-555555555555")]))).status).toBe(200);
    expect((await webhook("POST", { "aeg-event-type": "Notification" }, "{not json")).status).toBe(400);
    await keyRotationHandler(timer, context("keyRotation"));

    // A misconfigured function: a secret setting that does not parse answers 500 with a correlation id only.
    const badConnection = `DefaultEndpointsProtocol=http;AccountKey=${/AccountKey=([^;]+)/.exec(azurite())?.[1] ?? ""};NoSuchPart`;
    setRuntime(createRuntime({ env: { ...env, KEYWARDEN_STATE_BLOB_CONNECTION_STRING: badConnection } }));
    expect((await report("?format=json")).status).toBe(500);
    setRuntime(undefined);
    expect(log.some((line) => line.startsWith("error ") && line.includes("KEYWARDEN_STATE_BLOB_CONNECTION_STRING"))).toBe(true);

    outputs.push({ where: "the functions' InvocationContext log", text: log.join("\n") });
    for (const r of responses) outputs.push({ where: `response to ${r.where}`, text: responseText(r.response) });
    // The state store's blobs: journal records, outboxes, leases, the stored scans.
    const blobs = BlobServiceClient.fromConnectionString(azurite()).getContainerClient(container);
    let count = 0;
    for await (const blob of blobs.listBlobsFlat({ includeMetadata: true })) {
      const body = await blobs.getBlobClient(blob.name).downloadToBuffer();
      outputs.push({ where: `blob ${blob.name}`, text: `${JSON.stringify(blob.metadata ?? {})}\n${body.toString("utf8")}` });
      count += 1;
    }
    expect(count).toBeGreaterThan(0);
    expect(outputs.some((o) => o.where.startsWith("blob scans/"))).toBe(true);
    await blobs.deleteIfExists();
  });

  it(
    "the demo (npm start) in a child process with AZURE_LOG_LEVEL=verbose",
    () => {
      const demo = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "demo.ts")], {
        cwd: ROOT,
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
        // AZURE_LOG_LEVEL is how the SDKs' logger is turned on; DEBUG=azure* is the debug module's own switch.
        env: { ...process.env, AZURE_LOG_LEVEL: "verbose", DEBUG: "azure*" },
        timeout: 240_000,
      });
      expect(demo.status, demo.stderr.slice(-2000)).toBe(0);
      // The SDKs did log at verbose: each request, with its headers.
      expect(demo.stderr).toMatch(/azure:[a-z-]+:info Request: /);
      outputs.push({ where: "the demo's stdout", text: demo.stdout }, { where: "the demo's stderr", text: demo.stderr });
    },
    300_000,
  );

  it("none of it holds a secret in any form", () => {
    outputs.push({ where: "the Azure SDKs' log (in process)", text: sdkLog.join("\n") }, { where: "the console (in process)", text: consoleLines.join("\n") });
    // The scan is not vacuous: the SDKs logged, and every kind of credential was sent.
    expect(sdkLog.filter((line) => line.includes("Request:")).length).toBeGreaterThan(100);
    // (Booleans and counts only: a failing assertion prints its values, and these are the secrets.)
    const sent = [...sentCredentials.keys()];
    expect(sent.filter((c) => c.startsWith("eyJ")).length, "bearer tokens sent").toBeGreaterThan(3);
    expect(sent.includes(topicKeys[0] ?? "-"), "the Event Grid topic key was sent (aeg-sas-key)").toBe(true);
    expect([...sentCredentials.values()].some((where) => where.startsWith("authorization header sent to 127.0.0.1")), "Azurite's SharedKey signature was sent").toBe(true);
    expect(outputs.length).toBeGreaterThan(60);
    expect(findSecrets(outputs, secrets())).toEqual([]);
  });
});

describe("the HTTP endpoints are never anonymous", () => {
  it("every HTTP trigger registers with authLevel function or admin, as the Functions host receives it", () => {
    const child = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "test", "support", "functionRegistrations.ts")], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(child.status, child.stderr).toBe(0);
    const { files, registered } = JSON.parse(child.stdout.trim().split("\n").pop() ?? "{}") as { files: string[]; registered: { name: string; bindings: Record<string, { type: string; authLevel?: string }> }[] };
    // Every function file registered one function; at least the report and the webhook are HTTP.
    expect(registered.map((r) => `${r.name}.ts`).sort()).toEqual(files);
    const http = registered.flatMap((r) => Object.values(r.bindings).filter((b) => b.type === "httpTrigger").map((b) => ({ name: r.name, authLevel: b.authLevel })));
    expect(http.map((h) => h.name).sort()).toEqual(["complianceReport", "keyEventsWebhook"]);
    expect(http.filter((h) => h.authLevel !== "function" && h.authLevel !== "admin")).toEqual([]);
  });
});
