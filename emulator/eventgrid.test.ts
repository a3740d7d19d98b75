/**
 * Event Grid custom topics through the real SDK (EventGridPublisherClient, both input schemas, a key and a token
 * credential), the publish checks Event Grid applies (auth, size, schema), fault injection on a topic, and the
 * /_emulator/eventgrid/* control endpoints.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AzureKeyCredential, EventGridPublisherClient } from "@azure/eventgrid";
import type { InputSchema } from "@azure/eventgrid";
import { describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createCredential } from "../src/lib/azure/credential.js";
import { createEmulatorCredential } from "../src/lib/azure/emulatorCredential.js";
import { dataPlaneClientOptions } from "../src/lib/azure/pipelineOptions.js";
import { createRequestLayer, requestLayerOptions } from "../src/lib/azure/requests.js";
import { loadConfig } from "../src/lib/config/load.js";
import { keywardenEnv } from "./keywardenEnv.js";
import { emulatorPerFile } from "./emulatorPerFile.js";
import { deliverEvents, DeliveryOptionsError, SubscriptionValidationError, type DeliveryOptions } from "./eventDelivery.js";
import { FIXTURE_DIR, FixtureError, parseFixture } from "./fixture.js";
import { call, KEYWARDEN_OID } from "./test-support.js";

const TOPIC = "contoso-keywarden-events";
const CLOUD_TOPIC = "contoso-cloudevents";
const ENTRA_ONLY = "contoso-entra-only";
const NOBODY = "c3000000-0000-4000-8000-00000000dead";

const reference = JSON.parse(readFileSync(join(FIXTURE_DIR, "contoso-reference.json"), "utf8")) as { subscriptionId: string; eventGridTopics: object[]; armRoleAssignments: object[] };
const topicId = (name: string) => `/subscriptions/${reference.subscriptionId}/resourceGroups/rg-contoso-hsm/providers/Microsoft.EventGrid/topics/${name}`;
const fixture = {
  ...reference,
  // KeyWarden sends to the added topics too (with ARM RBAC modelled, EventGrid Data Sender on the topic decides).
  armRoleAssignments: [...reference.armRoleAssignments, ...[CLOUD_TOPIC, ENTRA_ONLY].map((name) => ({ principalId: KEYWARDEN_OID, role: "EventGrid Data Sender", scope: topicId(name) }))],
  eventGridTopics: [
    ...reference.eventGridTopics,
    { name: CLOUD_TOPIC, resourceGroup: "rg-contoso-hsm", location: "centralindia", inputSchema: "CloudEventSchemaV1_0" },
    { name: ENTRA_ONLY, resourceGroup: "rg-contoso-hsm", location: "westeurope", disableLocalAuth: true, keys: { key1: "k1", key2: "k2" } },
  ],
};
const NOW = new Date("2026-03-01T10:00:00Z");
const t = emulatorPerFile(() => ({ fixture, now: NOW }));

interface TopicView {
  name: string;
  endpoint: string;
  inputSchema: string;
  key1: string;
  key2: string;
  id: string;
}
interface StoredEvent {
  seq: number;
  receivedAt: string;
  event: Record<string, unknown>;
}

const control = async (method: string, path: string, body?: unknown) => {
  const r = await call(t.emu, method, path, { token: null, body });
  expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
  return r.body as Record<string, unknown>;
};
const topics = async (): Promise<TopicView[]> => (await control("GET", "/_emulator/eventgrid/topics")).topics as TopicView[];
const topic = async (name: string): Promise<TopicView> => {
  const found = (await topics()).find((x) => x.name === name);
  if (!found) throw new Error(`no topic ${name}`);
  return found;
};
const events = async (name: string, since?: number): Promise<StoredEvent[]> =>
  (await control("GET", `/_emulator/eventgrid/topics/${name}/events${since === undefined ? "" : `?since=${since}`}`)).events as StoredEvent[];

const options = () => ({ agent: t.agent, retryOptions: { maxRetries: 0 } });
function publisher<T extends InputSchema>(name: string, schema: T, credential: AzureKeyCredential | ReturnType<typeof createEmulatorCredential>): EventGridPublisherClient<T> {
  return new EventGridPublisherClient(t.emu.topicEndpoint(name), schema, credential, options());
}
type Failure = { statusCode?: number; code?: string; message?: string; details?: unknown };
const failure = (p: Promise<unknown>): Promise<Failure> =>
  p.then(
    () => ({}) as Failure,
    (e: unknown) => e as Failure,
  );

/** A raw publish (what no SDK would send), with the topic's key unless `headers` says otherwise. */
async function rawPublish(name: string, body: unknown, headers: Record<string, string> = {}) {
  const v = await topic(name);
  const url = new URL(v.endpoint);
  return call(t.emu, "POST", `${url.pathname}?api-version=2018-01-01`, { host: url.host, token: null, body, headers: { "aeg-sas-key": v.key1, ...headers } });
}

