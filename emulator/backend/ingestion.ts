/**
 * Logs Ingestion (Azure Monitor): the data collection rules a fixture declares, the data collection endpoints (hosts)
 * that serve them, upload authentication (an Entra token for https://monitor.azure.com held by an ingestor), the
 * request checks (size, encoding, JSON array) and the rows each stream accepted, shaped by its declaration.
 */
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import type { Fixture } from "../fixture.js";
import type { ArmRbacState } from "./armRbac.js";
import { isAllowed } from "./armRbac.js";
import { ingestBadRequest, ingestForbidden, ingestRuleNotFound, ingestTooLarge, ingestUnauthorized } from "../errors.js";
import { KEYWARDEN_PRINCIPAL } from "./eventGrid.js";
import type { Runtime } from "./runtime.js";
import type { DataCollectionEndpointState, DataCollectionRuleState, EstateState, IngestedRow, StreamColumnType, StreamState } from "./state.js";
import { armId } from "./state.js";
import { tokenClaims } from "./tokenClaims.js";

/** The audience of an Entra token for the Logs Ingestion API (scope https://monitor.azure.com/.default). */
export const MONITOR_AUDIENCE = "https://monitor.azure.com";
/** "Maximum size of API call: 1 MB, both compressed and uncompressed data" (Azure Monitor service limits). */
export const MAX_UPLOAD_BYTES = 1_048_576;

const ENDPOINT_HOST = /^([a-z0-9-]+)\.([a-z0-9]+)-1\.ingest\.monitor\.azure\.com$/;

/** `<endpoint>.<region>-1.ingest.monitor.azure.com` (lower-cased, no port) → its parts; anything else → undefined. */
export function parseIngestionHost(hostname: string): { label: string; region: string } | undefined {
  const m = ENDPOINT_HOST.exec(hostname.toLowerCase());
  return m ? { label: m[1]!, region: m[2]! } : undefined;
}

/** A rule's default immutable id: dcr- and 32 hex digits derived from its name (stable across runs). */
export const derivedImmutableId = (ruleName: string): string => `dcr-${createHash("sha256").update(`dcr|${ruleName.toLowerCase()}`).digest("hex").slice(0, 32)}`;

export function materialiseDataCollectionRules(fixture: Fixture, state: EstateState): void {
  const keywardenListed = fixture.principals.some((p) => p.id.toLowerCase() === KEYWARDEN_PRINCIPAL);
  for (const r of fixture.dataCollectionRules) {
    const location = r.location.toLowerCase();
    const endpointLabel = (r.endpointName ?? `${r.name}-dce`).toLowerCase();
    const streams = new Map<string, StreamState>();
    for (const s of r.streams) {
      streams.set(s.name.toLowerCase(), { name: s.name, columns: new Map(s.columns.map((c) => [c.name.toLowerCase(), { name: c.name, type: c.type }])), rows: [], nextSeq: 1 });
    }
    const rule: DataCollectionRuleState = {
      name: r.name,
      immutableId: (r.immutableId ?? derivedImmutableId(r.name)).toLowerCase(),
      resourceId: armId(r.subscriptionId ?? fixture.subscriptionId, r.resourceGroup, "Microsoft.Insights", "dataCollectionRules", r.name),
      location,
      endpointLabel,
      streams,
      ingestors: new Set((r.ingestors ?? (keywardenListed ? [KEYWARDEN_PRINCIPAL] : [])).map((o) => o.toLowerCase())),
    };
    state.dataCollectionRules.set(r.name.toLowerCase(), rule);
    let endpoint = state.dataCollectionEndpoints.get(endpointLabel);
    if (!endpoint) {
      endpoint = { label: endpointLabel, location, rules: new Map() };
      state.dataCollectionEndpoints.set(endpointLabel, endpoint);
    }
    endpoint.rules.set(rule.immutableId, rule);
  }
}

/** https://<endpoint>.<region>-1.ingest.monitor.azure.com:<port> — the endpoint LogsIngestionClient takes. */
export const ingestionEndpoint = (rt: Pick<Runtime, "port">, rule: Pick<DataCollectionRuleState, "endpointLabel" | "location">): string =>
  `https://${rule.endpointLabel}.${rule.location}-1.ingest.monitor.azure.com:${rt.port}`;

/** The data collection endpoint a Host header names, if the estate has it in that region. */
export function endpointForHost(state: EstateState, hostname: string): DataCollectionEndpointState | undefined {
  const parts = parseIngestionHost(hostname);
  const endpoint = parts ? state.dataCollectionEndpoints.get(parts.label) : undefined;
  return endpoint && endpoint.location === parts!.region ? endpoint : undefined;
}


