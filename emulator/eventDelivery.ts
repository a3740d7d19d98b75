/**
 * Delivers what an emulated Event Grid topic received to a handler the way Event Grid does: at least once, with
 * duplicates, in no particular order, retrying failures on Event Grid's schedule (10 s, 30 s, 1 min, 5 min, 10 min,
 * 30 min, 1 h, then hourly; until maxAttempts or the TTL) compressed onto the emulator clock: between rounds it sets
 * the emulator clock to the next due attempt, so emulator time moves as Event Grid's would and nothing sleeps.
 *
 * It talks to the emulator over HTTP control endpoints only (GET /_emulator/eventgrid/topics[/{name}/events],
 * GET|POST /_emulator/clock), so it works with an in-process emulator or a separate one. Deterministic for a seed.
 */
import http from "node:http";
import https from "node:https";

export type DeliveryTarget =
  /** A Functions-style handler of one event; a throw is a failure (the Functions host answers 500), retried. */
  | { kind: "function"; handler: (event: Record<string, unknown>) => Promise<unknown> }
  /**
   * POSTs each delivery to `url` (EventGridSchema: `[event]` with `aeg-event-type: Notification`; CloudEvents: the
   * event, `application/cloudevents+json`). 2xx = delivered; 400, 401, 403, 413 = dropped without retry.
   * `validate: true` runs Event Grid's subscription validation handshake first. `ca` = PEM trusted for https.
   */
  | { kind: "webhook"; url: string; headers?: Record<string, string>; ca?: string; validate?: boolean };

export interface DeliveryOptions {
  topic: string;
  target: DeliveryTarget;
  /** PRNG seed for duplicates and order (default 1). */
  seed?: number;
  /** Chance (0..1) that an event is delivered one extra time (default 0.3). */
  duplicateRate?: number;
  /** Deliver in a seeded random order (default true); false = in seq order. */
  shuffle?: boolean;
  /** Deliver only events with a seq after this (default 0 = all). */
  since?: number;
  /** Attempts per delivery, the first included (default 30, Event Grid's default). */
  maxAttempts?: number;
  /** Event time-to-live from its receipt, in minutes (default 1440, Event Grid's default). */
  ttlMinutes?: number;
  /** Deliveries attempted at once within a round (default 1). */
  concurrency?: number;
}

export interface DeliveryRecord {
  seq: number;
  eventId: string;
  /** 1 = the first attempt of this delivery (0 for one that expired before any attempt). */
  attempt: number;
  /** Emulator time of the attempt, ISO. */
  at: string;
  /**
   * delivered; failed (will be retried); dropped (a status Event Grid does not retry); expired (no attempt left within
   * maxAttempts or the TTL: the last failure, or no attempt at all).
   */
  outcome: "delivered" | "failed" | "dropped" | "expired";
  status?: number;
  error?: string;
}

export interface DeliveryResult {
  records: DeliveryRecord[];
  /** Deliveries that succeeded (a duplicate counts again). */
  delivered: number;
  dropped: number;
  expired: number;
}

export class DeliveryOptionsError extends Error {
  override readonly name = "DeliveryOptionsError";
}

/** The endpoint failed Event Grid's subscription validation handshake; nothing was delivered. */
export class SubscriptionValidationError extends Error {
  override readonly name = "SubscriptionValidationError";
}

/** The emulator's control endpoints answered something unexpected. */
export class DeliveryControlError extends Error {
  override readonly name = "DeliveryControlError";
}

/** Event Grid's retry delays after attempt 1, 2, …; hourly after the last. */
export const RETRY_SCHEDULE_SECONDS: readonly number[] = [10, 30, 60, 300, 600, 1800, 3600];
const HOURLY = 3600;
/** Statuses Event Grid does not retry for a webhook (azure-facts.md "Event Grid delivery"). */
const NO_RETRY = new Set([400, 401, 403, 413]);

interface TopicInfo {
  name: string;
  inputSchema: "EventGridSchema" | "CloudEventSchemaV1_0";
  id: string;
}