const nearExpiry = (subject: string) => ({
  eventType: "Microsoft.KeyVault.KeyNearExpiry",
  subject,
  dataVersion: "1",
  data: { Id: `https://contoso-prod-hsm.managedhsm.azure.net/keys/${subject}/abc`, VaultName: "contoso-prod-hsm", ObjectType: "Key", ObjectName: subject, Version: "abc", NBF: null, EXP: 1780000000 },
});

describe("Event Grid custom topic: publishing through EventGridPublisherClient", () => {
  it("lists the fixture's topics with their endpoint, schema, keys and ARM id", async () => {
    const all = await topics();
    expect(all.map((x) => [x.name, x.inputSchema])).toEqual([
      [TOPIC, "EventGridSchema"],
      [CLOUD_TOPIC, "CloudEventSchemaV1_0"],
      [ENTRA_ONLY, "EventGridSchema"],
    ]);
    const main = all[0]!;
    expect(main.endpoint).toBe(`https://${TOPIC}.southindia-1.eventgrid.azure.net:${t.emu.port}/api/events`);
    expect(t.emu.topicEndpoint("Contoso-KeyWarden-Events")).toBe(main.endpoint);
    expect(main.id).toBe("/subscriptions/5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10/resourceGroups/rg-contoso-hsm/providers/Microsoft.EventGrid/topics/contoso-keywarden-events");
    expect(main.key1).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(main.key2).not.toBe(main.key1);
    expect(() => t.emu.topicEndpoint("no-such-topic")).toThrow(/no Event Grid topic 'no-such-topic'.*contoso-keywarden-events/);
  });

  it("EventGridSchema with an access key: stored in order, with the topic's ARM id, metadataVersion 1 and the emulator time", async () => {
    const { key1, key2, id } = await topic(TOPIC);
    await publisher(TOPIC, "EventGrid", new AzureKeyCredential(key1)).send([nearExpiry("cmk-a"), nearExpiry("cmk-b")]);
    await control("POST", "/_emulator/clock", { advance: "PT5M" });
    await publisher(TOPIC, "EventGrid", new AzureKeyCredential(key2)).send([{ ...nearExpiry("cmk-c"), id: "fixed-id", eventTime: new Date("2026-03-01T09:00:00Z") }]);

    const stored = await events(TOPIC);
    expect(stored.map((e) => [e.seq, e.event.subject, e.receivedAt])).toEqual([
      [1, "cmk-a", "2026-03-01T10:00:00.000Z"],
      [2, "cmk-b", "2026-03-01T10:00:00.000Z"],
      [3, "cmk-c", "2026-03-01T10:05:00.000Z"],
    ]);
    expect(stored[2]!.event).toMatchObject({ id: "fixed-id", eventTime: "2026-03-01T09:00:00.000Z", topic: id, metadataVersion: "1", dataVersion: "1", eventType: "Microsoft.KeyVault.KeyNearExpiry" });
    expect(stored[0]!.event.data).toEqual(nearExpiry("cmk-a").data);
    expect((await events(TOPIC, 2)).map((e) => e.seq)).toEqual([3]);
  });

  it("CloudEvents 1.0 with a token credential from emulatorCredential.ts (audience https://eventgrid.azure.net)", async () => {
    await publisher(CLOUD_TOPIC, "CloudEvent", createEmulatorCredential(KEYWARDEN_OID)).send([
      { type: "KeyWarden.KeyRotated", source: "/keywarden/rotation", subject: "Contoso-SQLMI-CMK", data: { version: "v2" } },
    ]);
    const stored = await events(CLOUD_TOPIC);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.event).toMatchObject({ type: "KeyWarden.KeyRotated", source: "/keywarden/rotation", specversion: "1.0", data: { version: "v2" } });
    // CloudEvents are stored as published: Event Grid adds no topic/metadataVersion to them.
    expect(stored[0]!.event.topic).toBeUndefined();
    // A token for the EventGrid-schema topic works too.
    await publisher(TOPIC, "EventGrid", createEmulatorCredential(KEYWARDEN_OID)).send([nearExpiry("cmk-a")]);
    expect(await events(TOPIC)).toHaveLength(1);
  });

  it("401 Unauthorized: a wrong key, no credential, a principal that is no data sender, a key where local auth is disabled", async () => {
    const wrong = await failure(publisher(TOPIC, "EventGrid", new AzureKeyCredential("not-the-key")).send([nearExpiry("x")]));
    expect([wrong.statusCode, wrong.code]).toEqual([401, "Unauthorized"]);
    expect(wrong.message).toContain(`not authorized for ${TOPIC.toUpperCase()}.SOUTHINDIA-1.EVENTGRID.AZURE.NET`);

    const none = await rawPublish(TOPIC, [nearExpiry("x")], { "aeg-sas-key": "" });
    expect(none.status).toBe(401);
    const bare = await call(t.emu, "POST", "/api/events?api-version=2018-01-01", { host: new URL((await topic(TOPIC)).endpoint).host, token: null, body: [] });
    expect(bare.status).toBe(401);
    expect(bare.body).toEqual({
      error: {
        code: "Unauthorized",
        message: "Request must contain one of the following authorization signature: aeg-sas-token, aeg-sas-key.",
        details: [{ code: "Unauthorized", message: "Request must contain one of the following authorization signature: aeg-sas-token, aeg-sas-key." }],
      },
    });

    const stranger = await failure(publisher(TOPIC, "EventGrid", createEmulatorCredential(NOBODY)).send([nearExpiry("x")]));
    expect([stranger.statusCode, stranger.code]).toEqual([401, "Unauthorized"]);
    expect(stranger.message).toContain(`principal '${NOBODY}' holds no data-sender role`);

    // A token for another audience (ARM's) is refused, whoever it names.
    const armToken = await rawPublish(TOPIC, [nearExpiry("x")], { "aeg-sas-key": "", authorization: `Bearer ${(await createEmulatorCredential(KEYWARDEN_OID).getToken("https://management.azure.com/.default"))!.token}` });
    expect([armToken.status, armToken.body.error.message]).toEqual([401, expect.stringContaining("audience is 'https://management.azure.com'")]);

    const entraOnly = await failure(publisher(ENTRA_ONLY, "EventGrid", new AzureKeyCredential("k1")).send([nearExpiry("x")]));
    expect([entraOnly.statusCode, entraOnly.message]).toEqual([401, expect.stringContaining("local authentication (access keys and SAS tokens) is disabled")]);
    await publisher(ENTRA_ONLY, "EventGrid", createEmulatorCredential(KEYWARDEN_OID)).send([nearExpiry("x")]);
    expect(await events(ENTRA_ONLY)).toHaveLength(1);
    expect(await events(TOPIC)).toEqual([]);
  });

  it("413: a request body over 1 MB, and an event over 1 MB, store nothing", async () => {
    const { key1 } = await topic(TOPIC);
    const client = publisher(TOPIC, "EventGrid", new AzureKeyCredential(key1));
    const half = { ...nearExpiry("big"), data: { blob: "x".repeat(600_000) } };
    const batch = await failure(client.send([half, half]));
    expect([batch.statusCode, batch.code]).toEqual([413, "RequestEntityTooLarge"]);
    const one = await failure(client.send([{ ...nearExpiry("huge"), data: { blob: "x".repeat(1_100_000) } }]));
    expect([one.statusCode, one.code]).toEqual([413, "RequestEntityTooLarge"]);
    await client.send([half]); // 600 kB passes
    expect((await events(TOPIC)).map((e) => e.seq)).toEqual([1]);
  });

  it("400 BadRequest (InputJsonInvalid) when an event does not match the topic's input schema; the batch is refused whole", async () => {
    const good = { id: "1", subject: "s", eventType: "T", eventTime: "2026-03-01T10:00:00Z", dataVersion: "1", data: {} };
    const cases: [string, unknown, RegExp][] = [
      ["no subject", [good, { ...good, subject: undefined }], /event 1 \(id '1'\) does not match EventGridSchema: required property 'subject' is missing/],
      ["no data", [{ ...good, data: undefined }], /required property 'data' is missing/],
      ["no dataVersion", [{ ...good, dataVersion: undefined }], /required property 'dataVersion' is missing/],
      ["eventTime not RFC 3339", [{ ...good, eventTime: "yesterday" }], /'eventTime' must be an RFC 3339 date-time \(got "yesterday"\)/],
      ["a single object", good, /must be a JSON array of events/],
      ["an empty batch", [], /holds no event/],
    ];
    expect(cases.length).toBeGreaterThan(0);
    for (const [what, body, message] of cases) {
      const r = await rawPublish(TOPIC, body);
      expect([what, r.status, r.body.error.code, r.body.error.details[0].code], what).toEqual([what, 400, "BadRequest", "InputJsonInvalid"]);
      expect(r.body.error.message, what).toMatch(message);
    }
    const v = await topic(TOPIC);
    const garbage = await call(t.emu, "POST", "/api/events?api-version=2018-01-01", { host: new URL(v.endpoint).host, token: null, rawBody: "[{", headers: { "aeg-sas-key": v.key1 } });
    expect([garbage.status, garbage.body.error.details[0].code]).toEqual([400, "InputJsonInvalid"]);
    expect(await events(TOPIC)).toEqual([]);

    const cloud = { id: "c1", source: "/s", type: "T", specversion: "1.0" };
    const batchType = { "content-type": "application/cloudevents-batch+json; charset=utf-8" };
    const bad = await rawPublish(CLOUD_TOPIC, [{ ...cloud, specversion: "0.3" }], batchType);
    expect([bad.status, bad.body.error.message]).toEqual([400, expect.stringMatching(/'specversion' must be "1.0"/)]);
    const noSource = await rawPublish(CLOUD_TOPIC, [{ ...cloud, source: undefined }], batchType);
    expect([noSource.status, noSource.body.error.message]).toEqual([400, expect.stringMatching(/required attribute 'source' is missing/)]);
    const wrongType = await rawPublish(CLOUD_TOPIC, [cloud], { "content-type": "application/json" });
    expect([wrongType.status, wrongType.body.error.details[0].code]).toEqual([400, "InvalidContentType"]);
    expect(await events(CLOUD_TOPIC)).toEqual([]);
    const single = await rawPublish(CLOUD_TOPIC, cloud, { "content-type": "application/cloudevents+json" });
    expect(single.status).toBe(200);
    expect(single.body).toBeUndefined();
    expect((await events(CLOUD_TOPIC)).map((e) => e.event.id)).toEqual(["c1"]);
  });

  it("KeyWarden's own emulator options (request layer, CA, lookup of *.eventgrid.azure.net) reach the topic", async () => {
    const config = await loadConfig({ env: keywardenEnv(t.emu, { KEYWARDEN_MAX_RETRIES: "0" }), readFile: (p) => readFile(p, "utf8") });
    const options = dataPlaneClientOptions(config.settings, createRequestLayer(requestLayerOptions(config.settings)));
    await new EventGridPublisherClient(t.emu.topicEndpoint(TOPIC), "EventGrid", createCredential(config.settings), options).send([nearExpiry("via-keywarden")]);
    expect((await events(TOPIC)).map((e) => e.event.subject)).toEqual(["via-keywarden"]);
  });

  it("404 for a topic host the estate lacks (or in another region); 400 for a missing or unknown api-version", async () => {
    const { key1 } = await topic(TOPIC);
    for (const host of [`no-such-topic.southindia-1.eventgrid.azure.net:${t.emu.port}`, `${TOPIC}.eastus-1.eventgrid.azure.net:${t.emu.port}`]) {
      const r = await call(t.emu, "POST", "/api/events?api-version=2018-01-01", { host, token: null, body: [], headers: { "aeg-sas-key": key1 } });
      expect([host, r.status, r.body.error.code]).toEqual([host, 404, "NotFound"]);
    }
    const v = await topic(TOPIC);
    const host = new URL(v.endpoint).host;
    const noVersion = await call(t.emu, "POST", "/api/events", { host, token: null, body: [nearExpiry("x")], headers: { "aeg-sas-key": key1 } });
    expect([noVersion.status, noVersion.body.error.code]).toEqual([400, "BadRequest"]);
    const otherVersion = await call(t.emu, "POST", "/api/events?api-version=2099-01-01", { host, token: null, body: [nearExpiry("x")], headers: { "aeg-sas-key": key1 } });
    expect([otherVersion.status, otherVersion.body.error.message]).toEqual([400, expect.stringContaining("'2099-01-01'")]);
  });
});

