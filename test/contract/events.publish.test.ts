import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvocationContext, type Timer } from "@azure/functions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deliverEvents } from "../../emulator/eventDelivery.js";
import { keyRotationHandler } from "../../src/functions/keyRotation.js";
import { handleKeyEvent, type KeyEventResult } from "../../src/lib/events/handleKeyEvent.js";
import { KEY_VAULT_EVENT_TYPES } from "../../src/lib/events/keyVaultEvents.js";
import { KEYWARDEN_EVENT_TYPES } from "../../src/lib/events/keywardenEvents.js";
import { eventDepsOf } from "../../src/lib/events/runtimeEventDeps.js";
import { listRunIds, readRun } from "../../src/lib/rotation/journal.js";
import { createRuntime, setRuntime, type Runtime } from "../../src/lib/runtime.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { validateEventSchema, type EventSchemaKind } from "../support/eventSchemas.js";
import { CONTOSO_TOPIC as TOPIC, resetForRotation, topicKey, withCloudEventsTopic } from "../support/eventTopic.js";

/** The KeyVault.json definition of each Key Vault event type's data. */
const KEY_VAULT_DATA: Readonly<Record<string, EventSchemaKind>> = {
  [KEY_VAULT_EVENT_TYPES.nearExpiry]: "KeyVaultKeyNearExpiryEventData",
  [KEY_VAULT_EVENT_TYPES.expired]: "KeyVaultKeyExpiredEventData",
  [KEY_VAULT_EVENT_TYPES.newVersion]: "KeyVaultKeyNewVersionCreatedEventData",
};

/** Problems of one published event against the official schemas: the envelope, and Key Vault's data definitions. */
function schemaProblems(event: Stored["event"], envelope: "EventGridEvent" | "CloudEventEvent"): string[] {
  const type = String(event.eventType ?? event.type);
  const dataKind = KEY_VAULT_DATA[type];
  return [...validateEventSchema(envelope, event), ...(dataKind ? validateEventSchema(dataKind, event.data) : [])].map((p) => `${type} ${event.id}: ${p}`);
}

const TIMER: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };

interface Stored {
  seq: number;
  receivedAt: string;
  event: Record<string, unknown> & { id: string; eventType?: string; type?: string; subject: string; data: Record<string, unknown> };
}

/**
 * Publishing through the real EventGridPublisherClient to the emulator's custom topic, from the rotation timer as
 * the host calls it, and the published events delivered back (at least once, shuffled, duplicated) to the handler.
 */
