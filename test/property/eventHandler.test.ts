import "./seed.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpRequest, InvocationContext } from "@azure/functions";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyEventsHandler } from "../../src/functions/keyEvents.js";
import { keyEventsWebhookHandler } from "../../src/functions/keyEventsWebhook.js";
import { KEY_VAULT_EVENT_TYPES } from "../../src/lib/events/keyVaultEvents.js";
import { KEYWARDEN_EVENT_TYPES } from "../../src/lib/events/keywardenEvents.js";
import { createRuntime, setRuntime } from "../../src/lib/runtime.js";
import type { StateStore } from "../../src/lib/state/stateStore.js";
import { isWrite, startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { CONTOSO_TOPIC, topicKey } from "../support/eventTopic.js";
import { hostileText } from "./hostileText.js";

/**
 * The Event Grid trigger and the webhook over random and malformed events and bodies, against the emulator with
 * KEYWARDEN_ROTATION_MODE=execute and a topic to publish to, so that "changes nothing" is real: no exchange that
 * could change Azure (or publish), and no write to the state store. Rejected input is documented to be logged and
 * acknowledged (the trigger) or answered 400 / acknowledged per event (the webhook), and to write nothing.
 */

const RUNS = 60;
const HSM_HOST = "contoso-prod-hsm.managedhsm.azure.net";
const MANAGED_KEYS = ["Contoso-SQLMI-CMK", "Contoso-DISK-CMK", "Contoso-STORAGE-CMK"];
const REJECTED = new Set(["malformed", "unmanaged", "ignored"]);
const KV_TYPES = Object.values(KEY_VAULT_EVENT_TYPES);

/** The store, recording every call that could change it. */
function recordingStore(inner: StateStore, writes: string[]): StateStore {
  return {
    description: inner.description,
    get: (name) => inner.get(name),
    list: (prefix) => inner.list(prefix),
    create: (name, body) => (writes.push(`create ${name}`), inner.create(name, body)),
    put: (name, body, options) => (writes.push(`put ${name}`), inner.put(name, body, options)),
    delete: (name) => (writes.push(`delete ${name}`), inner.delete(name)),
    acquireLease: (name, options) => (writes.push(`lease ${name}`), inner.acquireLease(name, options)),
  };
}

const hex32 = fc.stringMatching(/^[0-9a-f]{32}$/);
/** A data.Id that never names a managed key's version: wrong host, unknown key, not a key URL, hostile text. */
const badKeyId: fc.Arbitrary<unknown> = fc.oneof(
  fc.tuple(fc.constantFrom("other-hsm.managedhsm.azure.net", "contoso-prod-hsm.vault.azure.net", `${HSM_HOST}.evil.example`, "127.0.0.1:8443", "managedhsm.azure.net"), fc.constantFrom(...MANAGED_KEYS), hex32).map(([h, k, v]) => `https://${h}/keys/${k}/${v}`),
  fc.tuple(fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }).filter((n) => !MANAGED_KEYS.some((k) => k.toLowerCase() === n.toLowerCase().trim())), hex32).map(([k, v]) => `https://${HSM_HOST}/keys/${encodeURIComponent(k)}/${v}`),
  fc.tuple(fc.constantFrom(...MANAGED_KEYS), hex32).map(([k, v]) => `http://${HSM_HOST}/keys/${k}/${v}`),
  fc.tuple(fc.constantFrom(...MANAGED_KEYS), hex32).map(([k, v]) => `https://${HSM_HOST}/secrets/${k}/${v}`),
  fc.tuple(fc.constantFrom(...MANAGED_KEYS), hex32).map(([k, v]) => `https://${HSM_HOST}/keys/${k}/${v}/extra`),
  fc.constantFrom(`https://${HSM_HOST}/keys/Contoso-DISK-CMK`, "", "https://", "keys/Contoso-DISK-CMK/1", null, 42, [], {}),
  hostileText,
  fc.jsonValue({ maxDepth: 2 }),
);
/** Data that is wrong in a way the handler rejects before it looks the key up, for a managed key's URL. */
const badFactsForManagedKey: fc.Arbitrary<Record<string, unknown>> = fc.tuple(fc.constantFrom(...MANAGED_KEYS), hex32, hex32).chain(([k, v, other]) =>
  fc.constantFrom<Record<string, unknown>>(
    { Id: `https://${HSM_HOST}/keys/${k}/${v}`, ObjectType: "Secret" },
    { Id: `https://${HSM_HOST}/keys/${k}/${v}`, ObjectType: 7 },
    { Id: `https://${HSM_HOST}/keys/${k}/${v}`, Version: other },
    { Id: `https://${HSM_HOST}/keys/${k}` },
    { Id: `https://${HSM_HOST}/keys/${k}`, Version: "" },
    { id: `https://${HSM_HOST}/keys/${k}/${v}`, objecttype: "certificate" },
  ),
);
const data: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ Id: badKeyId, VaultName: fc.oneof(fc.constant("contoso-prod-hsm"), hostileText), ObjectType: fc.oneof(fc.constant("Key"), hostileText), Version: fc.oneof(hex32, hostileText) }, { requiredKeys: [] }),
  badFactsForManagedKey,
  fc.constantFrom("not json {", "[1,2]", "null", "42"),
  fc.jsonValue({ maxDepth: 3 }),
);
const eventType: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KV_TYPES, ...KV_TYPES.map((t) => t.toUpperCase())) },
  { weight: 1, arbitrary: fc.constantFrom(...Object.values(KEYWARDEN_EVENT_TYPES), "Microsoft.KeyVault.SecretNearExpiry", "Microsoft.Storage.BlobCreated", "") },
  { weight: 1, arbitrary: fc.oneof(hostileText, fc.jsonValue({ maxDepth: 1 })) },
);
const eventId: fc.Arbitrary<unknown> = fc.oneof({ weight: 4, arbitrary: fc.uuid() }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom("", "   ", "x".repeat(3000), null, 5), hostileText) });

