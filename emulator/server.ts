/**
 * Request pipeline: normalise → pick host (Managed HSM, Event Grid topic or data collection endpoint data plane by Host
 * header, else ARM/control) → auth → route → api-version → ARM token buckets → fault injection → handler → JSON response → onExchange.
 * Faults that reset or hang the connection send no response and report no exchange.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import {
  ServiceError,
  armAuthenticationFailed,
  armInvalidApiVersion,
  armMissingApiVersion,
  egBadRequest,
  egTopicNotFound,
  ensureError,
  ingestBadRequest,
  ingestEndpointNotFound,
  kvBadParameter,
  kvHsmNotFound,
  kvUnauthorized,
  methodNotAllowed,
  notImplemented,
} from "./errors.js";
import type { Runtime } from "./backend/runtime.js";
import { armActionOf, armScopeOf, authorizeArm } from "./backend/armRbac.js";
import { resolveScope } from "./backend/scope.js";
import { takeFaults } from "./backend/faults.js";
import { authorizePublish, parseTopicHost, topicForHost } from "./backend/eventGrid.js";
import { authenticateIngest, authorizeIngest, endpointForHost, parseIngestionHost } from "./backend/ingestion.js";
import { authenticateMetrics, authenticateQuery, parseMetricsHost, recordHsmRequest } from "./backend/logAnalytics.js";
import { principalKey, subscriptionOfPath, takeToken } from "./backend/throttling.js";
import type { Controller, EmuRequest, HandlerResult } from "./handlers/context.js";
import type { Route, RouteMatch } from "./routes.js";
import { matchPath } from "./routes.js";

export interface Exchange {
  operationId: string | undefined;
  method: string;
  host: string;
  path: string;
  query: Record<string, string>;
  requestBody: unknown;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody: unknown;
}

const HSM_HOST = /^([a-z0-9-]+)\.managedhsm\.azure\.net$/i;
/** The Log Analytics query API's host (the public cloud's). */
const LOG_ANALYTICS_HOST = "api.loganalytics.io";

/** Collapses repeated slashes and drops a trailing slash (`/keys/k/` = latest version of k). */
export function normalisePath(rawPath: string): string {
  const collapsed = ("/" + rawPath).replace(/\/{2,}/g, "/");
  return collapsed.length > 1 ? collapsed.replace(/\/$/, "") : collapsed;
}

function splitUrl(rawUrl: string): { path: string; query: URLSearchParams } {
  // Never `new URL(req.url, base)`: a url starting with `//` would be read as a host.
  const q = rawUrl.indexOf("?");
  return { path: normalisePath(q < 0 ? rawUrl : rawUrl.slice(0, q)), query: new URLSearchParams(q < 0 ? "" : rawUrl.slice(q + 1)) };
}

function bearerOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1];
}

/** Unsigned JWT payload → oid (what the emulated local RBAC authorises). */
export function principalFromToken(token: string): string | undefined {
  const parts = token.split(".");
  if (parts.length < 2) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as { oid?: unknown };
    return typeof payload.oid === "string" && payload.oid ? payload.oid : undefined;
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const headerValue = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const DEFAULT_FAULT_CODES: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  409: "Conflict",
  429: "TooManyRequests",
  500: "InternalServerError",
  502: "BadGateway",
  503: "ServiceUnavailable",
  504: "GatewayTimeout",
};

export function createRequestListener(
  rt: Runtime,
  controller: Controller,
  onExchange?: (e: Exchange) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void handle(rt, controller, req, res, onExchange).catch((e) => {
      // Last resort: never leave a socket hanging.
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
        res.end(JSON.stringify({ error: { code: "InternalServerError", message: ensureError(e).message } }));
      }
    });
  };
}

