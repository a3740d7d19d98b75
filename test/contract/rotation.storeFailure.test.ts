import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvocationContext, type Timer } from "@azure/functions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { keyRotationHandler } from "../../src/functions/keyRotation.js";
import { ROTATIONS_STREAM } from "../../src/lib/alerts/alertRows.js";
import { systemClock, type Clock } from "../../src/lib/clock.js";
import { createLogsSink } from "../../src/lib/azure/logsIngestion.js";
import { handleKeyEvent, TransientEventError } from "../../src/lib/events/handleKeyEvent.js";
import { KEY_VAULT_EVENT_TYPES, keyVaultEvents } from "../../src/lib/events/keyVaultEvents.js";
import { collectEstate } from "../../src/lib/inventory/collect.js";
import { RunNotStartedError } from "../../src/lib/rotation/executor.js";
import { readRun } from "../../src/lib/rotation/journal.js";
import { createRuntime, setRuntime } from "../../src/lib/runtime.js";
import { createLocalDirectoryStore } from "../../src/lib/state/localDirectoryStore.js";
import { isWrite, startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { CONTOSO_TOPIC, topicKey } from "../support/eventTopic.js";
import { failingStore, type StoreCall } from "../support/failingStore.js";
import { rotationHarness } from "../support/rotationHarness.js";

const RULE = "dcr-keywarden";
const TIMER: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };
/** Every key's current version is older than rotateAfter (P180D). */
const ALL_DUE = "P181D";

interface StoredRow {
  row: Record<string, unknown>;
}

/**
 * When the state store itself fails (issue 10): the run stops before it changes anything, and its alert still
 * reaches Azure Monitor although the alerts outbox lives in that same store. The real timer handler, the real
 * Logs Ingestion client and the emulator's data collection endpoint; the store is a real local directory behind a
 * proxy that fails the calls a test picks.
 */
