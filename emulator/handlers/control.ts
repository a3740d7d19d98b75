/** /_emulator/* control endpoints (ARM host, no auth): validate and serialise; state changes go through the backend. Bad input → 400 naming the field. */
import { parseDuration } from "../duration.js";
import { advanceClock, setClock as setClockTo } from "../backend/clock.js";
import { badControlInput, ServiceError } from "../errors.js";
import { FixtureError } from "../fixture.js";
import type { FaultSpec } from "../backend/faults.js";
import { addFault as addFaultTo, clearFaults as clearFaultsOf, globRegExp, listFaults as listFaultsOf, PLANES, removeFault as removeFaultOf } from "../backend/faults.js";
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
    advanceClock(ctx.rt, d);
  } else {
    const t = typeof b.set === "string" && /^\d{4}-\d{2}-\d{2}T/.test(b.set) ? new Date(b.set) : undefined;
    if (!t || Number.isNaN(t.getTime())) throw badControlInput("set", "must be an ISO-8601 instant such as 2026-01-01T00:00:00Z");
    setClockTo(ctx.rt, t);
  }
  return ok({ now: ctx.rt.clock.now.toISOString() });
};

const isInt = (v: unknown, min: number, max: number): v is number => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
const FAULT_KEYS = ["operationId", "host", "subscriptionId", "behaviour", "status", "code", "message", "retryAfter", "latencyMs", "count", "persistent"];

/** Validates a POST /_emulator/faults body; every error names its field. */
function faultSpec(ctx: HandlerContext, b: Record<string, unknown>, servedOperationIds: string[]): FaultSpec {
  for (const k of Object.keys(b)) if (!FAULT_KEYS.includes(k)) throw badControlInput(k, `unknown fault setting; use ${FAULT_KEYS.join(", ")}`);
  if (b.operationId === undefined && b.host === undefined && b.subscriptionId === undefined) throw badControlInput("operationId", "give at least one of operationId, host or subscriptionId");
  if (b.operationId !== undefined) {
    const id = b.operationId;
    const known = typeof id === "string" && (id.includes("*") ? servedOperationIds.some((o) => globRegExp(id).test(o)) : servedOperationIds.includes(id));
    if (!known) throw badControlInput("operationId", "must be a served operation id (see OPERATIONS.md) or a glob with * that matches at least one");
  }
  if (b.host !== undefined) {
    const h = typeof b.host === "string" ? b.host.toLowerCase() : "";
    const { hsms, eventGridTopics, dataCollectionRules } = ctx.rt.state;
    if (!PLANES.includes(h) && !hsms.has(h) && !eventGridTopics.has(h) && !dataCollectionRules.has(h)) {
      const named = [...hsms.keys(), ...eventGridTopics.keys(), ...dataCollectionRules.keys()];
      throw badControlInput("host", `must be "arm", "hsm", "eventgrid", "monitor", "loganalytics", "metrics", the host label of an HSM, the name of an Event Grid topic or of a data collection rule in the estate (${named.join(", ")})`);
    }
  }
  if (b.subscriptionId !== undefined && (typeof b.subscriptionId !== "string" || !/^[0-9a-fA-F-]{36}$/.test(b.subscriptionId))) throw badControlInput("subscriptionId", "must be a subscription id (a GUID)");
  const behaviour = b.behaviour ?? "status";
  if (behaviour !== "status" && behaviour !== "reset" && behaviour !== "hang") throw badControlInput("behaviour", 'must be "status", "reset" or "hang"');
  if (b.status !== undefined && !isInt(b.status, 400, 599)) throw badControlInput("status", "must be an HTTP error status from 400 to 599");
  if (b.latencyMs !== undefined && (typeof b.latencyMs !== "number" || !(b.latencyMs >= 0) || b.latencyMs > 60_000)) throw badControlInput("latencyMs", "must be a number of milliseconds from 0 to 60000");
  if (behaviour === "status" && b.status === undefined && b.latencyMs === undefined) throw badControlInput("status", "give status (an error to inject) and/or latencyMs (a delay), or a behaviour of reset or hang");
  if (behaviour !== "status" && (b.status !== undefined || b.retryAfter !== undefined)) throw badControlInput(b.status !== undefined ? "status" : "retryAfter", `does not apply to behaviour "${String(behaviour)}" (no response is sent)`);
  if (b.retryAfter !== undefined && !isInt(b.retryAfter, 0, 86_400)) throw badControlInput("retryAfter", "must be a whole number of seconds from 0 to 86400");
  if (b.count !== undefined && !isInt(b.count, 1, Number.MAX_SAFE_INTEGER)) throw badControlInput("count", "must be a positive integer");
  if (b.persistent !== undefined && typeof b.persistent !== "boolean") throw badControlInput("persistent", "must be a boolean");
  if (b.code !== undefined && typeof b.code !== "string") throw badControlInput("code", "must be a string");
  if (b.message !== undefined && typeof b.message !== "string") throw badControlInput("message", "must be a string");
  return { ...(b as FaultSpec), behaviour };
}

export const addFault =
  (servedOperationIds: () => string[]): Handler =>
  (ctx) =>
    ok(addFaultTo(ctx.rt, faultSpec(ctx, bodyObject(ctx), servedOperationIds())), 201);

export const listFaults: Handler = (ctx) => ok({ faults: listFaultsOf(ctx.rt) });

export const clearFaults: Handler = (ctx) => {
  clearFaultsOf(ctx.rt);
  return ok({ faults: [] });
};

export const removeFault: Handler = (ctx) => {
  const removed = removeFaultOf(ctx.rt, ctx.params.faultId!);
  if (!removed) throw new ServiceError(404, "FaultNotFound", `faultId: no fault '${ctx.params.faultId}' (see GET /_emulator/faults)`);
  return ok(removed);
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
