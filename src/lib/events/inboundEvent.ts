/**
 * An event as it reaches the handler, in either schema, reduced to what the handler needs. Event Grid delivers
 * what the publisher sent: Key Vault data keys are PascalCase (`Id`, `Version`), one report saw camelCase, so
 * data fields are read case-insensitively.
 */
export interface InboundEvent {
  id: string;
  type: string;
  schema: "EventGridSchema" | "CloudEventSchemaV1_0";
  subject?: string;
  /** Event Grid `topic` or CloudEvents `source`. */
  source?: string;
  time?: string;
  data: Record<string, unknown>;
}

export type ParsedInboundEvent = { ok: true; event: InboundEvent } | { ok: false; reason: string; id?: string; type?: string };

const MAX_FIELD = 2_048;

export function parseInboundEvent(raw: unknown): ParsedInboundEvent {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { ok: false, reason: `the event is ${Array.isArray(raw) ? "an array" : raw === null ? "null" : typeof raw}, not an object` };
  const e = raw as Record<string, unknown>;
  const cloud = typeof e.specversion === "string";
  const id = text(e.id);
  const type = text(cloud ? e.type : e.eventType);
  const known = { ...(id ? { id } : {}), ...(type ? { type } : {}) };
  if (!id) return { ok: false, reason: "it has no id", ...known };
  if (!type) return { ok: false, reason: `it has no ${cloud ? "type" : "eventType"}`, ...known };
  if (cloud && e.specversion !== "1.0") return { ok: false, reason: `CloudEvents specversion ${JSON.stringify(e.specversion)} is not 1.0`, ...known };
  let data = e.data;
  if (typeof data === "string") {
    try {
      data = JSON.parse(data);
    } catch {
      return { ok: false, reason: "its data is a string that is not JSON", ...known };
    }
  }
  if (data === undefined && cloud && e.data_base64 !== undefined) return { ok: false, reason: "its data is binary (data_base64); KeyWarden's events carry JSON", ...known };
  if (typeof data !== "object" || data === null || Array.isArray(data)) return { ok: false, reason: "its data is not a JSON object", ...known };
  const subject = text(e.subject);
  const source = text(cloud ? e.source : e.topic);
  const time = text(cloud ? e.time : e.eventTime);
  return {
    ok: true,
    event: { id, type, schema: cloud ? "CloudEventSchemaV1_0" : "EventGridSchema", data: data as Record<string, unknown>, ...(subject ? { subject } : {}), ...(source ? { source } : {}), ...(time ? { time } : {}) },
  };
}

/** A data field by name, whatever its case (Key Vault sends PascalCase, one report saw camelCase). */
export function dataField(data: Record<string, unknown>, name: string): unknown {
  if (name in data) return data[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(data)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" && value.length <= MAX_FIELD ? value : undefined;
}
