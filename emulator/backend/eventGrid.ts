/**
 * Event Grid custom topics: the topics a fixture declares, publish authentication (access key or bearer token),
 * the input-schema checks Event Grid applies on publish, and the events each topic accepted (in order, with the
 * emulator time they arrived). Delivery is emulator/eventDelivery.ts's business, over the control endpoints.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Fixture } from "../fixture.js";
import type { ArmRbacState } from "./armRbac.js";
import { isAllowed } from "./armRbac.js";
import { egBadRequest, egTooLarge, egUnauthorized } from "../errors.js";
import type { Runtime } from "./runtime.js";
import type { EstateState, EventGridTopicState, TopicEvent } from "./state.js";
import { armId } from "./state.js";
import { tokenClaims } from "./tokenClaims.js";

/** KeyWarden's identity in the built-in fixtures: the default data sender when the fixture lists it. */
export const KEYWARDEN_PRINCIPAL = "a1000000-0000-4000-8000-000000000003";
/** The audience of an Entra token for Event Grid's data plane (scope https://eventgrid.azure.net/.default). */
export const EVENT_GRID_AUDIENCE = "https://eventgrid.azure.net";
/** Event Grid's limit on a publish request and on one event (the brief's 1 MB; see README "not verified"). */
export const MAX_PUBLISH_BYTES = 1_048_576;

const TOPIC_HOST = /^([a-z0-9-]+)\.([a-z0-9]+)-1\.eventgrid\.azure\.net$/;

/** `<topic>.<region>-1.eventgrid.azure.net` (lower-cased, no port) → its parts; anything else → undefined. */
export function parseTopicHost(hostname: string): { label: string; region: string } | undefined {
  const m = TOPIC_HOST.exec(hostname.toLowerCase());
  return m ? { label: m[1]!, region: m[2]! } : undefined;
}

/** A key as Azure shows them (44 base64 characters), derived from the topic name and slot. */
const derivedKey = (topicName: string, slot: string): string => createHash("sha256").update(`eventgrid|${topicName.toLowerCase()}|${slot}`).digest("base64");

export function materialiseTopics(fixture: Fixture, state: EstateState): void {
  const keywardenListed = fixture.principals.some((p) => p.id.toLowerCase() === KEYWARDEN_PRINCIPAL);
  for (const t of fixture.eventGridTopics) {
    const senders = t.dataSenders ?? (keywardenListed ? [KEYWARDEN_PRINCIPAL] : []);
    const topic: EventGridTopicState = {
      name: t.name,
      label: t.name.toLowerCase(),
      location: t.location.toLowerCase(),
      resourceId: armId(t.subscriptionId ?? fixture.subscriptionId, t.resourceGroup, "Microsoft.EventGrid", "topics", t.name),
      inputSchema: t.inputSchema,
      key1: t.keys?.key1 ?? derivedKey(t.name, "key1"),
      key2: t.keys?.key2 ?? derivedKey(t.name, "key2"),
      disableLocalAuth: t.disableLocalAuth,
      dataSenders: new Set(senders.map((s) => s.toLowerCase())),
      events: [],
      nextSeq: 1,
    };
    state.eventGridTopics.set(topic.label, topic);
  }
}

export const topicHost = (rt: Pick<Runtime, "port">, topic: Pick<EventGridTopicState, "label" | "location">): string =>
  `${topic.label}.${topic.location}-1.eventgrid.azure.net:${rt.port}`;

/** https://<topic>.<region>-1.eventgrid.azure.net:<port>/api/events — what EventGridPublisherClient takes. */
export const topicEndpoint = (rt: Pick<Runtime, "port">, topic: Pick<EventGridTopicState, "label" | "location">): string => `https://${topicHost(rt, topic)}/api/events`;

/** The topic a Host header names, if the estate has it in that region. */
export function topicForHost(state: EstateState, hostname: string): EventGridTopicState | undefined {
  const parts = parseTopicHost(hostname);
  const topic = parts ? state.eventGridTopics.get(parts.label) : undefined;
  return topic && topic.location === parts!.region ? topic : undefined;
}