/** Authenticates an upload: returns the caller's object id (lower case) or throws the 401. Authorisation is per rule (`authorizeIngest`). */
export function authenticateIngest(bearer: string | undefined): string {
  if (bearer === undefined) throw ingestUnauthorized("InvalidAuthenticationToken", "The request carries no bearer token: send 'Authorization: Bearer <token>' for https://monitor.azure.com.");
  const claims = tokenClaims(bearer);
  if (!claims) throw ingestUnauthorized("InvalidAuthenticationToken", "The bearer token is not a JWT the emulator can read (expected an unsigned JWT whose payload carries 'aud' and 'oid').");
  const aud = typeof claims.aud === "string" ? claims.aud.replace(/\/+$/, "") : undefined;
  if (aud !== MONITOR_AUDIENCE) {
    throw ingestUnauthorized("InvalidAudience", `The bearer token's audience is ${aud === undefined ? "missing" : `'${aud}'`}; the Logs Ingestion API needs a token for '${MONITOR_AUDIENCE}' (scope ${MONITOR_AUDIENCE}/.default).`);
  }
  const oid = typeof claims.oid === "string" && claims.oid ? claims.oid.toLowerCase() : undefined;
  if (!oid) throw ingestUnauthorized("InvalidAuthenticationToken", "The bearer token names no principal (oid).");
  return oid;
}

/** The data action an upload needs on the rule (Monitoring Metrics Publisher's; UNVERIFIED which of its two Logs Ingestion checks). */
export const INGEST_ACTION = "Microsoft.Insights/Telemetry/Write";

/** The rule `ruleId` names on this endpoint, checked for the caller's Monitoring Metrics Publisher role; else 404 or 403. */
export function authorizeIngest(endpoint: DataCollectionEndpointState, ruleId: string, principalId: string, rbac?: ArmRbacState): DataCollectionRuleState {
  const rule = endpoint.rules.get(ruleId.toLowerCase());
  if (!rule) throw ingestRuleNotFound(ruleId);
  // With ARM RBAC modelled, the rule's role assignments decide (Monitoring Metrics Publisher's data action); else its listed ingestors.
  const allowed = rbac ? isAllowed(rbac, principalId, INGEST_ACTION, rule.resourceId, true) : rule.ingestors.has(principalId);
  if (!allowed) throw ingestForbidden(ruleId, principalId);
  return rule;
}

export interface UploadRequest {
  /** The body bytes as sent. */
  raw: Buffer;
  /** Content-Encoding header (absent = identity). */
  contentEncoding?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?)?$/;
const INT32 = { min: -2_147_483_648, max: 2_147_483_647 };

/** The value a column of `type` stores for `v`, or `invalid` when the type cannot hold it (null is always allowed). */
function columnValue(type: StreamColumnType, v: unknown): { ok: true; value: unknown } | { ok: false } {
  if (v === null) return { ok: true, value: null };
  switch (type) {
    case "dynamic":
      return { ok: true, value: v };
    case "string":
      // Kusto's tostring(): scalars become text, objects and arrays their JSON.
      return { ok: true, value: typeof v === "string" ? v : JSON.stringify(v) };
    case "boolean":
      if (typeof v === "boolean") return { ok: true, value: v };
      if (v === "true" || v === "false") return { ok: true, value: v === "true" };
      return { ok: false };
    case "int":
    case "long": {
      const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== "number" || !Number.isInteger(n)) return { ok: false };
      if (type === "int" && (n < INT32.min || n > INT32.max)) return { ok: false };
      return { ok: true, value: n };
    }
    case "real": {
      const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
      return typeof n === "number" && Number.isFinite(n) ? { ok: true, value: n } : { ok: false };
    }
    case "datetime":
      return typeof v === "string" && ISO_DATETIME.test(v) && !Number.isNaN(Date.parse(v)) ? { ok: true, value: v } : { ok: false };
  }
}