async function handle(rt: Runtime, controller: Controller, req: IncomingMessage, res: ServerResponse, onExchange?: (e: Exchange) => void): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  const host = req.headers.host ?? "";
  const hostname = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "").toLowerCase();
  const { path, query } = splitUrl(req.url ?? "/");
  const rawBytes = await readBody(req);
  const hsmLabel = HSM_HOST.exec(hostname)?.[1]?.toLowerCase();
  const isHsm = hsmLabel !== undefined;
  const isTopic = !isHsm && parseTopicHost(hostname) !== undefined;
  const topic = isTopic ? topicForHost(rt.state, hostname) : undefined;
  const isMonitor = !isHsm && !isTopic && parseIngestionHost(hostname) !== undefined;
  const dce = isMonitor ? endpointForHost(rt.state, hostname) : undefined;
  const isLogs = !isHsm && !isTopic && !isMonitor && hostname === LOG_ANALYTICS_HOST;
  const metricsRegion = !isHsm && !isTopic && !isMonitor && !isLogs ? parseMetricsHost(hostname) : undefined;
  const isMetrics = metricsRegion !== undefined;
  const dataPlane = isHsm || isTopic || isMonitor || isLogs || isMetrics;
  // A Logs Ingestion body is usually gzip: the backend decodes it (size limits apply before and after inflating).
  const raw = isMonitor ? "" : rawBytes.toString("utf8");
  let body: unknown;
  let bodyError: ServiceError | undefined;
  if (raw.length > 0) {
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
      bodyError = new ServiceError(400, "InvalidRequestContent", "The request body is not valid JSON.");
    }
  }
  const request: EmuRequest = { method, host, path, query, body, contentType: headerValue(req.headers["content-type"]), bodyBytes: rawBytes.length, bodyIsJson: bodyError === undefined };
  if (isMonitor) {
    request.rawBody = rawBytes;
    request.contentEncoding = headerValue(req.headers["content-encoding"]);
  }

  let operationId: string | undefined;
  let result: HandlerResult;
  let budgetHeaders: Record<string, string> = {};
  try {
    const isControl = !dataPlane && /^\/_emulator(\/|$)/i.test(path);
    const matches = matchPath(isHsm ? ["hsm"] : isTopic ? ["eventgrid"] : isMonitor ? ["monitor"] : isLogs ? ["loganalytics"] : isMetrics ? ["metrics"] : isControl ? ["control"] : ["arm"], path);
    const match: RouteMatch | undefined = matches.find((m) => m.route.method === method);
    operationId = match?.route.operationId;

    // 1. authentication (before routing, as the real services do; the data plane challenges any request)
    if (isHsm) {
      const token = bearerOf(req);
      const tenant = rt.state.tenantId;
      const challenge = `Bearer authorization="https://login.microsoftonline.com/${tenant}", resource="https://managedhsm.azure.net"`;
      if (!token) throw kvUnauthorized(challenge, "AKV10000: Request is missing a Bearer or PoP token.");
      const oid = principalFromToken(token);
      if (!oid) throw kvUnauthorized(challenge, "AKV10022: Invalid audience or malformed token: the emulator expects an unsigned JWT whose payload carries 'oid'.");
      request.principalId = oid;
    } else if (isTopic) {
      // An unknown topic has no DNS name in Azure; here its host answers 404 before anything else.
      if (!topic) throw egTopicNotFound(host);
      request.topic = topic;
      const sasKey = headerValue(req.headers["aeg-sas-key"]) ?? query.get("aeg-sas-key") ?? undefined;
      const sasToken = headerValue(req.headers["aeg-sas-token"]);
      const principal = authorizePublish(topic, { sasKey, sasToken, bearer: bearerOf(req) }, hostname, rt.state.armRbac);
      if (principal !== "key") request.principalId = principal;
    } else if (isMonitor) {
      // As for topics: an unknown endpoint has no DNS name in Azure; here its host answers 404 first.
      if (!dce) throw ingestEndpointNotFound(host);
      request.principalId = authenticateIngest(bearerOf(req));
    } else if (isLogs) {
      request.principalId = authenticateQuery(bearerOf(req));
    } else if (isMetrics) {
      request.principalId = authenticateMetrics(bearerOf(req));
      request.metricsRegion = metricsRegion;
    } else if (!isControl && !bearerOf(req)) {
      throw armAuthenticationFailed();
    }

    // 2. routing
    if (!match) {
      if (matches.length > 0) throw methodNotAllowed(method, path, [...new Set(matches.map((m) => m.route.method))]);
      throw notImplemented(method, path);
    }
    if (isHsm) {
      request.hsm = rt.state.hsms.get(hsmLabel);
      if (!request.hsm) throw kvHsmNotFound(host);
    }

    // 3. api-version
    const apiVersion = checkApiVersion(match.route, query, isHsm ? "hsm" : isTopic ? "eventgrid" : isMonitor ? "monitor" : "arm");

    // 4. ARM token buckets: a throttled request is counted as throttled and reaches nothing else
    if (!dataPlane && !isControl) {
      const token = bearerOf(req)!;
      budgetHeaders = takeToken(rt, match.route.operationId, method, subscriptionOfPath(path), principalKey(token, principalFromToken(token))).headers;
      // ARM answers a subscription it does not know with 404 SubscriptionNotFound before it looks at the caller's roles.
      const subscription = subscriptionOfPath(path);
      if (subscription !== undefined) resolveScope(rt.state, subscription);
      // Azure RBAC: ARM refuses an admitted request that no role assignment of the caller covers.
      authorizeArm(rt.state.armRbac, principalFromToken(token)?.toLowerCase(), armActionOf(method, path), armScopeOf(path));
    }

    // 5. count, then faults (never on control endpoints)
    rt.counts.set(match.route.operationId, (rt.counts.get(match.route.operationId) ?? 0) + 1);
    if (!isControl) {
      const { latencyMs, decisive } = takeFaults(rt, {
        operationId: match.route.operationId,
        hsmLabel,
        topicLabel: topic?.label,
        monitor: isMonitor,
        logAnalytics: isLogs,
        metrics: isMetrics,
        ruleLabel: dce?.rules.get((match.params.ruleId ?? "").toLowerCase())?.name.toLowerCase(),
        subscriptionId: dataPlane ? undefined : subscriptionOfPath(path),
      });
      if (latencyMs > 0) await sleep(latencyMs);
      if (decisive?.behaviour === "reset") return resetConnection(req);
      if (decisive?.behaviour === "hang") return hold(rt, req);
      if (decisive?.status) {
        const headers: Record<string, string> = decisive.retryAfter === undefined ? {} : { "retry-after": String(decisive.retryAfter) };
        throw new ServiceError(decisive.status, decisive.code ?? DEFAULT_FAULT_CODES[decisive.status] ?? "InjectedFault", decisive.message ?? `Injected fault for ${match.route.operationId}.`, headers);
      }
    }
    // Event Grid answers a body that is not JSON with its own 400 (the publish handler).
    if (bodyError && match.route.method !== "GET" && !isTopic) throw bodyError;
    // Logs Ingestion: the rule (404) and the caller's role on it (403) are checked once the request is admitted.
    if (dce) request.dataCollectionRule = authorizeIngest(dce, match.params.ruleId ?? "", request.principalId!, rt.state.armRbac);

    result = await match.route.handler({ rt, req: request, params: match.params, apiVersion, controller });
  } catch (e) {
    if (e instanceof ServiceError) {
      result = { status: e.status, body: e.toBody(), headers: e.headers };
    } else {
      const err = ensureError(e);
      result = { status: 500, body: { error: { code: "InternalServerError", message: `Emulator error: ${err.message}` } } };
    }
  }

  // The emulated HSM logs every request it answered (AuditEvent), where its diagnostic settings send AuditEvent.
  if (isHsm && hsmLabel !== undefined) recordHsmRequest(rt, hsmLabel, { operationId, status: result.status, bearer: bearerOf(req), callerIpAddress: req.socket.remoteAddress?.replace(/^::ffff:/, ""), path });

  const headers: Record<string, string> = {
    "x-ms-request-id": randomUUID(),
    ...(isHsm ? { "x-ms-keyvault-service-version": "1.9.0.0" } : isTopic || isMonitor || isLogs ? {} : { "x-ms-correlation-request-id": randomUUID() }),
    ...budgetHeaders,
    ...(result.headers ?? {}),
  };
  let payload = "";
  if (result.body !== undefined) {
    payload = JSON.stringify(result.body);
    headers["content-type"] = "application/json; charset=utf-8";
  }
  headers["content-length"] = String(Buffer.byteLength(payload));
  res.writeHead(result.status, headers);
  res.end(payload);

  if (onExchange) {
    try {
      onExchange({
        operationId,
        method,
        host,
        path,
        query: Object.fromEntries(query.entries()),
        requestBody: body,
        status: result.status,
        responseHeaders: headers,
        responseBody: result.body,
      });
    } catch {
      // an observer must not break the emulator
    }
  }
}