export interface PublishCredentials {
  /** `aeg-sas-key` header or query parameter. */
  sasKey?: string;
  /** `aeg-sas-token` header (not modelled: always refused). */
  sasToken?: string;
  /** `Authorization: Bearer <token>`. */
  bearer?: string;
}

function sameKey(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}


/** The data action a bearer publish needs on the topic (EventGrid Data Sender's). */
export const EVENT_GRID_SEND_ACTION = "Microsoft.EventGrid/events/send/action";

/** Authenticates a publish; returns the publisher ("key" or the bearer's object id) or throws Event Grid's 401. */
export function authorizePublish(topic: EventGridTopicState, creds: PublishCredentials, host: string, rbac?: ArmRbacState): string {
  const notAuthorized = (reason: string) => egUnauthorized(`The request authorization key is not authorized for ${host.toUpperCase()}. This is due to the reason: ${reason}.`);
  if (creds.bearer !== undefined) {
    const claims = tokenClaims(creds.bearer);
    const aud = typeof claims?.aud === "string" ? claims.aud.replace(/\/$/, "") : undefined;
    if (aud !== EVENT_GRID_AUDIENCE) throw notAuthorized(`the bearer token's audience is ${aud === undefined ? "missing" : `'${aud}'`}, not '${EVENT_GRID_AUDIENCE}'`);
    const oid = typeof claims?.oid === "string" ? claims.oid.toLowerCase() : undefined;
    if (!oid) throw notAuthorized("the bearer token names no principal (oid)");
    // With ARM RBAC modelled, the topic's role assignments decide (EventGrid Data Sender's data action); else its listed senders.
    const sender = rbac ? isAllowed(rbac, oid, EVENT_GRID_SEND_ACTION, topic.resourceId, true) : topic.dataSenders.has(oid);
    if (!sender) throw notAuthorized(`principal '${oid}' holds no data-sender role on topic '${topic.name}'`);
    return oid;
  }
  if (creds.sasKey === undefined && creds.sasToken === undefined) {
    throw egUnauthorized("Request must contain one of the following authorization signature: aeg-sas-token, aeg-sas-key.");
  }
  if (topic.disableLocalAuth) throw notAuthorized(`local authentication (access keys and SAS tokens) is disabled on topic '${topic.name}'`);
  if (creds.sasKey !== undefined) {
    if (sameKey(creds.sasKey, topic.key1) || sameKey(creds.sasKey, topic.key2)) return "key";
    throw notAuthorized("the aeg-sas-key matches neither of the topic's access keys");
  }
  throw notAuthorized("the emulator does not verify aeg-sas-token signatures; publish with aeg-sas-key or a bearer token");
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const isRfc3339 = (v: unknown): boolean => typeof v === "string" && RFC3339.test(v) && !Number.isNaN(Date.parse(v));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The media type of a Content-Type header, lower-cased, parameters dropped. */
const mediaType = (contentType: string | undefined): string => (contentType ?? "").split(";")[0]!.trim().toLowerCase();

/** Problems of one EventGridSchema event (the spec's EventGridEvent required properties; eventTime RFC 3339). */
function eventGridProblems(e: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const p of ["id", "subject", "eventType", "dataVersion"]) {
    if (e[p] === undefined || e[p] === null) out.push(`required property '${p}' is missing`);
    else if (typeof e[p] !== "string") out.push(`property '${p}' must be a string`);
  }
  if (typeof e.id === "string" && e.id.length === 0) out.push("property 'id' must not be empty");
  if (typeof e.eventType === "string" && e.eventType.length === 0) out.push("property 'eventType' must not be empty");
  if (e.eventTime === undefined || e.eventTime === null) out.push("required property 'eventTime' is missing");
  else if (!isRfc3339(e.eventTime)) out.push(`property 'eventTime' must be an RFC 3339 date-time (got ${JSON.stringify(e.eventTime)})`);
  if (!("data" in e)) out.push("required property 'data' is missing");
  return out;
}