describe("events published by the rotation timer (drifted estate on the emulator)", () => {
  let t: TestEmulator;
  let stateDir: string;
  let runtime: Runtime;
  const logs: [string, string][] = [];
  const context = () => new InvocationContext({ invocationId: "timer-1", functionName: "keyRotation", logHandler: (level, ...args) => logs.push([level, args.map(String).join(" ")]) });

  async function stored(): Promise<Stored[]> {
    return ((await t.control("GET", `/_emulator/eventgrid/topics/${TOPIC}/events`)) as { events: Stored[] }).events;
  }
  async function start(env: Record<string, string>): Promise<void> {
    runtime = await createRuntime({ env: t.env({ KEYWARDEN_STATE_DIR: stateDir, KEYWARDEN_EVENTS_TOPIC_ENDPOINT: t.emulator.topicEndpoint(TOPIC), ...env }) });
    setRuntime(runtime);
  }

  beforeAll(async () => {
    t = await startTestEmulator("contoso-drifted");
  });
  afterAll(async () => {
    setRuntime(undefined);
    await t.close();
  });
  beforeEach(async () => {
    await resetForRotation(t);
    stateDir = mkdtempSync(join(tmpdir(), "kw-events-pub-"));
    logs.length = 0;
    return () => rmSync(stateDir, { recursive: true, force: true });
  });

  it("publishes each key's Key Vault events and KeyWarden's own once: a second run publishes nothing new", async () => {
    await start({ KEYWARDEN_EVENTS_TOPIC_KEY: await topicKey(t) });
    await keyRotationHandler(TIMER, context());
    const first = await stored();
    const types = first.map((s) => `${s.event.eventType} ${s.event.subject}`).sort();
    expect(types).toEqual([
      `${KEYWARDEN_EVENT_TYPES.consumerLagging} Contoso-DISK-CMK`,
      `${KEYWARDEN_EVENT_TYPES.rotationPending} Contoso-STORAGE-CMK`,
      `${KEY_VAULT_EVENT_TYPES.nearExpiry} Contoso-STORAGE-CMK`,
      `${KEY_VAULT_EVENT_TYPES.newVersion} Contoso-DISK-CMK`,
      `${KEY_VAULT_EVENT_TYPES.newVersion} Contoso-SQLMI-CMK`,
      `${KEY_VAULT_EVENT_TYPES.newVersion} Contoso-STORAGE-CMK`,
    ]);
    const near = first.find((s) => s.event.eventType === KEY_VAULT_EVENT_TYPES.nearExpiry)?.event;
    expect(Object.keys(near?.data ?? {}).sort()).toEqual(["EXP", "Id", "NBF", "ObjectName", "ObjectType", "VaultName", "Version"]);
    expect(near).toMatchObject({ subject: "Contoso-STORAGE-CMK", dataVersion: "1", metadataVersion: "1", data: { ObjectType: "Key", VaultName: "contoso-prod-hsm" } });
    expect(logs.some(([, line]) => /"event":"KeyWarden.EventsPublished".*"sent":6/.test(line))).toBe(true);
    // every event validates against the Event Grid and Key Vault event schemas of the official specs
    expect(first.flatMap((s) => schemaProblems(s.event, "EventGridEvent"))).toEqual([]);
    // and the Key Vault data carries every field Key Vault sends, typed as Key Vault types them
    for (const s of first.filter((x) => KEY_VAULT_DATA[String(x.event.eventType)])) {
      expect(s.event.data, String(s.event.eventType)).toMatchObject({ Id: expect.stringMatching(/^https:\/\/contoso-prod-hsm\.managedhsm\.azure\.net(:\d+)?\/keys\/[^/]+\/[0-9a-f]{32}$/), Version: expect.stringMatching(/^[0-9a-f]{32}$/) });
      expect([s.event.data.NBF, s.event.data.EXP].filter((v) => v !== null && typeof v !== "number")).toEqual([]);
    }

    await keyRotationHandler(TIMER, context());
    expect(await stored()).toHaveLength(first.length);
  });

  it("retries a failed publish on the next run, with the same event ids, and loses nothing", async () => {
    await start({ KEYWARDEN_EVENTS_TOPIC_KEY: await topicKey(t) });
    await t.control("POST", "/_emulator/faults", { host: "eventgrid", status: 503, count: 1 });
    await keyRotationHandler(TIMER, context());
    expect(await stored()).toEqual([]);
    expect(logs.some(([level, line]) => level === "warning" && /stays queued for the next run/.test(line))).toBe(true);

    await keyRotationHandler(TIMER, context());
    const after = await stored();
    expect(after).toHaveLength(6);
    expect(new Set(after.map((s) => s.event.id)).size).toBe(6);
  });

  it("publishes CloudEvents with the managed identity (a bearer token) to a CloudEvents topic", async () => {
    await withCloudEventsTopic(t, async () => {
      await start({ KEYWARDEN_EVENTS_SCHEMA: "CloudEventSchemaV1_0" });
      await keyRotationHandler(TIMER, context());
      const events = (await stored()).map((s) => s.event);
      expect(events).toHaveLength(6);
      for (const e of events) expect(e).toMatchObject({ specversion: "1.0", source: expect.stringMatching(/\/providers\/Microsoft\.KeyVault\/managedHSMs\//i), datacontenttype: "application/json" });
      expect(events.flatMap((e) => schemaProblems(e, "CloudEventEvent"))).toEqual([]);
      expect(events.map((e) => e.type).sort()).toContain(KEY_VAULT_EVENT_TYPES.nearExpiry);
    });
  });

  it("logs as an error each event the topic refuses as malformed (the wrong schema), and sends the facts once the setting is fixed", async () => {
    await start({ KEYWARDEN_EVENTS_TOPIC_KEY: await topicKey(t), KEYWARDEN_EVENTS_SCHEMA: "CloudEventSchemaV1_0" });
    await keyRotationHandler(TIMER, context());
    expect(await stored()).toEqual([]);
    expect(logs.filter(([level, line]) => level === "error" && /refused by the topic/.test(line))).toHaveLength(6);
    // the operator fixes KEYWARDEN_EVENTS_SCHEMA: the next run sends every fact, in the right schema
    await start({ KEYWARDEN_EVENTS_TOPIC_KEY: await topicKey(t) });
    await keyRotationHandler(TIMER, context());
    expect(await stored()).toHaveLength(6);
  });

  it("the published events, delivered at least once and in no order, cause exactly one rotation", async () => {
    await start({ KEYWARDEN_EVENTS_TOPIC_KEY: await topicKey(t), KEYWARDEN_ROTATION_MODE: "plan" });
    // the timer proposes only; the events carry the news
    await keyRotationHandler(TIMER, context());
    const handlerRuntime = await createRuntime({ env: t.env({ KEYWARDEN_STATE_DIR: stateDir, KEYWARDEN_ROTATION_MODE: "execute", KEYWARDEN_EVENTS_TOPIC_ENDPOINT: t.emulator.topicEndpoint(TOPIC), KEYWARDEN_EVENTS_TOPIC_KEY: await topicKey(t) }) });
    const results: KeyEventResult[] = [];
    const delivery = await deliverEvents(t.emulator.endpoint, t.emulator.caPem, {
      topic: TOPIC,
      seed: 3,
      duplicateRate: 0.5,
      target: { kind: "function", handler: async (event) => results.push(await handleKeyEvent(event, eventDepsOf(handlerRuntime, "delivery"))) },
    });
    expect(delivery.dropped).toBe(0);
    expect(delivery.expired).toBe(0);
    expect(delivery.delivered).toBeGreaterThan(6);
    expect(results.filter((r) => r.outcome === "rotated").map((r) => r.key?.name)).toEqual(["Contoso-STORAGE-CMK"]);
    let rotations = 0;
    for (const runId of await listRunIds(handlerRuntime.store)) for (const r of await readRun(handlerRuntime.store, runId)) if (r.type === "step.finished" && r.kind === "rotateKey" && r.outcome === "changed") rotations += 1;
    expect(rotations).toBe(1);
    // the handler published what its run did: the new version (to be propagated) and KeyWarden's own events
    const published = (await stored()).map((s) => `${s.event.eventType} ${s.event.subject}`);
    expect(published).toContain(`${KEY_VAULT_EVENT_TYPES.newVersion} Contoso-STORAGE-CMK`);
    expect(((await t.control("GET", "/_emulator/access/lost")) as { count: number }).count).toBe(0);
  });
});