describe("Event Grid custom topic: faults, counts, control endpoints", () => {
  it("a fault injected on the topic (by name or 'eventgrid') fails a publish, and stores nothing; requests are counted", async () => {
    const { key1 } = await topic(TOPIC);
    const client = publisher(TOPIC, "EventGrid", new AzureKeyCredential(key1));
    const byName = await call(t.emu, "POST", "/_emulator/faults", { token: null, body: { host: "Contoso-KeyWarden-Events", status: 503 } });
    expect(byName.status).toBe(201);
    const unavailable = await failure(client.send([nearExpiry("x")]));
    expect(unavailable.statusCode).toBe(503);
    await control("POST", "/_emulator/faults", { host: "eventgrid", operationId: "PublishEvents", behaviour: "reset" });
    const reset = await failure(client.send([nearExpiry("x")]));
    expect(reset.statusCode).toBeUndefined();
    expect(String((reset as { code?: string }).code)).toMatch(/ECONNRESET|socket hang up/i);
    // An HSM fault does not touch the topic; an "arm" fault neither.
    await control("POST", "/_emulator/faults", { host: "arm", status: 500, persistent: true });
    await control("POST", "/_emulator/faults", { host: "hsm", status: 500, persistent: true });
    await client.send([nearExpiry("ok")]);
    expect((await events(TOPIC)).map((e) => e.event.subject)).toEqual(["ok"]);
    const counts = (await control("GET", "/_emulator/requests")).counts as Record<string, number>;
    expect(counts.PublishEvents).toBe(3);

    const unknownHost = await call(t.emu, "POST", "/_emulator/faults", { token: null, body: { host: "no-such-topic", status: 503 } });
    expect([unknownHost.status, unknownHost.body.error.message]).toEqual([400, expect.stringContaining("contoso-keywarden-events")]);
  });

  it("DELETE clears a topic's events (seq keeps counting); reset and fixture loads clear them too; unknown topics 404", async () => {
    const { key1 } = await topic(TOPIC);
    const client = publisher(TOPIC, "EventGrid", new AzureKeyCredential(key1));
    await client.send([nearExpiry("a"), nearExpiry("b")]);
    expect(await control("DELETE", `/_emulator/eventgrid/topics/${TOPIC}/events`)).toEqual({ deleted: 2 });
    await client.send([nearExpiry("c")]);
    expect((await events(TOPIC)).map((e) => e.seq)).toEqual([3]);
    await control("POST", "/_emulator/reset");
    expect(await events(TOPIC)).toEqual([]);
    await client.send([nearExpiry("d")]);
    expect((await events(TOPIC)).map((e) => e.seq)).toEqual([1]);
    await control("POST", "/_emulator/fixture", fixture);
    expect(await events(TOPIC)).toEqual([]);

    const unknown = await call(t.emu, "GET", "/_emulator/eventgrid/topics/nope/events", { token: null });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "TopicNotFound"]);
    const badSince = await call(t.emu, "GET", `/_emulator/eventgrid/topics/${TOPIC}/events?since=-1`, { token: null });
    expect([badSince.status, badSince.body.error.message]).toEqual([400, expect.stringMatching(/^since: /)]);
  });

  it("fixture validation: a topic outside the certificate's regions, a duplicate name", () => {
    const base = JSON.parse(readFileSync(join(FIXTURE_DIR, "contoso-reference.json"), "utf8")) as Record<string, unknown>;
    expect(() => parseFixture({ ...base, eventGridTopics: [{ name: "t-1", resourceGroup: "rg", location: "brazilsouth" }] })).toThrow(
      new FixtureError("invalid fixture: eventGridTopics.0.location: must be one of the regions the emulator's certificate covers: southindia, centralindia, westindia, eastus, westeurope, northeurope"),
    );
    expect(() => parseFixture({ ...base, eventGridTopics: [{ name: "t-1", resourceGroup: "rg", location: "eastus" }, { name: "T-1", resourceGroup: "rg2", location: "westeurope" }] })).toThrow(
      /eventGridTopics\.1\.name: 'T-1' is already defined at eventGridTopics\.0\.name/,
    );
    const parsed = parseFixture({ ...base, eventGridTopics: [{ name: "t-1", resourceGroup: "rg", location: "EastUS" }] });
    expect(parsed.eventGridTopics[0]).toMatchObject({ inputSchema: "EventGridSchema", disableLocalAuth: false });
  });
});