/** Problems of one CloudEvents 1.0 event (the required context attributes; time RFC 3339 when present). */
function cloudEventProblems(e: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const p of ["id", "source", "type", "specversion"]) {
    if (e[p] === undefined || e[p] === null) out.push(`required attribute '${p}' is missing`);
    else if (typeof e[p] !== "string" || (e[p] as string).length === 0) out.push(`attribute '${p}' must be a non-empty string`);
  }
  if (typeof e.specversion === "string" && e.specversion !== "1.0") out.push(`attribute 'specversion' must be "1.0" (got ${JSON.stringify(e.specversion)})`);
  if (e.time !== undefined && !isRfc3339(e.time)) out.push(`attribute 'time' must be an RFC 3339 date-time (got ${JSON.stringify(e.time)})`);
  return out;
}

export interface PublishRequest {
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** Whether the body parsed as JSON. */
  json: boolean;
  bodyBytes: number;
  contentType?: string;
}

/**
 * Checks a publish against the topic's input schema and stores its events (all or none, as Event Grid accepts a
 * batch). Throws Event Grid's 413 or 400 naming the event (index and id) and the reason.
 */
export function publishEvents(rt: Runtime, topic: EventGridTopicState, req: PublishRequest): TopicEvent[] {
  if (req.bodyBytes > MAX_PUBLISH_BYTES) throw egTooLarge(`The maximum size (${MAX_PUBLISH_BYTES}) has been exceeded: the request body is ${req.bodyBytes} bytes.`);
  if (!req.json) throw egBadRequest("The request body is not valid JSON.");
  const cloud = topic.inputSchema === "CloudEventSchemaV1_0";
  const media = mediaType(req.contentType);
  let events: unknown[];
  if (cloud) {
    if (media === "application/cloudevents-batch+json") {
      if (!Array.isArray(req.body)) throw egBadRequest("A CloudEvents batch (application/cloudevents-batch+json) must be a JSON array of events.");
      events = req.body;
    } else if (media === "application/cloudevents+json") {
      if (!isObject(req.body)) throw egBadRequest("A single CloudEvent (application/cloudevents+json) must be a JSON object.");
      events = [req.body];
    } else {
      throw egBadRequest(
        `Topic '${topic.name}' accepts CloudEventSchemaV1_0: the Content-Type must be application/cloudevents-batch+json or application/cloudevents+json (got '${req.contentType ?? ""}').`,
        "InvalidContentType",
      );
    }
  } else {
    if (!Array.isArray(req.body)) throw egBadRequest(`Topic '${topic.name}' accepts EventGridSchema: the request body must be a JSON array of events.`);
    events = req.body;
  }
  if (events.length === 0) throw egBadRequest("The request body holds no event: publish at least one.");

  const accepted: Record<string, unknown>[] = [];
  events.forEach((e, i) => {
    const label = `event ${i}${isObject(e) && typeof e.id === "string" ? ` (id '${e.id}')` : ""}`;
    if (!isObject(e)) throw egBadRequest(`${label}: must be a JSON object.`);
    const size = Buffer.byteLength(JSON.stringify(e));
    if (size > MAX_PUBLISH_BYTES) throw egTooLarge(`${label}: ${size} bytes exceeds the maximum event size (${MAX_PUBLISH_BYTES}).`);
    const problems = cloud ? cloudEventProblems(e) : eventGridProblems(e);
    if (problems.length > 0) throw egBadRequest(`${label} does not match ${topic.inputSchema}: ${problems.join("; ")}.`);
    // As delivered: EventGridSchema events carry the topic's ARM id and metadataVersion "1".
    accepted.push(cloud ? structuredClone(e) : { ...structuredClone(e), topic: topic.resourceId, metadataVersion: "1" });
  });
  const receivedAt = new Date(rt.clock.now.getTime());
  const stored = accepted.map((event): TopicEvent => ({ seq: topic.nextSeq++, receivedAt, event }));
  topic.events.push(...stored);
  return stored;
}

/** Events after `since` (a seq; 0 = all), oldest first. */
export function topicEvents(topic: EventGridTopicState, since = 0): TopicEvent[] {
  return topic.events.filter((e) => e.seq > since);
}

/** Forgets the topic's events; seq numbers keep counting, so a reader's `since` stays valid. */
export function clearTopicEvents(topic: EventGridTopicState): number {
  const n = topic.events.length;
  topic.events.length = 0;
  return n;
}