/** A "reset" fault: drop the connection without an answer (the client sees ECONNRESET). */
function resetConnection(req: IncomingMessage): void {
  const socket = req.socket;
  if (typeof socket.resetAndDestroy === "function") {
    try {
      socket.resetAndDestroy();
      return;
    } catch {
      // a TLS socket may refuse an RST; a plain destroy still ends the connection unanswered
    }
  }
  socket.destroy();
}

/** A "hang" fault: the request was read; never answer, keep the socket open until the client or close() ends it. */
function hold(rt: Runtime, req: IncomingMessage): void {
  const socket = req.socket;
  rt.hung.add(socket);
  socket.once("close", () => rt.hung.delete(socket));
}

function checkApiVersion(route: Route, query: URLSearchParams, plane: "hsm" | "eventgrid" | "monitor" | "arm"): string | undefined {
  if (route.apiVersions === "none") return undefined;
  const v = query.get("api-version") ?? undefined;
  if (route.apiVersions === "any") return v;
  const isHsm = plane === "hsm";
  // UNVERIFIED: Event Grid's own wording for a missing or unsupported api-version.
  // UNVERIFIED: the Logs Ingestion API's wording and codes for a missing or unsupported api-version.
  if (plane === "monitor" && (!v || !route.apiVersions.includes(v))) {
    throw ingestBadRequest(v ? "UnsupportedApiVersion" : "MissingApiVersion", v ? `The api-version '${v}' is not supported; use ${route.apiVersions.join(" or ")}.` : `The api-version query parameter is required (use ${route.apiVersions[route.apiVersions.length - 1]}).`);
  }
  if (!v && plane === "eventgrid") throw egBadRequest("The api-version query parameter is required (use 2018-01-01).", "BadRequest");
  if (!v) throw isHsm ? kvBadParameter("The api-version query parameter is required.") : armMissingApiVersion();
  if (!route.apiVersions.includes(v)) {
    if (plane === "eventgrid") throw egBadRequest(`The api-version '${v}' is not supported for publishing to a custom topic; the supported version is ${route.apiVersions.join(", ")}.`, "BadRequest");
    if (isHsm) throw kvBadParameter(`The specified version (${v}) is not recognized. Consider using the latest supported version (${route.apiVersions[route.apiVersions.length - 1]}).`);
    throw armInvalidApiVersion(v, route.resourceType ?? "resource", [...route.apiVersions]);
  }
  return v;
}