interface StoredEvent {
  seq: number;
  receivedAt: string;
  event: Record<string, unknown>;
}

interface Delivery {
  seq: number;
  eventId: string;
  event: Record<string, unknown>;
  attempts: number;
  dueAt: number;
  expiresAt: number;
}

function validateOptions(o: DeliveryOptions): Required<Omit<DeliveryOptions, "target" | "topic">> {
  const fail = (name: string, reason: string): never => {
    throw new DeliveryOptionsError(`deliverEvents: option '${name}' ${reason}.`);
  };
  if (typeof o.topic !== "string" || o.topic.length === 0) fail("topic", "must be a topic name");
  const t = o.target as DeliveryTarget | undefined;
  if (!t || (t.kind !== "function" && t.kind !== "webhook")) fail("target", 'must be { kind: "function", handler } or { kind: "webhook", url }');
  if (t!.kind === "function" && typeof t!.handler !== "function") fail("target.handler", "must be a function");
  if (t!.kind === "webhook") {
    let u: URL | undefined;
    try {
      u = new URL(t!.url);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== "https:" && u.protocol !== "http:")) fail("target.url", "must be an http(s) URL");
  }
  const int = (name: string, v: number | undefined, min: number, dflt: number): number => {
    if (v === undefined) return dflt;
    if (!Number.isInteger(v) || v < min) fail(name, `must be an integer of at least ${min} (got ${v})`);
    return v;
  };
  const duplicateRate = o.duplicateRate ?? 0.3;
  if (typeof duplicateRate !== "number" || !(duplicateRate >= 0 && duplicateRate <= 1)) fail("duplicateRate", `must be a number from 0 to 1 (got ${String(o.duplicateRate)})`);
  if (o.shuffle !== undefined && typeof o.shuffle !== "boolean") fail("shuffle", "must be a boolean");
  return {
    seed: int("seed", o.seed, 0, 1),
    duplicateRate,
    shuffle: o.shuffle ?? true,
    since: int("since", o.since, 0, 0),
    maxAttempts: int("maxAttempts", o.maxAttempts, 1, 30),
    ttlMinutes: int("ttlMinutes", o.ttlMinutes, 1, 1440),
    concurrency: int("concurrency", o.concurrency, 1, 1),
  };
}

