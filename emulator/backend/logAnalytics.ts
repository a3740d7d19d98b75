/**
 * Azure Monitor as the emulated HSMs feed it: Log Analytics workspaces holding one AuditEvent row (AzureDiagnostics) per
 * HSM data-plane request, answered through the query API's KQL subset (kql.ts); and the HSMs' Availability and
 * ServiceApiLatency metrics, answered by the regional metrics batch API. An HSM lands rows only in the workspaces its
 * diagnostic settings send AuditEvent to, at the time of the request; rows become queryable after INGESTION_DELAY.
 */
import { randomUUID } from "node:crypto";
import type { Fixture } from "../fixture.js";
import { authorizeArm, isAllowed } from "./armRbac.js";
import { addDuration, parseDuration, resolveTime } from "../duration.js";
import { ServiceError } from "../errors.js";
import { KEYWARDEN_PRINCIPAL } from "./eventGrid.js";
import { KqlError, parseKql, runKql, type KqlResult, type KqlRow, type KqlType } from "./kql.js";
import type { Runtime } from "./runtime.js";
import type { AuditRow, EstateState, HsmState, LogAnalyticsWorkspaceState } from "./state.js";
import { armId, getResource, listChildren } from "./state.js";
import { tokenClaims } from "./tokenClaims.js";

/** The audience of an Entra token for the Log Analytics query API (scope https://api.loganalytics.io/.default). */
export const LOG_ANALYTICS_AUDIENCE = "https://api.loganalytics.io";
/**
 * Audiences the metrics batch API accepts: @azure/monitor-query-metrics 1.0.0 asks for ARM's (management.azure.com) by
 * default; the REST docs name https://metrics.monitor.azure.com. UNVERIFIED whether the service takes both.
 */
export const METRICS_AUDIENCES = ["https://management.azure.com", "https://metrics.monitor.azure.com"];
/** Audit logs reach the workspace within minutes of the request (Managed HSM logging: "10 minutes (at most)"). */
export const INGESTION_DELAY = "PT2M";
export const AUDIT_TABLE = "AzureDiagnostics";
const HSM_NAMESPACE = "microsoft.keyvault/managedhsms";

/** The AzureDiagnostics columns a Managed HSM AuditEvent row fills (UNVERIFIED names beyond the documented common ones). */
export const AUDIT_COLUMNS: ReadonlyMap<string, KqlType> = new Map<string, KqlType>([
  ["TimeGenerated", "datetime"],
  ["ResourceId", "string"],
  ["_ResourceId", "string"],
  ["SubscriptionId", "string"],
  ["ResourceGroup", "string"],
  ["ResourceProvider", "string"],
  ["ResourceType", "string"],
  ["Resource", "string"],
  ["Category", "string"],
  ["OperationName", "string"],
  ["ResultType", "string"],
  ["ResultSignature", "string"],
  ["httpStatusCode_d", "real"],
  ["DurationMs", "long"],
  ["CallerIPAddress", "string"],
  ["identity_claim_oid_g", "guid"],
  ["identity_claim_appid_g", "guid"],
  ["identity_claim_upn_s", "string"],
  ["requestUri_s", "string"],
]);

/** What the Managed HSM logs as OperationName for each served operation (UNVERIFIED beyond Key Vault's names). */
const OPERATION_NAMES: Record<string, string> = {
  GetKeys: "KeyList",
  GetKeyVersions: "KeyListVersions",
  GetKey: "KeyGet",
  CreateKey: "KeyCreate",
  UpdateKey: "KeyUpdate",
  RotateKey: "KeyRotate",
  GetKeyRotationPolicy: "KeyRotationPolicyGet",
  UpdateKeyRotationPolicy: "KeyRotationPolicyUpdate",
  RoleAssignments_ListForScope: "RoleAssignmentList",
  RoleAssignments_Get: "RoleAssignmentGet",
  RoleAssignments_Create: "RoleAssignmentCreate",
  RoleAssignments_Delete: "RoleAssignmentDelete",
  RoleDefinitions_List: "RoleDefinitionList",
  RoleDefinitions_Get: "RoleDefinitionGet",
};