describe("a rotation the state store stops (reference estate, all keys due)", () => {
  let t: TestEmulator;
  let dir: string;
  let secretTopicKey: string;
  const logs: [string, string][] = [];

  const rows = async (): Promise<StoredRow[]> => ((await t.control("GET", `/_emulator/monitor/rules/${RULE}/streams/${ROTATIONS_STREAM}/rows`)) as { rows: StoredRow[] }).rows;

  /** The timer's runtime on the emulator, its store failing the calls `fails` picks. */
  async function runtimeWith(fails: (call: StoreCall) => boolean) {
    let now = new Date(((await t.control("GET", "/_emulator/clock")) as { now: string }).now);
    const clock: Clock = { now: () => new Date(now) };
    const { rules } = (await t.control("GET", "/_emulator/monitor/rules")) as { rules: { name: string; immutableId: string }[] };
    const env = t.env({
      KEYWARDEN_STATE_DIR: dir,
      KEYWARDEN_ROTATION_MODE: "execute",
      KEYWARDEN_EVENTS_TOPIC_ENDPOINT: t.emulator.topicEndpoint(CONTOSO_TOPIC),
      KEYWARDEN_EVENTS_TOPIC_KEY: secretTopicKey,
      KEYWARDEN_MONITOR_INGESTION_ENDPOINT: t.emulator.ingestionEndpoint(RULE),
      KEYWARDEN_MONITOR_DCR_ID: String(rules.find((r) => r.name === RULE)?.immutableId),
    });
    const created = await createRuntime({ env, clock });
    const store = failingStore(created.store, fails);
    setRuntime({ ...created, store });
    now = new Date(((await t.control("GET", "/_emulator/clock")) as { now: string }).now);
    return { store, runtime: created };
  }

  const round = async (): Promise<unknown> => {
    logs.length = 0;
    try {
      await keyRotationHandler(TIMER, new InvocationContext({ invocationId: "store-down", functionName: "keyRotation", logHandler: (level, ...args) => logs.push([level, args.map(String).join(" ")]) }));
      return undefined;
    } catch (error) {
      return error;
    }
  };

  /** Nothing secret in what Azure Monitor received: no topic key, no token, no certificate, no connection string. */
  const expectNoSecret = (text: string) => {
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(secretTopicKey);
    for (const marker of ["Bearer ", "eyJ", "-----BEGIN", "AccountKey=", "SharedAccessSignature", "sig="]) expect(text).not.toContain(marker);
  };

  beforeAll(async () => {
    t = await startTestEmulator("contoso-reference");
    secretTopicKey = await topicKey(t);
  });
  afterAll(async () => {
    setRuntime(undefined);
    await t?.close();
  });
  beforeEach(async () => {
    await t.control("POST", "/_emulator/reset");
    await t.control("POST", "/_emulator/config", { lroRetryAfterSeconds: 0 });
    await t.control("DELETE", `/_emulator/monitor/rules/${RULE}/streams/${ROTATIONS_STREAM}/rows`);
    await t.control("POST", "/_emulator/clock", { advance: ALL_DUE });
    dir = await mkdtemp(join(tmpdir(), "kw-store-down-"));
    return () => rm(dir, { recursive: true, force: true });
  });

  it("store down at the journal's first record: nothing changes, the invocation fails, and a failed row per due key goes straight to Logs Ingestion", async () => {
    const { store } = await runtimeWith(() => true);
    const mark = t.exchanges.length;
    const thrown = await round();

    expect(thrown).toBeInstanceOf(RunNotStartedError);
    expect((thrown as RunNotStartedError).stage).toBe("journal");
    expect(store.failed.some((c) => c.name.startsWith("runs/"))).toBe(true);
    // the outbox (its items, its flush lease) could not take the rows either: they went past it
    expect(store.failed.some((c) => c.name.startsWith("alerts/") || c.name.startsWith("locks/alerts"))).toBe(true);
    const azureWrites = t.exchanges.slice(mark).filter(isWrite);
    expect(azureWrites.length).toBeGreaterThan(0);
    expect(azureWrites.filter((e) => e.operationId !== "Upload")).toEqual([]);

    const received = await rows();
    const keys = (thrown as RunNotStartedError).keys.map((k) => k.name).sort();
    expect(keys.length).toBeGreaterThan(0);
    expect(received.map((r) => String(r.row.KeyName)).sort()).toEqual(keys);
    expect(received.filter((r) => r.row.Transition !== "failed" || r.row.RunId !== (thrown as RunNotStartedError).runId)).toEqual([]);
    expect(received.filter((r) => (r.row.Details as { stage?: string }).stage !== "journal")).toEqual([]);
    expect(String(received[0]?.row.Message)).toMatch(/did not start: the state store failed \(the journal's first record\)\. Nothing was changed/);
    expectNoSecret(JSON.stringify(received));

    // and the log says so, with the same rows
    expect(logs.filter(([, line]) => line.startsWith('{"event":"KeyWarden.Alert"') && line.includes('"Transition":"failed"'))).toHaveLength(received.length);
    expect(logs.some(([level, line]) => level === "error" && /did not start.*went straight to Azure Monitor \(the alerts outbox could not be written\)/.test(line))).toBe(true);
    expectNoSecret(logs.map(([, l]) => l).join("\n"));
  });

  it("the key's lock cannot be taken: the run stops at that key, and its failed row still arrives", async () => {
    // The journal works; leases (the key's lock, and the outbox's) and the alerts outbox do not.
    const { store } = await runtimeWith((c) => c.method === "acquireLease" || c.name.startsWith("alerts/"));
    const mark = t.exchanges.length;
    const thrown = await round();

    expect(thrown).toBeInstanceOf(RunNotStartedError);
    const error = thrown as RunNotStartedError;
    expect([error.stage, error.keys.length]).toEqual(["lock", 1]);
    expect(store.failed.some((c) => c.method === "acquireLease" && c.name.startsWith("locks/"))).toBe(true);
    expect(t.exchanges.slice(mark).filter(isWrite).filter((e) => e.operationId !== "Upload")).toEqual([]);
    // the run itself was journaled: run.started only
    expect((await readRun(store, error.runId)).map((r) => r.type)).toEqual(["run.started"]);

    const received = await rows();
    expect(received).toHaveLength(1);
    expect(received[0]?.row).toMatchObject({ Transition: "failed", RunId: error.runId, KeyName: error.keys[0]?.name, Details: { stage: "lock", runId: error.runId } });
    expectNoSecret(JSON.stringify(received));
  });

  it("only the journal fails: the row goes through the alerts outbox as every alert does, once", async () => {
    const { runtime } = await runtimeWith((c) => c.name.startsWith("runs/"));
    const thrown = await round();

    expect(thrown).toBeInstanceOf(RunNotStartedError);
    const received = await rows();
    expect(received.length).toBeGreaterThan(0);
    expect(received.filter((r) => r.row.Transition !== "failed")).toEqual([]);
    expect(logs.some(([level, line]) => level === "error" && /went through the alerts outbox/.test(line))).toBe(true);
    // recorded as sent in the outbox: no later flush sends it again
    const sent = (await runtime.store.list("alerts/")).filter((n) => n.includes("/sent/"));
    expect(sent).toHaveLength(received.length);
    expect((await runtime.store.list("alerts/")).filter((n) => n.includes("/pending/"))).toEqual([]);
  });
});

describe("the key event handler when the state store stops its run", () => {
  it("raises the failed row past the outbox and fails the delivery, so that Event Grid redelivers it", async () => {
    const t = await startTestEmulator("contoso-reference");
    try {
      const { rules } = (await t.control("GET", "/_emulator/monitor/rules")) as { rules: { name: string; immutableId: string }[] };
      const h = await rotationHarness(t, { env: { KEYWARDEN_MONITOR_INGESTION_ENDPOINT: t.emulator.ingestionEndpoint(RULE), KEYWARDEN_MONITOR_DCR_ID: String(rules.find((r) => r.name === RULE)?.immutableId) } });
      const { settings } = h.config;
      if (!settings.monitor) throw new Error("no monitor settings");
      // What the handler reads of events/ works; the journal and the alerts outbox do not.
      const store = failingStore(h.store, (c) => c.name.startsWith("runs/") || c.name.startsWith("alerts/") || c.name.startsWith("locks/alerts"));
      const config = { ...h.config, settings: { ...settings, rotationMode: "execute" as const } };
      const logged: string[] = [];
      const deps = { config, clients: h.clients, store, clock: h.clock, collect: () => collectEstate(config, h.clients, h.clock), logsSink: createLogsSink({ ...settings, monitor: settings.monitor }), log: (line: string) => logged.push(line), owner: "test" };
      const created = keyVaultEvents(await deps.collect(), config.policy, h.clock.now()).find((e) => e.event.type === KEY_VAULT_EVENT_TYPES.newVersion && e.event.subject === "Contoso-SQLMI-CMK")?.event;
      if (!created) throw new Error("no KeyNewVersionCreated for Contoso-SQLMI-CMK");
      const nearExpiry = { id: "22222222-2222-4222-8222-222222222222", topic: "/subscriptions/0/resourceGroups/rg/providers/Microsoft.EventGrid/topics/kw", subject: created.subject, eventType: KEY_VAULT_EVENT_TYPES.nearExpiry, eventTime: created.time, data: created.data, dataVersion: "1", metadataVersion: "1" };
      const mark = h.mark();

      const outcome = await handleKeyEvent(nearExpiry, deps).catch((e: unknown) => e);
      expect(outcome).toBeInstanceOf(TransientEventError);
      expect((outcome as Error).message).toMatch(/did not start.*its alert went straight to Azure Monitor; the event will be redelivered/);
      expect(h.writesSince(mark).filter((e) => e.operationId !== "Upload")).toEqual([]);
      const received = ((await t.control("GET", `/_emulator/monitor/rules/${RULE}/streams/${ROTATIONS_STREAM}/rows`)) as { rows: StoredRow[] }).rows;
      expect(received.map((r) => [r.row.Transition, r.row.KeyName, (r.row.Details as { stage?: string }).stage])).toEqual([["failed", "Contoso-SQLMI-CMK", "journal"]]);
      expect(logged.filter((l) => l.startsWith('{"event":"KeyWarden.Alert"'))).toHaveLength(1);
      await h.close();
    } finally {
      await t.close();
    }
  });
});

describe("a step.started journal write that fails", () => {
  it("is reported as the journal write that failed, not as a read, and nothing is written to Azure", async () => {
    const t = await startTestEmulator("contoso-reference");
    const dir = await mkdtemp(join(tmpdir(), "kw-step-started-"));
    try {
      await t.control("POST", "/_emulator/clock", { advance: ALL_DUE });
      let journalWrites = 0;
      // run.started is written; every journal record after it (the first step.started) fails
      const store = failingStore(createLocalDirectoryStore(dir, { clock: systemClock }), (c) => c.method === "create" && c.name.startsWith("runs/") && ++journalWrites > 1);
      const h = await rotationHarness(t, { store });
      const plan = await h.plan();
      const first = plan.steps[0];
      expect(first).toBeDefined();
      const mark = h.mark();
      const run = await h.execute(plan);

      const outcome = run.outcomes.find((o) => o.stepId === first?.id);
      expect(outcome?.status).toBe("failed");
      expect(outcome?.message).toMatch(/^the journal write failed, so .+ was not changed: .*503 ServerBusy/);
      expect(run.outcomes.filter((o) => /a read failed/.test(o.message))).toEqual([]);
      expect(store.failed.length).toBeGreaterThan(0);
      expect(h.writesSince(mark)).toEqual([]);
      await h.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
      await t.close();
    }
  });
});