/** One uploaded object as the stream ingests it: declared columns (by declared name), the rest dropped, misfits null. */
function shapeRow(stream: StreamState, o: Record<string, unknown>): Omit<IngestedRow, "seq" | "receivedAt"> {
  const row: Record<string, unknown> = {};
  const droppedColumns: string[] = [];
  const invalidValues: IngestedRow["invalidValues"] = [];
  for (const [key, v] of Object.entries(o)) {
    const column = stream.columns.get(key.toLowerCase());
    if (!column) {
      droppedColumns.push(key);
      continue;
    }
    const fit = columnValue(column.type, v);
    if (fit.ok) row[column.name] = structuredClone(fit.value);
    else {
      row[column.name] = null;
      invalidValues.push({ column: column.name, type: column.type, value: structuredClone(v) });
    }
  }
  return { row, droppedColumns, invalidValues };
}

function decode(req: UploadRequest): Buffer {
  const encoding = (req.contentEncoding ?? "").trim().toLowerCase();
  if (encoding === "" || encoding === "identity") return req.raw;
  if (encoding !== "gzip") throw ingestBadRequest("UnsupportedContentEncoding", `Content-Encoding '${req.contentEncoding}' is not supported: send gzip or no encoding.`);
  try {
    // One byte over the limit is enough to know the body is too large; never inflate further (a gzip bomb).
    return gunzipSync(req.raw, { maxOutputLength: MAX_UPLOAD_BYTES + 1 });
  } catch (e) {
    if (e instanceof RangeError || (e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw ingestTooLarge(`The request body inflates to more than ${MAX_UPLOAD_BYTES} bytes; the maximum size of a call is ${MAX_UPLOAD_BYTES} bytes (compressed or uncompressed).`);
    }
    throw ingestBadRequest("InvalidContentEncoding", "The request body is declared gzip (Content-Encoding: gzip) but is not valid gzip data.");
  }
}

/**
 * Checks an upload to `streamName` of `rule` and stores its rows (all or none). Objects are shaped by the stream
 * declaration: undeclared properties are dropped and values a column type cannot hold become null, as Azure ingests
 * them (accepted with 204, not refused); each stored row records what was dropped.
 */
export function ingestRows(rt: Runtime, rule: DataCollectionRuleState, streamName: string, req: UploadRequest): IngestedRow[] {
  if (req.raw.length > MAX_UPLOAD_BYTES) throw ingestTooLarge(`The request body is ${req.raw.length} bytes; the maximum size of a call is ${MAX_UPLOAD_BYTES} bytes (compressed or uncompressed).`);
  const stream = rule.streams.get(streamName.toLowerCase());
  if (!stream) {
    const declared = [...rule.streams.values()].map((s) => s.name).join(", ");
    throw ingestBadRequest("InvalidStream", `Stream '${streamName}' is not declared in the data collection rule with immutable Id '${rule.immutableId}' (it declares ${declared}).`);
  }
  const bytes = decode(req);
  if (bytes.length > MAX_UPLOAD_BYTES) throw ingestTooLarge(`The request body inflates to ${bytes.length} bytes; the maximum size of a call is ${MAX_UPLOAD_BYTES} bytes (compressed or uncompressed).`);
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw ingestBadRequest("InvalidRequestBody", "The request body is not valid JSON: send a JSON array of objects (UTF-8).");
  }
  if (!Array.isArray(body)) throw ingestBadRequest("InvalidRequestBody", `The request body must be a JSON array of objects matching stream '${stream.name}' (got ${body === null ? "null" : typeof body}).`);
  const shaped = body.map((o, i) => {
    if (!isObject(o)) throw ingestBadRequest("InvalidRequestBody", `Item ${i} of the request body must be a JSON object (got ${Array.isArray(o) ? "an array" : o === null ? "null" : typeof o}).`);
    return shapeRow(stream, o);
  });
  const receivedAt = new Date(rt.clock.now.getTime());
  const stored = shaped.map((s): IngestedRow => ({ seq: stream.nextSeq++, receivedAt, ...s }));
  stream.rows.push(...stored);
  return stored;
}

/** The rule named `name` (case-insensitive) and its stream `streamName`, for the control endpoints. */
export function ruleStream(state: EstateState, name: string, streamName: string): { rule?: DataCollectionRuleState; stream?: StreamState } {
  const rule = state.dataCollectionRules.get(name.toLowerCase());
  return { rule, stream: rule?.streams.get(streamName.toLowerCase()) };
}

/** Rows after `since` (a seq; 0 = all), oldest first. */
export const streamRows = (stream: StreamState, since = 0): IngestedRow[] => stream.rows.filter((r) => r.seq > since);

/** Forgets the stream's rows; seq numbers keep counting, so a reader's `since` stays valid. */
export function clearStreamRows(stream: StreamState): number {
  const n = stream.rows.length;
  stream.rows.length = 0;
  return n;
}