const eventGridEvent = fc.record(
  { id: eventId, eventType, subject: fc.oneof(fc.constant("Contoso-DISK-CMK"), hostileText), data, dataVersion: fc.constant("1"), eventTime: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), hostileText), topic: hostileText },
  { requiredKeys: [] },
);
const cloudEvent = fc.record(
  { specversion: fc.oneof(fc.constant("1.0"), fc.constantFrom("0.3", "2.0", ""), hostileText), id: eventId, type: eventType, source: hostileText, subject: hostileText, data, data_base64: fc.base64String(), time: hostileText },
  { requiredKeys: ["specversion"] },
);
/** Anything the trigger may be handed: event-like records, in either schema, and arbitrary JSON. */
const anyEvent: fc.Arbitrary<unknown> = fc.oneof({ weight: 3, arbitrary: eventGridEvent }, { weight: 3, arbitrary: cloudEvent }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) });

describe("the event handlers over random and malformed input", () => {
  let t: TestEmulator;
  let stateDir: string;
  const storeWrites: string[] = [];

  beforeAll(async () => {
    t = await startTestEmulator("contoso-drifted");
    stateDir = mkdtempSync(join(tmpdir(), "kw-event-props-"));
    const runtime = await createRuntime({
      env: t.env({ KEYWARDEN_STATE_DIR: stateDir, KEYWARDEN_ROTATION_MODE: "execute", KEYWARDEN_EVENTS_TOPIC_ENDPOINT: t.emulator.topicEndpoint(CONTOSO_TOPIC), KEYWARDEN_EVENTS_TOPIC_KEY: await topicKey(t) }),
    });
    setRuntime({ ...runtime, store: recordingStore(runtime.store, storeWrites) });
  });
  afterAll(async () => {
    setRuntime(undefined);
    await t.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  /** Azure exchanges that could change something (or publish) since `mark`. */
  const writesSince = (mark: number) => t.exchanges.slice(mark).filter(isWrite).map((e) => `${e.method} ${e.path}`);

  it("the Event Grid trigger: never throws, logs one rejection with its reason, changes nothing", async () => {
    let rejections = 0;
    await fc.assert(
      fc.asyncProperty(anyEvent, async (event) => {
        const mark = t.exchanges.length;
        const writesBefore = storeWrites.length;
        const lines: { level: string; text: string }[] = [];
        const context = new InvocationContext({ invocationId: "prop", functionName: "keyEvents", logHandler: (level, ...args) => lines.push({ level, text: args.map(String).join(" ") }) });
        await keyEventsHandler(event as Record<string, unknown>, context);
        const handled = lines.map((l) => ({ ...l, entry: JSON.parse(l.text) as { event?: string; outcome?: string; message?: string } })).filter((l) => l.entry.event === "KeyWarden.EventHandled");
        expect(handled).toHaveLength(1);
        const [{ level, entry }] = handled as [(typeof handled)[number]];
        expect(REJECTED.has(entry.outcome ?? ""), `outcome ${entry.outcome}: ${entry.message}`).toBe(true);
        expect(entry.message?.length).toBeGreaterThan(10);
        if (entry.outcome !== "ignored") expect(level).toBe("warning");
        if (entry.outcome !== "ignored") rejections++;
        expect(writesSince(mark)).toEqual([]);
        expect(storeWrites.slice(writesBefore)).toEqual([]);
      }),
      { numRuns: 100 },
    );
    expect(rejections).toBeGreaterThan(50);
  });

  const method = fc.oneof({ weight: 6, arbitrary: fc.constant("POST") }, { weight: 1, arbitrary: fc.constantFrom("OPTIONS", "GET", "PUT", "DELETE", "PATCH") });
  const body: fc.Arbitrary<string> = fc.oneof(
    { weight: 3, arbitrary: fc.array(anyEvent, { maxLength: 5 }).map((events) => JSON.stringify(events)) },
    { weight: 2, arbitrary: anyEvent.map((e) => JSON.stringify(e) ?? "") },
    { weight: 1, arbitrary: fc.oneof(fc.string({ unit: "binary", maxLength: 100 }), fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b).toString("utf8")), fc.json({ maxDepth: 3 })) },
    { weight: 1, arbitrary: fc.constantFrom("", "[]", "null", "{}", "[[]]", `[${"[".repeat(5000)}${"]".repeat(5000)}]`, JSON.stringify(Array.from({ length: 5001 }, () => ({})))) },
    {
      weight: 1,
      arbitrary: fc.record({ code: fc.oneof(fc.uuid(), fc.constantFrom("", null, 5)) }).map(({ code }) => JSON.stringify([{ id: "v", eventType: "Microsoft.EventGrid.SubscriptionValidationEvent", data: { validationCode: code } }])),
    },
  );
  const headers = fc.record(
    { "aeg-event-type": fc.oneof(fc.constantFrom("Notification", "SubscriptionValidation", "SubscriptionDeletion", "notification", ""), hostileText.map((s) => s.replace(/[^\x20-\x7e]/g, ""))), "webhook-request-origin": fc.constantFrom("eventgrid.azure.net", "evil.example", "") },
    { requiredKeys: [] },
  );

  it("the webhook: a clear 400, a handshake, or each event acknowledged as rejected; never a 500; changes nothing", async () => {
    let badRequests = 0;
    await fc.assert(
      fc.asyncProperty(method, headers, body, async (m, h, text) => {
        const mark = t.exchanges.length;
        const writesBefore = storeWrites.length;
        const sendsBody = m !== "GET" && text !== "";
        const request = new HttpRequest({ method: m, url: "http://127.0.0.1/api/events", headers: h as Record<string, string>, ...(sendsBody ? { body: { string: text } } : {}) });
        const errors: string[] = [];
        const context = new InvocationContext({ invocationId: "prop", functionName: "keyEventsWebhook", logHandler: (level, ...args) => (level === "error" ? errors.push(args.map(String).join(" ")) : undefined) });
        const response = await keyEventsWebhookHandler(request, context);
        const status = response.status ?? 200;
        const responseHeaders = response.headers as Record<string, string>;
        expect(responseHeaders["x-content-type-options"]).toBe("nosniff");
        expect(responseHeaders["cache-control"]).toBe("no-store");
        expect(errors).toEqual([]);
        expect([200, 400]).toContain(status);
        if (status === 400) {
          badRequests++;
          const error = (response.jsonBody as { error: { code: string; message: string } }).error;
          expect(error.code).toBe("BadRequest");
          expect(error.message.length).toBeGreaterThan(10);
        } else if (response.jsonBody !== undefined && "results" in (response.jsonBody as object)) {
          const results = (response.jsonBody as { results: { outcome: string }[] }).results;
          expect(results.length).toBeGreaterThan(0);
          expect(results.filter((r) => !REJECTED.has(r.outcome))).toEqual([]);
        }
        expect(writesSince(mark)).toEqual([]);
        expect(storeWrites.slice(writesBefore)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
    expect(badRequests).toBeGreaterThan(5);
  });

  // Last, since it changes the estate: the same recorders see a well-formed event's work, so the properties above
  // would fail if a rejected event wrote anything.
  it("control: a well-formed KeyNewVersionCreated for a managed key is acted on, and the recorders see its writes", async () => {
    const snapshot = await t.collect();
    const key = snapshot.managedHsms.flatMap((h) => h.keys ?? []).find((k) => k.name === "Contoso-DISK-CMK");
    expect(key?.currentVersion).toBeTruthy();
    const mark = t.exchanges.length;
    const writesBefore = storeWrites.length;
    const lines: string[] = [];
    const context = new InvocationContext({ invocationId: "control", functionName: "keyEvents", logHandler: (_level, ...args) => lines.push(args.map(String).join(" ")) });
    const event = { id: "control-1", eventType: KEY_VAULT_EVENT_TYPES.newVersion, subject: "Contoso-DISK-CMK", eventTime: new Date().toISOString(), dataVersion: "1", data: { Id: `https://${HSM_HOST}/keys/Contoso-DISK-CMK/${key?.currentVersion}`, ObjectType: "Key", ObjectName: "Contoso-DISK-CMK", Version: key?.currentVersion } };
    await keyEventsHandler(event, context);
    const entry = lines.map((l) => JSON.parse(l) as { event?: string; outcome?: string }).find((e) => e.event === "KeyWarden.EventHandled");
    expect(entry?.outcome).toBe("propagated");
    expect(storeWrites.slice(writesBefore).some((w) => w.startsWith("put events/received/"))).toBe(true);
    expect(writesSince(mark).length).toBeGreaterThan(0);
  });
});