/** mulberry32: a small seeded PRNG (uniform in [0, 1)). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, ca: string | undefined): Promise<HttpAnswer> {
  const mod = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method,
        agent: false,
        ...(url.protocol === "https:" && ca ? { ca } : {}),
        headers: { ...headers, ...(body !== undefined ? { "content-length": String(Buffer.byteLength(body)) } : {}) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function controlClient(emulatorEndpoint: string, caPem: string) {
  const base = emulatorEndpoint.replace(/\/+$/, "");
  return async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const r = await send(new URL(base + path), method, payload === undefined ? {} : { "content-type": "application/json" }, payload, caPem);
    let json: unknown;
    try {
      json = r.text ? JSON.parse(r.text) : {};
    } catch {
      json = undefined;
    }
    if (r.status < 200 || r.status > 299 || !json || typeof json !== "object") {
      throw new DeliveryControlError(`${method} ${base}${path} → ${r.status}: ${r.text.slice(0, 300)}`);
    }
    return json as Record<string, unknown>;
  };
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Event Grid's validation handshake for a webhook (docs: webhook-event-delivery / end-point-validation-*). */
async function validateWebhook(target: Extract<DeliveryTarget, { kind: "webhook" }>, topic: TopicInfo, now: string, random: () => number): Promise<void> {
  const url = new URL(target.url);
  const where = `subscription validation of ${target.url}`;
  if (topic.inputSchema === "CloudEventSchemaV1_0") {
    let r: HttpAnswer;
    try {
      r = await send(url, "OPTIONS", { ...target.headers, "webhook-request-origin": "eventgrid.azure.net" }, undefined, target.ca);
    } catch (e) {
      throw new SubscriptionValidationError(`${where}: the OPTIONS request failed (${errorText(e)})`);
    }
    const allowed = r.headers["webhook-allowed-origin"];
    const origin = Array.isArray(allowed) ? allowed[0] : allowed;
    if (r.status < 200 || r.status > 299) throw new SubscriptionValidationError(`${where}: OPTIONS answered ${r.status}, expected 200 with WebHook-Allowed-Origin`);
    if (origin !== "eventgrid.azure.net" && origin !== "*") {
      throw new SubscriptionValidationError(`${where}: OPTIONS answered WebHook-Allowed-Origin ${origin === undefined ? "(absent)" : `'${origin}'`}, expected 'eventgrid.azure.net' (or '*')`);
    }
    return;
  }
  const hex = (n: number): string =>
    Array.from({ length: n }, () =>
      Math.floor(random() * 16)
        .toString(16)
        .toUpperCase(),
    ).join("");
  const validationCode = `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
  const validationEvent = {
    id: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`.toLowerCase(),
    topic: topic.id,
    subject: "",
    data: {
      validationCode,
      // The asynchronous (GET validationUrl) handshake is not served by the emulator.
      validationUrl: `https://rp-eventgrid.emulator.invalid/eventsubscriptions/keywarden-simulator/validate?id=${validationCode}&apiVersion=2018-05-01-preview`,
    },
    eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
    eventTime: now,
    metadataVersion: "1",
    dataVersion: "2",
  };
  let r: HttpAnswer;
  try {
    r = await send(url, "POST", { ...target.headers, "content-type": "application/json", "aeg-event-type": "SubscriptionValidation" }, JSON.stringify([validationEvent]), target.ca);
  } catch (e) {
    throw new SubscriptionValidationError(`${where}: the validation POST failed (${errorText(e)})`);
  }
  if (r.status !== 200) throw new SubscriptionValidationError(`${where}: the validation event was answered ${r.status}, expected 200 with {"validationResponse": "<validationCode>"}`);
  let answer: unknown;
  try {
    answer = JSON.parse(r.text);
  } catch {
    answer = undefined;
  }
  const got = answer && typeof answer === "object" ? (answer as { validationResponse?: unknown }).validationResponse : undefined;
  if (got !== validationCode) {
    throw new SubscriptionValidationError(`${where}: validationResponse ${got === undefined ? "is absent" : JSON.stringify(got)}, expected the validationCode ${JSON.stringify(validationCode)}`);
  }
}

type AttemptResult = { ok: true; status?: number } | { ok: false; retry: boolean; status?: number; error: string };

async function attempt(target: DeliveryTarget, topic: TopicInfo, d: Delivery): Promise<AttemptResult> {
  if (target.kind === "function") {
    try {
      await target.handler(structuredClone(d.event));
      return { ok: true };
    } catch (e) {
      return { ok: false, retry: true, status: 500, error: errorText(e) };
    }
  }
  const cloud = topic.inputSchema === "CloudEventSchemaV1_0";
  const headers: Record<string, string> = {
    ...target.headers,
    "content-type": cloud ? "application/cloudevents+json; charset=utf-8" : "application/json",
    "aeg-event-type": "Notification",
    "aeg-delivery-count": String(d.attempts - 1),
  };
  try {
    const r = await send(new URL(target.url), "POST", headers, JSON.stringify(cloud ? d.event : [d.event]), target.ca);
    if (r.status >= 200 && r.status < 300) return { ok: true, status: r.status };
    return { ok: false, retry: !NO_RETRY.has(r.status), status: r.status, error: `${target.url} answered ${r.status}${r.text ? `: ${r.text.slice(0, 200)}` : ""}` };
  } catch (e) {
    return { ok: false, retry: true, error: `${target.url}: ${errorText(e)}` };
  }
}

