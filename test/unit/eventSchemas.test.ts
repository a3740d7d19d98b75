/** validateEventSchema: the events KeyWarden publishes, judged by the official Event Grid and Key Vault event schemas. */
import { describe, expect, it } from "vitest";
import { validateEventSchema, type EventSchemaKind } from "../support/eventSchemas.js";

/** A delivered Microsoft.KeyVault.KeyNearExpiry event (azure-wire.md §3.2), NBF/EXP as numbers. */
const delivered = {
  id: "00eccf70-95a7-4e7c-8299-2eb17ee9ad64",
  topic: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/sample-kv",
  subject: "cmk1",
  eventType: "Microsoft.KeyVault.KeyNearExpiry",
  eventTime: "2019-07-25T01:08:33.1036736Z",
  data: {
    Id: "https://sample-kv.vault.azure.net/keys/cmk1/ee059b2bb5bc48398a53b168c6cdcb10",
    VaultName: "sample-kv",
    ObjectType: "Key",
    ObjectName: "cmk1",
    Version: "ee059b2bb5bc48398a53b168c6cdcb10",
    NBF: 1559081980,
    EXP: 1559082102,
  },
  dataVersion: "1",
  metadataVersion: "1",
};

const cloud = { id: "6af1", source: "/subscriptions/x/resourceGroups/rg1/providers/Microsoft.KeyVault/managedHSMs/hsm1", type: "Microsoft.KeyVault.KeyNearExpiry", time: "2026-11-28T11:59:51.111Z", specversion: "1.0", datacontenttype: "application/json", subject: "cmk1", data: { Id: "x" } };

describe("validateEventSchema", () => {
  it("accepts a delivered Key Vault event and its data, under all three key event kinds", () => {
    expect(validateEventSchema("EventGridEvent", delivered)).toEqual([]);
    const kinds: EventSchemaKind[] = ["KeyVaultKeyNearExpiryEventData", "KeyVaultKeyExpiredEventData", "KeyVaultKeyNewVersionCreatedEventData"];
    expect(kinds.map((k) => [k, validateEventSchema(k, delivered.data)])).toEqual(kinds.map((k) => [k, []]));
  });

  it("EventGridEvent: names the missing required property, a bad eventTime and an undeclared property", () => {
    const { subject: _s, ...noSubject } = delivered;
    expect(validateEventSchema("EventGridEvent", noSubject)).toEqual(["EventGridEvent /: must have required property 'subject'"]);
    expect(validateEventSchema("EventGridEvent", { ...delivered, eventTime: "yesterday" })).toEqual(['EventGridEvent /eventTime: must match format "date-time"']);
    expect(validateEventSchema("EventGridEvent", { ...delivered, source: "/x" })).toEqual(['EventGridEvent /: has property "source" that the spec does not declare']);
    expect(validateEventSchema("EventGridEvent", { ...delivered, dataVersion: 1 })).toEqual(["EventGridEvent /dataVersion: must be string"]);
    // As Azure's model validator (oav) reads the spec: `data` (type object, no properties) is any JSON value.
    expect(validateEventSchema("EventGridEvent", { ...delivered, data: "text" })).toEqual([]);
  });

  it("Key Vault event data: PascalCase numbers as the spec has them; the docs' string NBF does not validate, a null EXP does", () => {
    expect(validateEventSchema("KeyVaultKeyNearExpiryEventData", { ...delivered.data, NBF: "1559081980" })).toEqual(["KeyVaultKeyNearExpiryEventData /NBF: must be number"]);
    // Real payloads carry null NBF/EXP (azure-wire.md §3.2); oav lets an optional property be null.
    expect(validateEventSchema("KeyVaultKeyExpiredEventData", { ...delivered.data, EXP: null })).toEqual([]);
    // The spec requires no property of the data: an empty object passes (check the fields you need yourself).
    expect(validateEventSchema("KeyVaultKeyExpiredEventData", {})).toEqual([]);
    expect(validateEventSchema("KeyVaultKeyNewVersionCreatedEventData", { id: "camelCase" })).toEqual(['KeyVaultKeyNewVersionCreatedEventData /: has property "id" that the spec does not declare']);
  });

  it("CloudEventEvent: the spec's required attributes, extension attributes allowed, and specversion 1.0", () => {
    expect(validateEventSchema("CloudEventEvent", cloud)).toEqual([]);
    expect(validateEventSchema("CloudEventEvent", { ...cloud, keywardenrun: "r1" })).toEqual([]);
    const { source: _s, ...noSource } = cloud;
    expect(validateEventSchema("CloudEventEvent", noSource)).toEqual(["CloudEventEvent /: must have required property 'source'"]);
    expect(validateEventSchema("CloudEventEvent", { ...cloud, specversion: "0.3" })).toEqual(['CloudEventEvent /specversion: must be "1.0" (CloudEvents 1.0) — got "0.3"']);
  });

  it("refuses a kind it does not know", () => {
    expect(() => validateEventSchema("Nope" as EventSchemaKind, {})).toThrow(/unknown kind 'Nope'/);
  });
});
