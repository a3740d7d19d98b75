/**
 * Event Grid and Key Vault event schemas from the official specs (EventGrid.json's EventGridEvent and
 * CloudEventEvent, the definitions-only KeyVault.json's key event data), carried in the committed spec extraction
 * (scripts/gen-specs.ts extracts exactly these definitions), so KeyWarden's tests can validate the events it
 * publishes with nothing beside the repository.
 *
 *   expect(validateEventSchema("EventGridEvent", event)).toEqual([]);
 *   expect(validateEventSchema("KeyVaultKeyNearExpiryEventData", event.data)).toEqual([]);
 */
import type { DefinitionRef } from "./specExtraction.js";
import { loadSpecs, type SpecIndex } from "./specValidator.js";

const EVENT_GRID = "specification/eventgrid/data-plane/Microsoft.EventGrid/stable/2018-01-01/EventGrid.json";
const KEY_VAULT_EVENTS = "specification/eventgrid/data-plane/Microsoft.KeyVault/stable/2018-01-01/KeyVault.json";

export const EVENT_SCHEMA_DEFINITIONS = {
  EventGridEvent: { specFile: EVENT_GRID, name: "EventGridEvent" },
  CloudEventEvent: { specFile: EVENT_GRID, name: "CloudEventEvent" },
  KeyVaultKeyNearExpiryEventData: { specFile: KEY_VAULT_EVENTS, name: "KeyVaultKeyNearExpiryEventData" },
  KeyVaultKeyExpiredEventData: { specFile: KEY_VAULT_EVENTS, name: "KeyVaultKeyExpiredEventData" },
  KeyVaultKeyNewVersionCreatedEventData: { specFile: KEY_VAULT_EVENTS, name: "KeyVaultKeyNewVersionCreatedEventData" },
} as const satisfies Record<string, DefinitionRef>;

export type EventSchemaKind = keyof typeof EVENT_SCHEMA_DEFINITIONS;

/**
 * Problems of `value` against the spec definition `kind` (empty = valid), as "<kind> <pointer>: <message>" lines.
 * CloudEventEvent adds the CloudEvents 1.0 rule the spec leaves out: `specversion` must be "1.0". `spec` defaults to
 * the committed extraction of the first pack; pass loadSpecPack() to validate against the pack itself.
 */
export function validateEventSchema(kind: EventSchemaKind, value: unknown, spec: SpecIndex = loadSpecs()): string[] {
  const ref = EVENT_SCHEMA_DEFINITIONS[kind];
  if (ref === undefined) throw new RangeError(`validateEventSchema: unknown kind '${String(kind)}' (known: ${Object.keys(EVENT_SCHEMA_DEFINITIONS).join(", ")})`);
  const problems = spec.validateDefinition(ref.specFile, ref.name, value);
  if (kind === "CloudEventEvent" && value && typeof value === "object" && !Array.isArray(value)) {
    const specversion = (value as { specversion?: unknown }).specversion;
    if (typeof specversion === "string" && specversion !== "1.0") problems.push(`CloudEventEvent /specversion: must be "1.0" (CloudEvents 1.0) — got ${JSON.stringify(specversion)}`);
  }
  return problems;
}