interface Received {
  method: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** A local webhook: `answer` decides each response; every request is recorded. */
async function webhook(answer: (r: Received) => { status: number; headers?: Record<string, string>; body?: unknown }) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (text += c));
    req.on("end", () => {
      const r: Received = { method: req.method ?? "", headers: req.headers, body: text ? JSON.parse(text) : undefined };
      received.push(r);
      const a = answer(r);
      res.writeHead(a.status, { ...(a.body !== undefined ? { "content-type": "application/json" } : {}), ...a.headers });
      res.end(a.body === undefined ? "" : JSON.stringify(a.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/updates`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("delivery simulator (eventDelivery.ts)", () => {
  const deliver = (o: DeliveryOptions) => deliverEvents(t.emu.endpoint, t.emu.caPem, o);
  const clock = async () => (await control("GET", "/_emulator/clock")).now as string;
  async function publish(name: string, subjects: string[]): Promise<void> {
    const { key1 } = await topic(name);
    await publisher(name, "EventGrid", new AzureKeyCredential(key1)).send(subjects.map((s) => ({ ...nearExpiry(s), id: `id-${s}` })));
  }

  it("delivers every event at least once, some twice, in a seeded shuffled order; no retries, so the clock stays", async () => {
    const subjects = Array.from({ length: 12 }, (_, i) => `k${i}`);
    await publish(TOPIC, subjects);
    const seen = new Map<string, number>();
    const handler = async (e: Record<string, unknown>) => void seen.set(String(e.id), (seen.get(String(e.id)) ?? 0) + 1);
    const before = await clock();
    const r = await deliver({ topic: TOPIC, target: { kind: "function", handler }, seed: 7 });
    expect([...seen.keys()].sort()).toEqual(subjects.map((s) => `id-${s}`).sort());
    expect(Math.min(...seen.values())).toBeGreaterThanOrEqual(1);
    expect(r.delivered).toBe([...seen.values()].reduce((a, b) => a + b, 0));
    expect(r.delivered, "seed 7 duplicates some events").toBeGreaterThan(subjects.length);
    expect(r.records.length).toBe(r.delivered);
    expect(r.records.filter((x) => x.outcome !== "delivered")).toEqual([]);
    const order = r.records.map((x) => x.seq);
    expect(order).not.toEqual([...order].sort((a, b) => a - b));
    expect([r.dropped, r.expired]).toEqual([0, 0]);
    expect(await clock()).toBe(before);
    // The same seed, the same run; seq order without shuffle; `since` skips what was delivered.
    const again = await deliver({ topic: TOPIC, target: { kind: "function", handler: async () => undefined }, seed: 7 });
    expect(again.records.map((x) => x.seq)).toEqual(order);
    const ordered = await deliver({ topic: TOPIC, target: { kind: "function", handler: async () => undefined }, shuffle: false, duplicateRate: 0 });
    expect(ordered.records.map((x) => x.seq)).toEqual(subjects.map((_, i) => i + 1));
    expect((await deliver({ topic: TOPIC, target: { kind: "function", handler: async () => undefined }, since: 12 })).records).toEqual([]);
  });

  it("a handler failing twice is retried at 10 s and then 30 s emulator time (the clock is moved, never slept)", async () => {
    await publish(TOPIC, ["a", "b"]);
    const t0 = Date.parse(await clock());
    let failures = 0;
    const calls: string[] = [];
    const handler = async (e: Record<string, unknown>) => {
      calls.push(String(e.id));
      if (e.id === "id-b" && failures < 2) {
        failures++;
        throw new Error(`handler down (${failures})`);
      }
    };
    const r = await deliver({ topic: TOPIC, target: { kind: "function", handler }, duplicateRate: 0, shuffle: false });
    const at = (iso: string) => (Date.parse(iso) - t0) / 1000;
    expect(r.records.map((x) => [x.eventId, x.attempt, at(x.at), x.outcome, x.status ?? null])).toEqual([
      ["id-a", 1, 0, "delivered", null],
      ["id-b", 1, 0, "failed", 500],
      ["id-b", 2, 10, "failed", 500],
      ["id-b", 3, 40, "delivered", null],
    ]);
    expect(r.records[1]!.error).toBe("handler down (1)");
    expect(calls).toEqual(["id-a", "id-b", "id-b", "id-b"]);
    expect(at(await clock())).toBe(40);
  });

  it("maxAttempts and the TTL end retries as expired", async () => {
    await publish(TOPIC, ["x"]);
    const t0 = Date.parse(await clock());
    const down = async () => {
      throw new Error("always down");
    };
    const capped = await deliver({ topic: TOPIC, target: { kind: "function", handler: down }, duplicateRate: 0, maxAttempts: 4 });
    expect(capped.records.map((x) => [x.attempt, (Date.parse(x.at) - t0) / 1000, x.outcome])).toEqual([
      [1, 0, "failed"],
      [2, 10, "failed"],
      [3, 40, "failed"],
      [4, 100, "expired"],
    ]);
    expect(capped.expired).toBe(1);
    // TTL 1 min from receipt (t0): attempts at +100 s … are past it already.
    const late = await deliver({ topic: TOPIC, target: { kind: "function", handler: down }, duplicateRate: 0, ttlMinutes: 1 });
    expect(late.records.map((x) => [x.attempt, x.outcome])).toEqual([[0, "expired"]]);
  });

  it("a webhook answering 400 drops the event without retry; 503 is retried", async () => {
    await publish(TOPIC, ["w1", "w2"]);
    const hook = await webhook(() => ({ status: 400, body: { error: "no" } }));
    try {
      const before = await clock();
      const r = await deliver({ topic: TOPIC, target: { kind: "webhook", url: hook.url, headers: { "x-test": "1" } }, duplicateRate: 0, shuffle: false });
      expect(r.records.map((x) => [x.eventId, x.attempt, x.outcome, x.status])).toEqual([
        ["id-w1", 1, "dropped", 400],
        ["id-w2", 1, "dropped", 400],
      ]);
      expect([r.delivered, r.dropped, r.expired]).toEqual([0, 2, 0]);
      expect(hook.received).toHaveLength(2);
      expect(hook.received[0]!.headers).toMatchObject({ "aeg-event-type": "Notification", "x-test": "1", "content-type": "application/json" });
      expect(hook.received[0]!.body).toEqual([expect.objectContaining({ id: "id-w1", topic: expect.stringContaining("/topics/contoso-keywarden-events"), metadataVersion: "1" })]);
      expect(await clock()).toBe(before);
    } finally {
      await hook.close();
    }
    let n = 0;
    const flaky = await webhook(() => ({ status: n++ === 0 ? 503 : 200 }));
    try {
      const r = await deliver({ topic: TOPIC, target: { kind: "webhook", url: flaky.url }, duplicateRate: 0, since: 1 });
      expect(r.records.map((x) => [x.eventId, x.attempt, x.outcome, x.status])).toEqual([
        ["id-w2", 1, "failed", 503],
        ["id-w2", 2, "delivered", 200],
      ]);
    } finally {
      await flaky.close();
    }
  });

  it("the validation handshake: EventGridSchema echoes the validationCode, CloudEvents answers OPTIONS with WebHook-Allowed-Origin", async () => {
    await publish(TOPIC, ["v"]);
    const good = await webhook((r) => {
      if (r.headers["aeg-event-type"] === "SubscriptionValidation") {
        const [e] = r.body as [{ data: { validationCode: string } }];
        return { status: 200, body: { validationResponse: e.data.validationCode } };
      }
      return { status: 200 };
    });
    try {
      const r = await deliver({ topic: TOPIC, target: { kind: "webhook", url: good.url, validate: true }, duplicateRate: 0 });
      expect(r.delivered).toBe(1);
      expect(good.received.map((x) => x.headers["aeg-event-type"])).toEqual(["SubscriptionValidation", "Notification"]);
      const [validation] = good.received[0]!.body as [Record<string, unknown>];
      expect(validation).toMatchObject({ eventType: "Microsoft.EventGrid.SubscriptionValidationEvent", subject: "", metadataVersion: "1", dataVersion: "2", topic: (await topic(TOPIC)).id });
      expect((validation!.data as { validationCode: string; validationUrl: string }).validationCode).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    } finally {
      await good.close();
    }
    const wrong = await webhook(() => ({ status: 200, body: { validationResponse: "nope" } }));
    try {
      await expect(deliver({ topic: TOPIC, target: { kind: "webhook", url: wrong.url, validate: true } })).rejects.toThrow(SubscriptionValidationError);
      await expect(deliver({ topic: TOPIC, target: { kind: "webhook", url: wrong.url, validate: true } })).rejects.toThrow(/validationResponse "nope", expected the validationCode/);
      // Two runs, each stopped at its handshake: no notification was sent.
      expect(wrong.received.map((x) => x.headers["aeg-event-type"])).toEqual(["SubscriptionValidation", "SubscriptionValidation"]);
    } finally {
      await wrong.close();
    }

    await rawPublish(CLOUD_TOPIC, [{ id: "c1", source: "/s", type: "T", specversion: "1.0" }], { "content-type": "application/cloudevents-batch+json" });
    const origin = await webhook((r) => (r.method === "OPTIONS" ? { status: 200, headers: { "webhook-allowed-origin": String(r.headers["webhook-request-origin"]) } } : { status: 200 }));
    try {
      const r = await deliver({ topic: CLOUD_TOPIC, target: { kind: "webhook", url: origin.url, validate: true } });
      expect(r.delivered).toBeGreaterThanOrEqual(1);
      expect(origin.received[0]).toMatchObject({ method: "OPTIONS", headers: { "webhook-request-origin": "eventgrid.azure.net" } });
      expect(origin.received[1]).toMatchObject({ method: "POST", body: { id: "c1", specversion: "1.0" }, headers: { "content-type": "application/cloudevents+json; charset=utf-8" } });
    } finally {
      await origin.close();
    }
    const noOrigin = await webhook(() => ({ status: 200 }));
    try {
      await expect(deliver({ topic: CLOUD_TOPIC, target: { kind: "webhook", url: noOrigin.url, validate: true } })).rejects.toThrow(/WebHook-Allowed-Origin \(absent\)/);
      expect(noOrigin.received.map((x) => x.method)).toEqual(["OPTIONS"]);
    } finally {
      await noOrigin.close();
    }
  });

  it("concurrency delivers that many at once; bad options are refused naming the option", async () => {
    await publish(TOPIC, ["p1", "p2", "p3", "p4", "p5", "p6"]);
    let inFlight = 0;
    let most = 0;
    const handler = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
    };
    await deliver({ topic: TOPIC, target: { kind: "function", handler }, duplicateRate: 0, concurrency: 3 });
    expect(most).toBe(3);
    most = 0;
    await deliver({ topic: TOPIC, target: { kind: "function", handler }, duplicateRate: 0 });
    expect(most).toBe(1);

    const target = { kind: "function" as const, handler };
    await expect(deliver({ topic: TOPIC, target, duplicateRate: 2 })).rejects.toThrow(new DeliveryOptionsError("deliverEvents: option 'duplicateRate' must be a number from 0 to 1 (got 2)."));
    await expect(deliver({ topic: TOPIC, target, concurrency: 0 })).rejects.toThrow(/option 'concurrency' must be an integer of at least 1/);
    await expect(deliver({ topic: "nope", target })).rejects.toThrow(/option 'topic': the emulator has no topic 'nope'/);
  });
});