const RESULT_SIGNATURES: Record<number, string> = { 200: "OK", 201: "Created", 204: "NoContent", 400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable" };

// ---------------------------------------------------------------- workspaces

const WORKSPACE_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.OperationalInsights\/workspaces\/([^/]+)$/i;

export function isWorkspaceId(resourceId: string): boolean {
  return WORKSPACE_ID.test(resourceId.replace(/\/+$/, ""));
}

function addWorkspace(state: EstateState, resourceId: string, location: string | undefined, readers: string[], customerId?: string): LogAnalyticsWorkspaceState {
  const key = resourceId.toLowerCase().replace(/\/+$/, "");
  let ws = state.workspaces.get(key);
  if (!ws) {
    const m = WORKSPACE_ID.exec(resourceId)!;
    ws = { resourceId, name: m[3]!, location, customerId: (customerId ?? derivedCustomerId(key)).toLowerCase(), readers: new Set(readers.map((r) => r.toLowerCase())), rows: [] };
    state.workspaces.set(key, ws);
  }
  return ws;
}

/** A workspace's default customer id (its GUID): derived from its resource id, stable across runs. */
function derivedCustomerId(key: string): string {
  let h = 0x811c9dc5;
  const hex: string[] = [];
  for (let round = 0; round < 4; round++) {
    for (const c of `${round}|${key}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    hex.push(h.toString(16).padStart(8, "0"));
  }
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-8${s.slice(17, 20)}-${s.slice(20, 32)}`;
}

/**
 * The fixture's workspaces, plus one for every workspace a diagnostic setting names (it exists in Azure, or the setting
 * could not have been saved); readers = Log Analytics Reader holders (absent: KeyWarden's principal if listed). Then the
 * fixture's seeded audit events of each HSM, landed where its settings send AuditEvent.
 */
export function materialiseSignals(fixture: Fixture, state: EstateState, now: Date): void {
  const keywardenListed = fixture.principals.some((p) => p.id.toLowerCase() === KEYWARDEN_PRINCIPAL);
  const defaultReaders = keywardenListed ? [KEYWARDEN_PRINCIPAL] : [];
  for (const w of fixture.logAnalyticsWorkspaces) {
    addWorkspace(state, armId(w.subscriptionId ?? fixture.subscriptionId, w.resourceGroup, "Microsoft.OperationalInsights", "workspaces", w.name), w.location.toLowerCase(), w.readers ?? defaultReaders, w.customerId);
  }
  for (const h of fixture.managedHsms) {
    for (const ds of h.diagnosticSettings) if (ds.workspaceId && isWorkspaceId(ds.workspaceId)) addWorkspace(state, ds.workspaceId, undefined, defaultReaders);
  }
  for (const h of fixture.managedHsms) {
    const hsm = state.hsms.get(h.name.toLowerCase())!;
    state.hsmMetrics.set(hsm.label, { baseline: { Availability: h.metrics.availability, ServiceApiLatency: h.metrics.serviceApiLatencyMs }, overrides: [] });
    for (const e of h.auditEvents) {
      const at = resolveTime(e.time, now)!;
      for (let i = 0; i < e.count; i++) {
        recordAudit(state, hsm, { at, operationName: e.operation, status: e.status, principalId: e.caller, appId: e.appId, upn: e.upn, callerIpAddress: e.callerIpAddress });
      }
    }
  }
}

/** The workspaces an HSM's diagnostic settings send AuditEvent to (enabled category AuditEvent, or the audit / allLogs group). */
export function auditWorkspacesOf(state: EstateState, hsm: HsmState): LogAnalyticsWorkspaceState[] {
  const out: LogAnalyticsWorkspaceState[] = [];
  for (const ds of listChildren(state, hsm.resourceId, "Microsoft.Insights/diagnosticSettings")) {
    const props = (ds.body.properties ?? {}) as { workspaceId?: unknown; logs?: { category?: string; categoryGroup?: string; enabled?: boolean }[] };
    const sendsAudit = (props.logs ?? []).some((l) => l.enabled === true && (l.category?.toLowerCase() === "auditevent" || ["audit", "alllogs"].includes(l.categoryGroup?.toLowerCase() ?? "")));
    if (!sendsAudit || typeof props.workspaceId !== "string") continue;
    const ws = state.workspaces.get(props.workspaceId.toLowerCase().replace(/\/+$/, ""));
    if (ws && !out.includes(ws)) out.push(ws);
  }
  return out;
}

export interface AuditInput {
  at: Date;
  operationName: string;
  status: number;
  principalId?: string;
  appId?: string;
  upn?: string;
  callerIpAddress?: string;
  requestUri?: string;
}

/** Lands one AuditEvent row for `hsm` in every workspace its settings send AuditEvent to (none: the event is not kept). */
export function recordAudit(state: EstateState, hsm: HsmState, input: AuditInput): number {
  const workspaces = auditWorkspacesOf(state, hsm);
  if (workspaces.length === 0) return 0;
  const [, , subscriptionId = "", , resourceGroup = ""] = hsm.resourceId.split("/");
  const ingestedAt = addDuration(input.at, INGESTION_DELAY);
  for (const ws of workspaces) {
    const row: KqlRow = {
      TimeGenerated: new Date(input.at.getTime()),
      // AzureDiagnostics upper-cases ResourceId (UNVERIFIED for Managed HSM; KeyWarden compares with =~ either way).
      ResourceId: hsm.resourceId.toUpperCase(),
      _ResourceId: hsm.resourceId.toLowerCase(),
      SubscriptionId: subscriptionId,
      ResourceGroup: resourceGroup.toUpperCase(),
      ResourceProvider: "MICROSOFT.KEYVAULT",
      ResourceType: "MANAGEDHSMS",
      Resource: hsm.name.toUpperCase(),
      Category: "AuditEvent",
      OperationName: input.operationName,
      ResultType: input.status < 400 ? "Success" : (RESULT_SIGNATURES[input.status] ?? "Failure"),
      ResultSignature: RESULT_SIGNATURES[input.status] ?? String(input.status),
      httpStatusCode_d: input.status,
      DurationMs: 0,
      CallerIPAddress: input.callerIpAddress ?? "127.0.0.1",
      identity_claim_oid_g: input.principalId?.toLowerCase() ?? null,
      identity_claim_appid_g: input.appId?.toLowerCase() ?? null,
      identity_claim_upn_s: input.upn ?? null,
      requestUri_s: input.requestUri ?? null,
    };
    ws.rows.push({ seq: ws.rows.length + 1, ingestedAt, row } satisfies AuditRow);
  }
  return workspaces.length;
}

/** One data-plane exchange of the emulated HSM (server.ts calls it for every answered request). */
export function recordHsmRequest(rt: Runtime, hsmLabel: string, exchange: { operationId?: string; status: number; bearer?: string; callerIpAddress?: string; path: string }): void {
  const hsm = rt.state.hsms.get(hsmLabel);
  if (!hsm) return;
  const claims = exchange.bearer ? tokenClaims(exchange.bearer) : undefined;
  const str = (v: unknown): string | undefined => (typeof v === "string" && v ? v : undefined);
  recordAudit(rt.state, hsm, {
    at: new Date(rt.clock.now.getTime()),
    // A 401 names the operation it was refused for; a path no route serves is logged as Authentication (UNVERIFIED name).
    operationName: (exchange.operationId && OPERATION_NAMES[exchange.operationId]) ?? "Authentication",
    status: exchange.status,
    principalId: exchange.status === 401 ? undefined : str(claims?.oid),
    appId: exchange.status === 401 ? undefined : str((claims as { appid?: unknown } | undefined)?.appid),
    upn: exchange.status === 401 ? undefined : str((claims as { upn?: unknown } | undefined)?.upn),
    callerIpAddress: exchange.callerIpAddress,
    requestUri: `https://${hsm.label}.managedhsm.azure.net${exchange.path}`,
  });
}

// ---------------------------------------------------------------- query API

export const laError = (status: number, code: string, message: string, innererror?: Record<string, unknown>): ServiceError =>
  new ServiceError(status, code, message, {}, { correlationId: randomUUID(), ...(innererror ? { innererror } : {}) });

/** Authenticates a query: the caller's object id (lower case), or the 401 Log Analytics answers. */
export function authenticateQuery(bearer: string | undefined): string {
  // UNVERIFIED: the exact codes and wording of Log Analytics' 401s.
  if (bearer === undefined) throw laError(401, "AuthorizationRequiredError", "Valid authentication was not provided");
  const claims = tokenClaims(bearer);
  const aud = typeof claims?.aud === "string" ? claims.aud.replace(/\/+$/, "") : undefined;
  if (aud !== LOG_ANALYTICS_AUDIENCE) throw laError(401, "InvalidTokenError", `The provided authentication is not valid for this resource: the token's audience is ${aud === undefined ? "missing" : `'${aud}'`}; use ${LOG_ANALYTICS_AUDIENCE}/.default.`);
  const oid = typeof claims?.oid === "string" && claims.oid ? claims.oid.toLowerCase() : undefined;
  if (!oid) throw laError(401, "InvalidTokenError", "The provided authentication is not valid for this resource: the token names no principal (oid).");
  return oid;
}

/** The action a workspace query needs (UNVERIFIED: which of query/read and analytics/query/action the query API checks). */
export const QUERY_ACTION = "Microsoft.OperationalInsights/workspaces/query/read";

/** The action a metrics read needs, on each resource it names. */
export const METRICS_READ_ACTION = "Microsoft.Insights/metrics/read";

/** The workspace a resource-context query names, checked for the caller's Log Analytics Reader role. */
export function workspaceForQuery(state: EstateState, resourceId: string, principalId: string): LogAnalyticsWorkspaceState {
  const id = "/" + resourceId.replace(/^\/+|\/+$/g, "");
  if (!isWorkspaceId(id)) throw new ServiceError(501, "NotImplemented", `The emulator answers resource-context queries on Log Analytics workspaces only, not on '${id}'.`);
  const ws = state.workspaces.get(id.toLowerCase());
  // UNVERIFIED: the code Log Analytics answers for a workspace that does not exist.
  if (!ws) throw laError(404, "ResourceNotFoundError", `The resource '${id}' was not found.`);
  // With ARM RBAC modelled, the workspace's role assignments decide (UNVERIFIED: the action the query API checks; we take
  // the read of the workspace's query, which `*/read` covers); otherwise the workspace's listed readers.
  const allowed = state.armRbac ? isAllowed(state.armRbac, principalId, QUERY_ACTION, ws.resourceId) : ws.readers.has(principalId);
  if (!allowed) throw laError(403, "InsufficientAccessError", "The provided credentials have insufficient access to perform the requested operation");
  return ws;
}

/** ISO-8601 interval (start/end, duration, start/duration, duration/end) → [start, end]; a duration alone ends now. */
export function parseTimespan(timespan: string, now: Date): { start: Date; end: Date } | undefined {
  const instant = (s: string): Date | undefined => (/^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)) ? new Date(s) : undefined);
  const back = (d: string, from: Date): Date | undefined => (parseDuration(d) ? addDuration(from, `-${d}`) : undefined);
  const parts = timespan.split("/");
  if (parts.length === 1) {
    const start = back(parts[0]!, now);
    return start ? { start, end: now } : undefined;
  }
  if (parts.length !== 2) return undefined;
  const [a, b] = parts as [string, string];
  const start = instant(a);
  const end = instant(b);
  if (start && end) return start <= end ? { start, end } : undefined;
  if (start && parseDuration(b)) return { start, end: addDuration(start, b) };
  if (end) {
    const s = back(a, end);
    return s ? { start: s, end } : undefined;
  }
  return undefined;
}

const badArgument = (message: string, innererror?: Record<string, unknown>): ServiceError => laError(400, "BadArgumentError", message, innererror);

/**
 * Runs a POST …/query body ({ query, timespan? }) over the workspace's rows that have been ingested by now and fall in the
 * timespan. A query outside the KQL subset answers 400 BadArgumentError / SyntaxError (or SemanticError for an unknown
 * table or column), Log Analytics' shape (UNVERIFIED inner codes beyond SyntaxError / SemanticError).
 */
export function runQuery(rt: Runtime, ws: LogAnalyticsWorkspaceState, body: unknown): { tables: { name: string; columns: { name: string; type: string }[]; rows: unknown[][] }[] } {
  const b = body && typeof body === "object" && !Array.isArray(body) ? (body as { query?: unknown; timespan?: unknown }) : undefined;
  if (!b || typeof b.query !== "string" || b.query.trim() === "") throw badArgument("The request had some invalid properties", { code: "QueryValidationError", message: "'query' is required and must be a non-empty string." });
  const now = new Date(rt.clock.now.getTime());
  let window: { start: Date; end: Date } | undefined;
  if (b.timespan !== undefined) {
    window = typeof b.timespan === "string" ? parseTimespan(b.timespan, now) : undefined;
    if (!window) throw badArgument("The request had some invalid properties", { code: "QueryValidationError", message: `'timespan' must be an ISO-8601 interval (start/end, duration, start/duration or duration/end), got ${JSON.stringify(b.timespan)}.` });
  }
  let result: KqlResult;
  try {
    const query = parseKql(b.query);
    const rows = ws.rows
      .filter((r) => r.ingestedAt.getTime() <= now.getTime())
      .map((r) => r.row)
      .filter((r) => !window || ((r.TimeGenerated as Date).getTime() >= window.start.getTime() && (r.TimeGenerated as Date).getTime() <= window.end.getTime()));
    result = runKql(query, AUDIT_TABLE, { columns: AUDIT_COLUMNS, rows }, now);
  } catch (e) {
    if (!(e instanceof KqlError)) throw e;
    const inner =
      e.kind === "syntax"
        ? { code: "SyntaxError", message: "A recognition error occurred in the query.", innererror: { code: "SYN0002", message: `${e.message} on line [1,${e.pos}]`, line: 1, pos: e.pos, token: e.token } }
        : { code: "SemanticError", message: "A semantic error occurred in the query.", innererror: { code: "SEM0100", message: e.message } };
    throw badArgument("The request had some invalid properties", inner);
  }
  return {
    tables: [
      {
        name: "PrimaryResult",
        columns: result.columns,
        rows: result.rows.map((row) => row.map((v) => (v instanceof Date ? v.toISOString() : v))),
      },
    ],
  };
}

// ---------------------------------------------------------------- metrics batch

export const METRIC_DEFINITIONS: Record<string, { localizedValue: string; unit: string; description: string }> = {
  Availability: { localizedValue: "Overall Service Availability", unit: "Percent", description: "Managed HSM requests availability (UNVERIFIED wording)" },
  ServiceApiLatency: { localizedValue: "Overall Service Api Latency", unit: "MilliSeconds", description: "Overall latency of service api requests (UNVERIFIED wording)" },
};

const METRICS_HOST = /^([a-z0-9]+)\.metrics\.monitor\.azure\.com$/;

/** `<region>.metrics.monitor.azure.com` → the region; anything else → undefined. */
export function parseMetricsHost(hostname: string): string | undefined {
  return METRICS_HOST.exec(hostname.toLowerCase())?.[1];
}

export const metricsError = (status: number, code: string, message: string): ServiceError => new ServiceError(status, code, message);

export function authenticateMetrics(bearer: string | undefined): string {
  // UNVERIFIED: the metrics data plane's 401 codes; ARM's are used.
  if (bearer === undefined) throw metricsError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.");
  const claims = tokenClaims(bearer);
  const aud = typeof claims?.aud === "string" ? claims.aud.replace(/\/+$/, "") : undefined;
  if (aud === undefined || !METRICS_AUDIENCES.includes(aud)) throw metricsError(401, "InvalidAuthenticationTokenAudience", `The access token has an invalid audience ${aud === undefined ? "(none)" : `'${aud}'`}; use ${METRICS_AUDIENCES.join(" or ")}.`);
  return typeof claims?.oid === "string" ? claims.oid.toLowerCase() : "";
}

/** The metric's value for the hour that holds `t`: the latest seeded override covering it, else the HSM's baseline. */
function sampleAt(rt: Runtime, hsm: HsmState, metric: string, t: Date): number {
  const m = rt.state.hsmMetrics.get(hsm.label);
  const ms = t.getTime();
  for (let i = (m?.overrides.length ?? 0) - 1; i >= 0; i--) {
    const o = m!.overrides[i]!;
    if (o.metric === metric && o.from.getTime() <= ms && ms < o.to.getTime()) return o.value;
  }
  return m?.baseline[metric] ?? 0;
}

const HOUR = 3_600_000;

interface BatchQuery {
  subscriptionId: string;
  region: string;
  query: URLSearchParams;
  body: unknown;
  /** The caller's object id (lower case; "" when the token names none). */
  principalId: string;
}

/** POST /subscriptions/{sub}/metrics:getBatch: one value item per resource, one metric per requested name. */
export function metricsBatch(rt: Runtime, q: BatchQuery): { values: unknown[] } {
  const bad = (message: string): ServiceError => metricsError(400, "BadRequest", message);
  const namespace = q.query.get("metricnamespace");
  if (!namespace) throw bad("metricnamespace: the metric namespace is required.");
  if (namespace.toLowerCase() !== HSM_NAMESPACE) throw bad(`metricnamespace: the emulator serves metrics of Microsoft.KeyVault/managedHSMs only, not '${namespace}'.`);
  const names = (q.query.get("metricnames") ?? "").split(",").map((n) => n.trim()).filter(Boolean);
  if (names.length === 0) throw bad("metricnames: at least one metric name is required.");
  for (const n of names) {
    if (!METRIC_DEFINITIONS[n]) throw bad(`Failed to find metric configuration for provider: Microsoft.KeyVault, resource Type: managedHSMs, metric: ${n}, Valid metrics: ${Object.keys(METRIC_DEFINITIONS).join(",")}`);
  }
  const aggregations = (q.query.get("aggregation") ?? "average").split(",").map((a) => a.trim().toLowerCase()).filter(Boolean);
  for (const a of aggregations) if (!["average", "minimum", "maximum", "total", "count"].includes(a)) throw bad(`aggregation: '${a}' is not one of average, minimum, maximum, total, count.`);
  const now = new Date(rt.clock.now.getTime());
  const end = q.query.get("endtime") ? new Date(q.query.get("endtime")!) : now;
  const start = q.query.get("starttime") ? new Date(q.query.get("starttime")!) : new Date(end.getTime() - HOUR);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || start >= end) throw bad("starttime/endtime: give ISO-8601 instants with starttime before endtime.");
  const intervalText = q.query.get("interval") ?? "PT1M";
  const full = intervalText.toUpperCase() === "FULL";
  const stepMs = full ? end.getTime() - start.getTime() : intervalText && parseDuration(intervalText) ? addDuration(new Date(0), intervalText).getTime() : NaN;
  if (!(stepMs > 0)) throw bad(`interval: '${intervalText}' is not an ISO-8601 duration or FULL.`);
  const ids = (q.body as { resourceids?: unknown } | undefined)?.resourceids;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => typeof i === "string")) throw bad("resourceids: the body must list at least one resource id.");

  const values = (ids as string[]).map((id) => {
    const hsm = [...rt.state.hsms.values()].find((h) => h.resourceId.toLowerCase() === id.toLowerCase());
    if (!hsm) throw bad(`resourceids: '${id}' is not a Managed HSM of the emulated estate.`);
    if (hsm.resourceId.split("/")[2]!.toLowerCase() !== q.subscriptionId.toLowerCase()) throw bad(`resourceids: '${id}' is not in subscription ${q.subscriptionId}.`);
    const location = String(getResource(rt.state, hsm.resourceId)?.body.location ?? "").toLowerCase();
    if (location !== q.region) throw bad(`resourceids: '${id}' is in region '${location}', not '${q.region}' (use https://${location}.metrics.monitor.azure.com).`);
    // UNVERIFIED: that the batch refuses the whole request (not the one resource) and with ARM's AuthorizationFailed.
    authorizeArm(rt.state.armRbac, q.principalId, METRICS_READ_ACTION, hsm.resourceId);
    const value = names.map((name) => {
      const def = METRIC_DEFINITIONS[name]!;
      const data: Record<string, unknown>[] = [];
      for (let b = start.getTime(); b < end.getTime(); b += stepMs) {
        const bucketEnd = Math.min(b + stepMs, end.getTime());
        const point: Record<string, unknown> = { timeStamp: new Date(b).toISOString().replace(".000Z", "Z") };
        // Only what has happened: no values for a bucket that starts after now.
        if (b < now.getTime()) {
          const samples: number[] = [];
          for (let t = Math.ceil(b / HOUR) * HOUR; t < Math.min(bucketEnd, now.getTime()); t += HOUR) samples.push(sampleAt(rt, hsm, name, new Date(t)));
          if (samples.length === 0) samples.push(sampleAt(rt, hsm, name, new Date(b)));
          const total = samples.reduce((s, v) => s + v, 0);
          const agg: Record<string, number> = { average: total / samples.length, minimum: Math.min(...samples), maximum: Math.max(...samples), total, count: samples.length };
          for (const a of aggregations) point[a] = agg[a];
        }
        data.push(point);
      }
      return {
        id: `${hsm.resourceId}/providers/Microsoft.Insights/metrics/${name}`,
        type: "Microsoft.Insights/metrics",
        name: { value: name, localizedValue: def.localizedValue },
        displayDescription: def.description,
        unit: def.unit,
        timeseries: [{ metadatavalues: [], data }],
        errorCode: "Success",
      };
    });
    return {
      starttime: start.toISOString().replace(".000Z", "Z"),
      endtime: end.toISOString().replace(".000Z", "Z"),
      interval: full ? fullInterval(end.getTime() - start.getTime()) : intervalText,
      namespace: HSM_NAMESPACE,
      resourceregion: q.region,
      resourceid: hsm.resourceId,
      value,
    };
  });
  return { values };
}

/** The interval a FULL query answers: the whole span, as an ISO-8601 duration. */
function fullInterval(ms: number): string {
  return ms % HOUR === 0 ? `PT${ms / HOUR}H` : `PT${Math.round(ms / 60_000)}M`;
}

/** Seeds a metric value for [from, to) (hours); later seeds win over earlier ones and the fixture's baseline. */
export function seedMetric(rt: Runtime, hsm: HsmState, metric: string, value: number, from: Date, to: Date): void {
  const m = rt.state.hsmMetrics.get(hsm.label) ?? { baseline: {}, overrides: [] };
  m.overrides.push({ metric, value, from, to });
  rt.state.hsmMetrics.set(hsm.label, m);
}
