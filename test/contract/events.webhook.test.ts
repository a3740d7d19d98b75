import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpRequest, InvocationContext } from "@azure/functions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deliverEvents } from "../../emulator/eventDelivery.js";
import { keyEventsWebhookHandler } from "../../src/functions/keyEventsWebhook.js";
import { publishEvents } from "../../src/lib/events/publishRoundEvents.js";
import { keyVaultEvents } from "../../src/lib/events/keyVaultEvents.js";
import { collectEstate } from "../../src/lib/inventory/collect.js";
import { listRunIds, readRun } from "../../src/lib/rotation/journal.js";
import { createRuntime, setRuntime, type Runtime } from "../../src/lib/runtime.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { CONTOSO_TOPIC as TOPIC, resetForRotation, topicKey, withCloudEventsTopic } from "../support/eventTopic.js";


/**
 * POST|OPTIONS /api/events used as a plain webhook: a local HTTP server hands each request to the function handler
 * as the Functions host would, and the emulator's delivery simulator runs Event Grid's validation handshake, then
 * delivers what the topic received.
 */
describe("the events webhook under Event Grid's webhook protocol", () => {
  let t: TestEmulator;
  let server: Server;
  let url: string;
  let stateDir: string;
  let runtime: Runtime;
  const statuses: number[] = [];

  beforeAll(async () => {
    t = await startTestEmulator("contoso-drifted");
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        const body = Buffer.concat(chunks).toString("utf8");
        const request = new HttpRequest({ method: req.method ?? "POST", url: `http://127.0.0.1${req.url}`, headers, ...(body ? { body: { string: body } } : {}) });
        void keyEventsWebhookHandler(request, new InvocationContext({ invocationId: "wh", functionName: "keyEventsWebhook", logHandler: () => undefined })).then((r) => {
          statuses.push(r.status ?? 200);
          const out = r.jsonBody === undefined ? "" : JSON.stringify(r.jsonBody);
          res.writeHead(r.status ?? 200, { ...(r.headers as Record<string, string>), ...(out ? { "content-type": "application/json" } : {}) });
          res.end(out);
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/api/events`;
  });
  afterAll(async () => {
    setRuntime(undefined);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await t.close();
  });
  beforeEach(async () => {
    await resetForRotation(t);
    stateDir = mkdtempSync(join(tmpdir(), "kw-webhook-"));
    statuses.length = 0;
    return () => rmSync(stateDir, { recursive: true, force: true });
  });

  async function publishKeyEvents(env: Record<string, string> = {}): Promise<void> {
    runtime = await createRuntime({
      env: t.env({ KEYWARDEN_STATE_DIR: stateDir, KEYWARDEN_ROTATION_MODE: "execute", KEYWARDEN_EVENTS_TOPIC_ENDPOINT: t.emulator.topicEndpoint(TOPIC), KEYWARDEN_EVENTS_TOPIC_KEY: await topicKey(t), ...env }),
    });
    setRuntime(runtime);
    const events = keyVaultEvents(await collectEstate(runtime.config, runtime.clients, runtime.clock), runtime.config.policy, runtime.clock.now());
    const out = await publishEvents(events, { store: runtime.store, clock: runtime.clock, publisher: runtime.publisher as NonNullable<Runtime["publisher"]>, owner: "test" });
    expect(out.flushed.sent).toHaveLength(events.length);
  }

  async function rotations(): Promise<number> {
    let n = 0;
    for (const id of await listRunIds(runtime.store)) for (const r of await readRun(runtime.store, id)) if (r.type === "step.finished" && r.kind === "rotateKey" && r.outcome === "changed") n += 1;
    return n;
  }

  it("passes Event Grid's subscription validation, then handles the deliveries: one rotation", async () => {
    await publishKeyEvents();
    const result = await deliverEvents(t.emulator.endpoint, t.emulator.caPem, { topic: TOPIC, seed: 5, duplicateRate: 0.5, target: { kind: "webhook", url, validate: true } });
    expect(result.dropped).toBe(0);
    expect(result.expired).toBe(0);
    expect(statuses.length).toBeGreaterThan(result.delivered);
    expect(await rotations()).toBe(1);
  });

  it("passes the CloudEvents OPTIONS handshake for a CloudEvents topic", async () => {
    await withCloudEventsTopic(t, async () => {
      await publishKeyEvents({ KEYWARDEN_EVENTS_SCHEMA: "CloudEventSchemaV1_0" });
      const result = await deliverEvents(t.emulator.endpoint, t.emulator.caPem, { topic: TOPIC, seed: 2, target: { kind: "webhook", url, validate: true } });
      expect(result.dropped).toBe(0);
      expect(await rotations()).toBe(1);
    });
  });

  it("a transient failure answers 500, and Event Grid's retry (10 s later on the emulator clock) succeeds", async () => {
    await publishKeyEvents();
    await t.control("POST", "/_emulator/faults", { operationId: "GetKeys", status: 503, count: 1 });
    const result = await deliverEvents(t.emulator.endpoint, t.emulator.caPem, { topic: TOPIC, seed: 1, duplicateRate: 0, shuffle: false, target: { kind: "webhook", url } });
    const failed = result.records.filter((r) => r.outcome === "failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.status).toBe(500);
    const retried = result.records.find((r) => r.seq === failed[0]?.seq && r.attempt === 2);
    expect(retried?.outcome).toBe("delivered");
    expect(Date.parse(String(retried?.at)) - Date.parse(String(failed[0]?.at))).toBeGreaterThanOrEqual(10_000);
    expect(await rotations()).toBe(1);
  });
});
