/**
 * Control endpoints of the emulator's model (access, auto-rotation delays, LRO durations and failures) and the
 * wrapper that settles the model after every state-changing request. Bad input → 400 naming the field.
 */
import { parseDuration } from "../duration.js";
import { badControlInput } from "../errors.js";
import { ensureAccess } from "../backend/access.js";
import { CONSUMER_KINDS } from "../backend/consumers.js";
import type { AccessTransition, ConsumerAccessRecord, ConsumerKind, RuntimeConfig } from "../backend/runtime.js";
import { globMatches, modelOf } from "../backend/runtime.js";
import { settle } from "../backend/settle.js";
import type { Handler, HandlerContext } from "./context.js";
import { ok } from "./context.js";

/**
 * Runs a state-changing handler between two derivations of the access model: the one before fixes the starting state
 * (so the change shows as a transition), the one after records it — even when the handler throws.
 */
export const settling =
  (handler: Handler): Handler =>
  async (ctx) => {
    ensureAccess(ctx.rt);
    try {
      return await handler(ctx);
    } finally {
      settle(ctx.rt);
    }
  };

const bodyObject = (ctx: HandlerContext): Record<string, unknown> => {
  const b = ctx.req.body;
  if (!b || typeof b !== "object" || Array.isArray(b)) throw badControlInput("body", "must be a JSON object");
  return b as Record<string, unknown>;
};

const transitionJson = (t: AccessTransition): Record<string, unknown> => ({
  at: t.at.toISOString(),
  resourceId: t.resourceId,
  kind: t.kind,
  accessible: t.accessible,
  ...(t.code ? { code: t.code, reason: t.reason } : {}),
});

const consumerJson = (c: ConsumerAccessRecord): Record<string, unknown> => ({
  resourceId: c.resourceId,
  kind: c.kind,
  accessible: c.accessible,
  ...(c.code ? { code: c.code, reason: c.reason } : {}),
  keyUrl: c.keyUrl,
  version: c.version,
  principalId: c.principalId,
  since: c.since.toISOString(),
  ...(c.disks ? { disks: c.disks } : {}),
});

/** GET /_emulator/access → `{ now, consumers, transitions }`. */
export const getAccess: Handler = (ctx) => {
  settle(ctx.rt);
  const consumers = [...ensureAccess(ctx.rt).values()].sort((a, b) => a.resourceId.localeCompare(b.resourceId));
  return ok({ now: ctx.rt.clock.now.toISOString(), consumers: consumers.map(consumerJson), transitions: modelOf(ctx.rt).transitions.map(transitionJson) });
};

/** GET /_emulator/access/lost → `{ count, transitions }`: only the moments a consumer lost access. */
export const getLostAccess: Handler = (ctx) => {
  settle(ctx.rt);
  const lost = modelOf(ctx.rt).transitions.filter((t) => !t.accessible);
  return ok({ count: lost.length, transitions: lost.map(transitionJson) });
};

const isGlob = (v: unknown): v is string => typeof v === "string" && /^[A-Za-z0-9_.*-]+$/.test(v);

/** POST /_emulator/lro-failures `{ operationId (id or glob), code, message, count? }`: the next N matching LROs end Failed. */
export const addLroFailure =
  (lroOperationIds: () => string[]): Handler =>
  (ctx) => {
    const b = bodyObject(ctx);
    for (const k of Object.keys(b)) if (!["operationId", "code", "message", "count"].includes(k)) throw badControlInput(k, "unknown field; use operationId, code, message and count");
    if (!isGlob(b.operationId) || !lroOperationIds().some((id) => globMatches(b.operationId as string, id))) {
      throw badControlInput("operationId", `must name (or glob-match) a long-running operation: ${lroOperationIds().join(", ")}`);
    }
    if (typeof b.code !== "string" || !b.code) throw badControlInput("code", "must be a non-empty string (the error code the operation ends with)");
    if (typeof b.message !== "string" || !b.message) throw badControlInput("message", "must be a non-empty string");
    if (b.count !== undefined && (typeof b.count !== "number" || !Number.isInteger(b.count) || b.count < 1 || b.count > 1000)) throw badControlInput("count", "must be an integer from 1 to 1000");
    const rules = modelOf(ctx.rt).lroFailures;
    rules.push({ operationId: b.operationId, code: b.code, message: b.message, remaining: (b.count as number | undefined) ?? 1 });
    return ok({ lroFailures: rules }, 201);
  };

/** DELETE /_emulator/lro-failures */
export const clearLroFailures: Handler = (ctx) => {
  modelOf(ctx.rt).lroFailures.length = 0;
  return ok({ lroFailures: [] });
};

const MODEL_SETTINGS = ["autoRotationDelays", "lroDurations", "lroRetryAfterSeconds"] as const;

function durationTable(field: string, v: unknown, keyOk: (k: string) => boolean, keyHint: string): Record<string, string> {
  if (!v || typeof v !== "object" || Array.isArray(v)) throw badControlInput(field, "must be an object of ISO-8601 durations");
  const out: Record<string, string> = {};
  for (const [k, d] of Object.entries(v)) {
    if (!keyOk(k)) throw badControlInput(`${field}.${k}`, keyHint);
    const parsed = typeof d === "string" ? parseDuration(d) : undefined;
    if (!parsed || parsed.sign < 0) throw badControlInput(`${field}.${k}`, "must be a non-negative ISO-8601 duration such as PT2M or P1D");
    out[k] = d as string;
  }
  return out;
}

/**
 * POST /_emulator/config: takes the model's settings (`autoRotationDelays`, `lroDurations`, `lroRetryAfterSeconds`)
 * and hands the rest to the wire layer's handler, applying ours only once both validated.
 */
export const setModelConfig =
  (inner: Handler): Handler =>
  async (ctx) => {
    const b = bodyObject(ctx);
    const next: Partial<RuntimeConfig> = {};
    if (b.autoRotationDelays !== undefined) {
      next.autoRotationDelays = durationTable("autoRotationDelays", b.autoRotationDelays, (k) => CONSUMER_KINDS.includes(k as ConsumerKind), `unknown consumer kind; use ${CONSUMER_KINDS.join(", ")}`);
    }
    if (b.lroDurations !== undefined) next.lroDurations = durationTable("lroDurations", b.lroDurations, isGlob, "must be an operation id or a glob such as DiskEncryptionSets_*");
    if (b.lroRetryAfterSeconds !== undefined) {
      const v = b.lroRetryAfterSeconds;
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 3600) throw badControlInput("lroRetryAfterSeconds", "must be an integer from 0 to 3600");
      next.lroRetryAfterSeconds = v;
    }
    const rest = Object.fromEntries(Object.entries(b).filter(([k]) => !(MODEL_SETTINGS as readonly string[]).includes(k)));
    const res = await inner({ ...ctx, req: { ...ctx.req, body: rest } });
    if (res.status >= 300) return res;
    if (next.autoRotationDelays) ctx.rt.config.autoRotationDelays = { ...ctx.rt.config.autoRotationDelays, ...next.autoRotationDelays };
    if (next.lroDurations) ctx.rt.config.lroDurations = next.lroDurations;
    if (next.lroRetryAfterSeconds !== undefined) ctx.rt.config.lroRetryAfterSeconds = next.lroRetryAfterSeconds;
    return ok({ ...ctx.rt.config });
  };
