/** Azure Monitor queries: Log Analytics (resource-context query on a workspace), the metrics batch, and /_emulator controls. */
import { parseDuration, resolveTime, addDuration } from "../duration.js";
import { metricsBatch, METRIC_DEFINITIONS, recordAudit, runQuery, seedMetric, workspaceForQuery } from "../backend/logAnalytics.js";
import type { LogAnalyticsWorkspaceState } from "../backend/state.js";
import { badControlInput } from "../errors.js";
import type { Handler, HandlerContext } from "./context.js";
import { ok } from "./context.js";

/** POST /v1/{resourceId}/query (LogsQueryClient.queryResource). */
export const queryResource: Handler = (ctx) => {
  const ws = workspaceForQuery(ctx.rt.state, ctx.params.resourceId ?? "", ctx.req.principalId!);
  return ok(runQuery(ctx.rt, ws, ctx.req.body));
};

/** POST /subscriptions/{subscriptionId}/metrics:getBatch on <region>.metrics.monitor.azure.com. */
export const getMetricsBatch: Handler = (ctx) =>
  ok(metricsBatch(ctx.rt, { subscriptionId: ctx.params.subscriptionId ?? "", region: ctx.req.metricsRegion ?? "", query: ctx.req.query, body: ctx.req.body, principalId: ctx.req.principalId ?? "" }));

// ---------------------------------------------------------------- control endpoints

function workspaceNamed(ctx: HandlerContext): LogAnalyticsWorkspaceState {
  const name = (ctx.params.workspaceName ?? "").toLowerCase();
  const ws = [...ctx.rt.state.workspaces.values()].find((w) => w.name.toLowerCase() === name);
  if (!ws) throw badControlInput("workspaceName", `no Log Analytics workspace '${ctx.params.workspaceName}' in the estate (${[...ctx.rt.state.workspaces.values()].map((w) => w.name).join(", ") || "it has none"})`);
  return ws;
}

export const listWorkspaces: Handler = (ctx) =>
  ok({ workspaces: [...ctx.rt.state.workspaces.values()].map((w) => ({ id: w.resourceId, name: w.name, customerId: w.customerId, readers: [...w.readers], rows: w.rows.length })) });

export const listWorkspaceRows: Handler = (ctx) => {
  const ws = workspaceNamed(ctx);
  return ok({ rows: ws.rows.map((r) => ({ seq: r.seq, ingestedAt: r.ingestedAt.toISOString(), row: Object.fromEntries(Object.entries(r.row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])) })) });
};

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/**
 * POST /_emulator/loganalytics/audit: { hsm, operation, status?, caller?, appId?, upn?, callerIpAddress?, time?, count? } — an
 * AuditEvent the HSM logs as if it had served the request (landed where its diagnostic settings send AuditEvent).
 */
export const seedAuditEvent: Handler = (ctx) => {
  const b = ctx.req.body as Record<string, unknown> | undefined;
  if (!b || typeof b !== "object" || Array.isArray(b)) throw badControlInput("body", "must be a JSON object");
  const hsm = ctx.rt.state.hsms.get(String(b.hsm ?? "").toLowerCase());
  if (!hsm) throw badControlInput("hsm", `must name an HSM of the estate (${[...ctx.rt.state.hsms.values()].map((h) => h.name).join(", ")})`);
  if (typeof b.operation !== "string" || !b.operation) throw badControlInput("operation", "must be an OperationName such as KeyGet");
  const status = b.status ?? 200;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599) throw badControlInput("status", "must be an HTTP status code");
  for (const f of ["caller", "appId"] as const) if (b[f] !== undefined && !GUID.test(String(b[f]))) throw badControlInput(f, "must be a GUID");
  const at = b.time === undefined ? new Date(ctx.rt.clock.now.getTime()) : typeof b.time === "string" ? resolveTime(b.time, ctx.rt.clock.now) : undefined;
  if (!at) throw badControlInput("time", "must be an ISO instant or an offset like -PT1H");
  const count = b.count ?? 1;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > 1000) throw badControlInput("count", "must be a whole number from 1 to 1000");
  let workspaces = 0;
  for (let i = 0; i < count; i++) {
    workspaces = recordAudit(ctx.rt.state, hsm, { at, operationName: b.operation, status, principalId: str(b.caller), appId: str(b.appId), upn: str(b.upn), callerIpAddress: str(b.callerIpAddress) });
  }
  return ok({ workspaces, rows: count * workspaces });
};

/** POST /_emulator/monitor/metrics: { hsm, metric, value, from?, to? } — the metric's value for every hour in [from, to) (default: the last day). */
export const seedMetrics: Handler = (ctx) => {
  const b = ctx.req.body as Record<string, unknown> | undefined;
  if (!b || typeof b !== "object" || Array.isArray(b)) throw badControlInput("body", "must be a JSON object");
  const hsm = ctx.rt.state.hsms.get(String(b.hsm ?? "").toLowerCase());
  if (!hsm) throw badControlInput("hsm", `must name an HSM of the estate (${[...ctx.rt.state.hsms.values()].map((h) => h.name).join(", ")})`);
  if (typeof b.metric !== "string" || !METRIC_DEFINITIONS[b.metric]) throw badControlInput("metric", `must be one of ${Object.keys(METRIC_DEFINITIONS).join(", ")}`);
  if (typeof b.value !== "number" || !Number.isFinite(b.value) || b.value < 0) throw badControlInput("value", "must be a number ≥ 0");
  const now = ctx.rt.clock.now;
  const time = (field: "from" | "to", fallback: Date): Date => {
    if (b[field] === undefined) return fallback;
    const t = typeof b[field] === "string" ? resolveTime(b[field], now) : undefined;
    if (!t) throw badControlInput(field, "must be an ISO instant or an offset like -P1D");
    return t;
  };
  const from = time("from", addDuration(now, parseDuration("-P1D")!));
  const to = time("to", addDuration(now, "PT1H"));
  if (from >= to) throw badControlInput("from", "must be before to");
  seedMetric(ctx.rt, hsm, b.metric, b.value, from, to);
  return ok({ hsm: hsm.name, metric: b.metric, value: b.value, from: from.toISOString(), to: to.toISOString() });
};
