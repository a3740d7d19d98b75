import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpRequest, InvocationContext } from "@azure/functions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { keyEventsHandler } from "../../src/functions/keyEvents.js";
import { keyEventsWebhookHandler } from "../../src/functions/keyEventsWebhook.js";
import { TransientEventError } from "../../src/lib/events/handleKeyEvent.js";
import { KEY_VAULT_EVENT_TYPES, keyVaultEvents } from "../../src/lib/events/keyVaultEvents.js";
import { createRuntime, setRuntime, type Runtime } from "../../src/lib/runtime.js";
import { collectEstate } from "../../src/lib/inventory/collect.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";

/** The event functions as the Functions host calls them, against the emulator (the handler's logic is in events.handler.test.ts). */
describe("event functions", () => {
  let t: TestEmulator;
  let runtime: Runtime;
  let stateDir: string;
  let nearExpiry: Record<string, unknown>;
  let storageNearExpiry: Record<string, unknown>;
  const logs: [string, string][] = [];
  const context = (name: string) => new InvocationContext({ invocationId: "inv-1", functionName: name, logHandler: (level, ...args) => logs.push([level, args.map(String).join(" ")]) });
  const post = (body: string, headers: Record<string, string> = { "aeg-event-type": "Notification" }) =>
    keyEventsWebhookHandler(new HttpRequest({ method: "POST", url: "http://localhost:7071/api/events", headers, body: { string: body } }), context("keyEventsWebhook"));

  beforeAll(async () => {
    t = await startTestEmulator("contoso-reference");
    stateDir = mkdtempSync(join(tmpdir(), "kw-events-fn-"));
    runtime = await createRuntime({ env: t.env({ KEYWARDEN_ROTATION_MODE: "execute", KEYWARDEN_STATE_DIR: stateDir }) });
    setRuntime(runtime);
    const published = keyVaultEvents(await collectEstate(runtime.config, runtime.clients, runtime.clock), runtime.config.policy, runtime.clock.now());
    const near = (key: string, id: string) => {
      const created = published.find((e) => e.event.type === KEY_VAULT_EVENT_TYPES.newVersion && e.event.subject === key)?.event;
      return { id, topic: "/t", subject: created?.subject, eventType: KEY_VAULT_EVENT_TYPES.nearExpiry, eventTime: created?.time, data: created?.data, dataVersion: "1", metadataVersion: "1" };
    };
    nearExpiry = near("Contoso-SQLMI-CMK", "22222222-2222-4222-8222-222222222222");
    storageNearExpiry = near("Contoso-STORAGE-CMK", "33333333-3333-4333-8333-333333333333");
  });
  afterAll(async () => {
    setRuntime(undefined);
    await t.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    logs.length = 0;
  });

  it("webhook: answers Event Grid's subscription validation and the CloudEvents handshake", async () => {
    const validation = await post(JSON.stringify([{ id: "v1", topic: "/t", subject: "", eventType: "Microsoft.EventGrid.SubscriptionValidationEvent", eventTime: "2026-12-01T00:00:00Z", data: { validationCode: "code-123", validationUrl: "https://rp/validate" }, dataVersion: "2", metadataVersion: "1" }]), {
      "aeg-event-type": "SubscriptionValidation",
    });
    expect(validation.status).toBe(200);
    expect(validation.jsonBody).toEqual({ validationResponse: "code-123" });
    const options = await keyEventsWebhookHandler(new HttpRequest({ method: "OPTIONS", url: "http://localhost:7071/api/events", headers: { "webhook-request-origin": "eventgrid.azure.net" } }), context("keyEventsWebhook"));
    expect(options.status).toBe(200);
    expect((options.headers as Record<string, string>)["webhook-allowed-origin"]).toBe("eventgrid.azure.net");
  });

  it("webhook: 400 for a body that is no delivery, 200 with outcomes for events, 500 (redeliver) on a transient failure without its reason", async () => {
    expect((await post("{not json")).status).toBe(400);
    const acked = await post(JSON.stringify([{ id: "m1", eventType: "Microsoft.KeyVault.KeyNearExpiry", data: {} }, { ...nearExpiry, id: "x1", eventType: "KeyWarden.RotationCompleted" }]));
    expect(acked.status).toBe(200);
    expect(acked.jsonBody).toEqual({ results: [{ eventId: "m1", outcome: "malformed" }, { eventId: "x1", outcome: "ignored" }] });

    await t.control("POST", "/_emulator/faults", { operationId: "GetKeys", status: 503, count: 1 });
    const failed = await post(JSON.stringify([nearExpiry]));
    expect(failed.status).toBe(500);
    expect(failed.jsonBody).toMatchObject({ error: { code: "RetryLater", correlationId: "inv-1" } });
    expect(JSON.stringify(failed.jsonBody)).not.toMatch(/GetKeys|503|managedhsm/);
    expect(logs.some(([level, line]) => level === "error" && /correlation id inv-1/.test(line))).toBe(true);

    const redelivered = await post(JSON.stringify([nearExpiry]));
    expect(redelivered.status).toBe(200);
    expect(redelivered.jsonBody).toEqual({ results: [{ eventId: nearExpiry.id, outcome: "rotated" }] });
  });

  it("Event Grid trigger: acknowledges a malformed event with a warning, and throws a transient failure so that it is retried", async () => {
    await expect(keyEventsHandler({ id: "m2", eventType: "Microsoft.KeyVault.KeyExpired", data: { Id: 3 } }, context("keyEvents"))).resolves.toBeUndefined();
    expect(logs.some(([level, line]) => level === "warning" && /"outcome":"malformed"/.test(line))).toBe(true);
    await t.control("POST", "/_emulator/faults", { operationId: "GetKeys", status: 503, count: 1 });
    await expect(keyEventsHandler(storageNearExpiry, context("keyEvents"))).rejects.toBeInstanceOf(TransientEventError);
  });
});
