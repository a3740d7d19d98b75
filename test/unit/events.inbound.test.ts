import { describe, expect, it } from "vitest";
import { dataField, parseInboundEvent } from "../../src/lib/events/inboundEvent.js";
import { webhookRequest } from "../../src/lib/events/webhookRequest.js";

const KV_EVENT = {
  id: "00eccf70-95a7-4e7c-8299-2eb17ee9ad64",
  topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/sample-kv",
  subject: "cmk1",
  eventType: "Microsoft.KeyVault.KeyNearExpiry",
  eventTime: "2019-07-25T01:08:33.1036736Z",
  data: { Id: "https://sample-kv.vault.azure.net/keys/cmk1/ee059b2bb5bc48398a53b168c6cdcb10", VaultName: "sample-kv", ObjectType: "Key", ObjectName: "cmk1", Version: "ee059b2bb5bc48398a53b168c6cdcb10", NBF: 1559081980, EXP: 1559082102 },
  dataVersion: "1",
  metadataVersion: "1",
};

describe("parseInboundEvent", () => {
  it("reads the Event Grid schema (Key Vault's documented payload) and CloudEvents 1.0", () => {
    const eg = parseInboundEvent(KV_EVENT);
    expect(eg).toMatchObject({ ok: true, event: { id: KV_EVENT.id, type: KV_EVENT.eventType, schema: "EventGridSchema", subject: "cmk1", source: KV_EVENT.topic } });
    const ce = parseInboundEvent({ id: "1", source: "/x", type: "Microsoft.KeyVault.KeyExpired", specversion: "1.0", time: "2026-01-01T00:00:00Z", data: { id: "u" } });
    expect(ce).toMatchObject({ ok: true, event: { type: "Microsoft.KeyVault.KeyExpired", schema: "CloudEventSchemaV1_0", source: "/x" } });
  });

  it("reads data fields whatever their case", () => {
    expect(dataField({ Id: "a" }, "id")).toBe("a");
    expect(dataField({ id: "b" }, "Id")).toBe("b");
    expect(dataField({ VERSION: "c" }, "Version")).toBe("c");
    expect(dataField({}, "Id")).toBeUndefined();
  });

  it("names what is wrong with a malformed event", () => {
    expect(parseInboundEvent(null)).toEqual({ ok: false, reason: "the event is null, not an object" });
    expect(parseInboundEvent([KV_EVENT])).toEqual({ ok: false, reason: "the event is an array, not an object" });
    expect(parseInboundEvent({ ...KV_EVENT, id: "" })).toMatchObject({ ok: false, reason: "it has no id" });
    expect(parseInboundEvent({ ...KV_EVENT, eventType: undefined })).toMatchObject({ ok: false, reason: "it has no eventType", id: KV_EVENT.id });
    expect(parseInboundEvent({ ...KV_EVENT, data: "not json" })).toMatchObject({ ok: false, reason: "its data is a string that is not JSON" });
    expect(parseInboundEvent({ ...KV_EVENT, data: [1] })).toMatchObject({ ok: false, reason: "its data is not a JSON object" });
    expect(parseInboundEvent({ id: "1", source: "/x", type: "t", specversion: "0.3", data: {} })).toMatchObject({ ok: false, reason: 'CloudEvents specversion "0.3" is not 1.0' });
  });
});

describe("webhookRequest", () => {
  const headers = (h: Record<string, string>) => (name: string) => h[name.toLowerCase()];

  it("answers Event Grid's subscription validation with the validation code", () => {
    const body = JSON.stringify([{ id: "v", topic: "/t", subject: "", eventType: "Microsoft.EventGrid.SubscriptionValidationEvent", eventTime: "2026-01-01T00:00:00Z", data: { validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6", validationUrl: "https://x" }, dataVersion: "2", metadataVersion: "1" }]);
    expect(webhookRequest({ method: "POST", header: headers({ "aeg-event-type": "SubscriptionValidation" }), body })).toEqual({
      kind: "handshake",
      what: "subscription validation",
      headers: {},
      body: { validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" },
    });
    expect(webhookRequest({ method: "POST", header: headers({ "aeg-event-type": "SubscriptionValidation" }), body: JSON.stringify([{ eventType: "Microsoft.EventGrid.SubscriptionValidationEvent", data: {} }]) })).toMatchObject({ kind: "invalid" });
  });

  it("answers the CloudEvents OPTIONS handshake with the origin it was asked for", () => {
    expect(webhookRequest({ method: "OPTIONS", header: headers({ "webhook-request-origin": "eventgrid.azure.net" }), body: "" })).toMatchObject({ kind: "handshake", headers: { "webhook-allowed-origin": "eventgrid.azure.net" } });
    expect(webhookRequest({ method: "OPTIONS", header: headers({}), body: "" })).toMatchObject({ kind: "invalid" });
  });

  it("takes a notification as an array or as one CloudEvent, and refuses what is no delivery", () => {
    expect(webhookRequest({ method: "POST", header: headers({ "aeg-event-type": "Notification" }), body: JSON.stringify([KV_EVENT]) })).toEqual({ kind: "events", events: [KV_EVENT] });
    const one = { id: "1", source: "/x", type: "t", specversion: "1.0", data: {} };
    expect(webhookRequest({ method: "POST", header: headers({}), body: JSON.stringify(one) })).toEqual({ kind: "events", events: [one] });
    expect(webhookRequest({ method: "POST", header: headers({}), body: "{" })).toMatchObject({ kind: "invalid", message: expect.stringMatching(/not JSON/) });
    expect(webhookRequest({ method: "POST", header: headers({}), body: "[]" })).toMatchObject({ kind: "invalid", message: "The body holds no events." });
    expect(webhookRequest({ method: "POST", header: headers({}), body: "3" })).toMatchObject({ kind: "invalid" });
  });
});
