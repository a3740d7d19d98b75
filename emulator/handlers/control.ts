/** /_emulator/* control endpoints (ARM host, no auth). Bad input → 400 naming the field. */
import { addDuration, parseDuration } from "../duration.js";
import { badControlInput } from "../errors.js";
import { FixtureError } from "../fixture.js";
import type { Fault } from "../backend/runtime.js";
import type { ConfigPatch } from "../backend/config.js";
import { configure } from "../backend/config.js";
import { throttlingPatchProblem } from "../backend/throttling.js";
import type { Handler, HandlerContext } from "./context.js";
import { ok } from "./context.js";

const bodyObject = (ctx: HandlerContext): Record<string, unknown> => {
  const b = ctx.req.body;
  if (!b || typeof b !== "object" || Array.isArray(b)) throw badControlInput("body", "must be a JSON object");
  return b as Record<string, unknown>;
};

const summary = (ctx: HandlerContext): Record<string, unknown> => ({
  fixture: ctx.rt.state.fixtureName,
  now: ctx.rt.clock.now.toISOString(),
  drift: ctx.rt.state.drift,
});

export const reset: Handler = (ctx) => {
  ctx.controller.reset();
  return ok(summary(ctx));
};

export const loadFixture: Handler = async (ctx) => {
  const b = bodyObject(ctx);
  const keys = Object.keys(b);
  const source = keys.length === 1 && typeof b.name === "string" ? b.name : b;
  try {
    await ctx.controller.loadFixture(source);
  } catch (e) {
    if (e instanceof FixtureError) throw badControlInput("fixture", e.message);
    throw e;
  }
  return ok(summary(ctx));
};

export const getClock: Handler = (ctx) => ok({ now: ctx.rt.clock.now.toISOString() });

export const setClock: Handler = (ctx) => {
  const b = bodyObject(ctx);
  if ((b.advance === undefined) === (b.set === undefined)) throw badControlInput("advance", "give exactly one of 'advance' (ISO-8601 duration) or 'set' (ISO instant)");
  if (b.advance !== undefined) {
    const d = typeof b.advance === "string" ? parseDuration(b.advance) : undefined;
    if (!d) throw badControlInput("advance", "must be an ISO-8601 duration such as P30D or PT1H");
    ctx.rt.clock.now = addDuration(ctx.rt.clock.now, d);
  } else {
    const t = typeof b.set === "string" && /^\d{4}-\d{2}-\d{2}T/.test(b.set) ? new Date(b.set) : undefined;
    if (!t || Number.isNaN(t.getTime())) throw badControlInput("set", "must be an ISO-8601 instant such as 2026-01-01T00:00:00Z");
    ctx.rt.clock.now = t;
  }
  return ok({ now: ctx.rt.clock.now.toISOString() });
};

export const addFault =
  (knownOperationIds: () => string[]): Handler =>
  (ctx) => {
    const b = bodyObject(ctx);
    if (typeof b.operationId !== "string" || !knownOperationIds().includes(b.operationId)) {
      throw badControlInput("operationId", `must be one of the served operation ids (see GET /_emulator/operations)`);
    }
    if (b.status !== undefined && (typeof b.status !== "number" || !Number.isInteger(b.status) || b.status < 400 || b.status > 599)) {
      throw badControlInput("status", "must be an HTTP error status from 400 to 599");
    }
    if (b.latencyMs !== undefined && (typeof b.latencyMs !== "number" || b.latencyMs < 0 || b.latencyMs > 60_000)) {
      throw badControlInput("latencyMs", "must be a number of milliseconds from 0 to 60000");
    }
    if (b.status === undefined && b.latencyMs === undefined) throw badControlInput("status", "give status (an error to inject) and/or latencyMs (a delay)");
    if (b.count !== undefined && (typeof b.count !== "number" || !Number.isInteger(b.count) || b.count < 1)) throw badControlInput("count", "must be a positive integer");
    if (b.code !== undefined && typeof b.code !== "string") throw badControlInput("code", "must be a string");
    if (b.message !== undefined && typeof b.message !== "string") throw badControlInput("message", "must be a string");
    const fault: Fault = {
      operationId: b.operationId,
      status: b.status as number | undefined,
      code: b.code as string | undefined,
      message: b.message as string | undefined,
      remaining: (b.count as number | undefined) ?? 1,
      latencyMs: b.latencyMs as number | undefined,
    };
    ctx.rt.faults.push(fault);
    return ok({ faults: ctx.rt.faults }, 201);
  };

export const clearFaults: Handler = (ctx) => {
  ctx.rt.faults.length = 0;
  return ok({ faults: [] });
};

export const requestCounts: Handler = (ctx) => {
  const sorted = (m: Map<string, number>) => Object.fromEntries([...m.entries()].sort(([a], [b]) => a.localeCompare(b)));
  return ok({ counts: sorted(ctx.rt.counts), throttled: sorted(ctx.rt.throttled) });
};

const CONFIG_KEYS = ["pageSize", "lroPolls", "throttling"];

export const setConfig: Handler = (ctx) => {
  const b = bodyObject(ctx);
  for (const k of Object.keys(b)) if (!CONFIG_KEYS.includes(k)) throw badControlInput(k, `unknown setting; use ${CONFIG_KEYS.join(", ")}`);
  if (b.pageSize !== undefined && (typeof b.pageSize !== "number" || !Number.isInteger(b.pageSize) || b.pageSize < 1 || b.pageSize > 1000)) {
    throw badControlInput("pageSize", "must be an integer from 1 to 1000");
  }
  if (b.lroPolls !== undefined && (typeof b.lroPolls !== "number" || !Number.isInteger(b.lroPolls) || b.lroPolls < 0 || b.lroPolls > 100)) {
    throw badControlInput("lroPolls", "must be an integer from 0 to 100");
  }
  const throttling = b.throttling === undefined ? undefined : throttlingPatchProblem(b.throttling);
  if (throttling) throw badControlInput(throttling.field, throttling.reason);
  return ok(configure(ctx.rt, b as ConfigPatch));
};

export const getState: Handler = (ctx) => ok(summary(ctx));