export async function deliverEvents(emulatorEndpoint: string, caPem: string, options: DeliveryOptions): Promise<DeliveryResult> {
  const o = validateOptions(options);
  const target = options.target;
  const control = controlClient(emulatorEndpoint, caPem);
  const random = prng(o.seed);

  const topics = (await control("GET", "/_emulator/eventgrid/topics")).topics as TopicInfo[] | undefined;
  const topic = topics?.find((t) => t.name.toLowerCase() === options.topic.toLowerCase());
  if (!topic) throw new DeliveryOptionsError(`deliverEvents: option 'topic': the emulator has no topic '${options.topic}' (${(topics ?? []).map((t) => t.name).join(", ") || "none"})`);
  const stored = (await control("GET", `/_emulator/eventgrid/topics/${encodeURIComponent(topic.name)}/events?since=${o.since}`)).events as StoredEvent[];
  const clockNow = async (): Promise<number> => Date.parse(String((await control("GET", "/_emulator/clock")).now));
  let now = await clockNow();

  const queue: Delivery[] = [];
  for (const s of stored) {
    const copies = random() < o.duplicateRate ? 2 : 1;
    const eventId = typeof s.event.id === "string" ? s.event.id : String(s.seq);
    const expiresAt = Date.parse(s.receivedAt) + o.ttlMinutes * 60_000;
    for (let i = 0; i < copies; i++) queue.push({ seq: s.seq, eventId, event: s.event, attempts: 0, dueAt: now, expiresAt });
  }
  if (o.shuffle) {
    for (let i = queue.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [queue[i], queue[j]] = [queue[j]!, queue[i]!];
    }
  }

  if (target.kind === "webhook" && target.validate && queue.length > 0) await validateWebhook(target, topic, new Date(now).toISOString(), random);

  const records: DeliveryRecord[] = [];
  const result = { delivered: 0, dropped: 0, expired: 0 };
  let pending = queue;
  while (pending.length > 0) {
    const at = new Date(now).toISOString();
    const due = pending.filter((d) => d.dueAt <= now);
    const later = pending.filter((d) => d.dueAt > now);
    const retry: Delivery[] = [];
    for (let i = 0; i < due.length; i += o.concurrency) {
      const batch = due.slice(i, i + o.concurrency);
      const outcomes = await Promise.all(
        batch.map(async (d) => {
          if (now >= d.expiresAt) return { d, r: undefined };
          d.attempts += 1;
          return { d, r: await attempt(target, topic, d) };
        }),
      );
      for (const { d, r } of outcomes) {
        const base = { seq: d.seq, eventId: d.eventId, attempt: d.attempts, at };
        if (!r) {
          records.push({ ...base, outcome: "expired", error: `the event's time to live (${o.ttlMinutes} min) ran out before attempt ${d.attempts + 1}` });
          result.expired++;
        } else if (r.ok) {
          records.push({ ...base, outcome: "delivered", ...(r.status !== undefined ? { status: r.status } : {}) });
          result.delivered++;
        } else {
          const detail = { ...(r.status !== undefined ? { status: r.status } : {}), error: r.error };
          const nextDue = now + (RETRY_SCHEDULE_SECONDS[d.attempts - 1] ?? HOURLY) * 1000;
          if (!r.retry) {
            records.push({ ...base, outcome: "dropped", ...detail });
            result.dropped++;
          } else if (d.attempts >= o.maxAttempts || nextDue >= d.expiresAt) {
            records.push({ ...base, outcome: "expired", ...detail });
            result.expired++;
          } else {
            records.push({ ...base, outcome: "failed", ...detail });
            d.dueAt = nextDue;
            retry.push(d);
          }
        }
      }
    }
    pending = [...later, ...retry];
    if (pending.length === 0) break;
    const next = Math.min(...pending.map((d) => d.dueAt));
    if (next > now) {
      await control("POST", "/_emulator/clock", { set: new Date(next).toISOString() });
      now = await clockNow();
      if (now < next) throw new DeliveryControlError(`POST /_emulator/clock did not move the clock to ${new Date(next).toISOString()} (it says ${new Date(now).toISOString()})`);
    }
  }
  return { records, ...result };
}
