/** Types shared by routes and handlers. */
import type { Fixture } from "../fixture.js";
import type { Runtime } from "../backend/runtime.js";
import type { DataCollectionRuleState, EventGridTopicState, HsmState } from "../backend/state.js";

export type HttpMethod = "GET" | "PUT" | "PATCH" | "POST" | "DELETE";

export interface EmuRequest {
  method: string;
  /** Host header as sent. */
  host: string;
  /** Normalised path: repeated slashes collapsed, trailing slash removed. */
  path: string;
  query: URLSearchParams;
  /** Parsed JSON body, or undefined when empty. */
  body: unknown;
  /** Data plane: the caller's object id from the bearer token. */
  principalId?: string;
  /** Data plane: the HSM the Host header names. */
  hsm?: HsmState;
  /** Event Grid: the topic the Host header names. */
  topic?: EventGridTopicState;
  /** Logs Ingestion: the data collection rule the path's ruleId names on the endpoint (authorised). */
  dataCollectionRule?: DataCollectionRuleState;
  /** Logs Ingestion: the body bytes as sent (gzip or identity) and the Content-Encoding header. */
  rawBody?: Buffer;
  contentEncoding?: string;
  /** Metrics batch: the region the Host header names (<region>.metrics.monitor.azure.com). */
  metricsRegion?: string;
  /** Content-Type header as sent. */
  contentType?: string;
  /** Size of the request body in bytes. */
  bodyBytes?: number;
  /** false when a non-empty body did not parse as JSON (`body` is then the raw text). */
  bodyIsJson?: boolean;
}

export interface Controller {
  reset(): void;
  loadFixture(source: string | object): Promise<Fixture>;
}

export interface HandlerContext {
  rt: Runtime;
  req: EmuRequest;
  params: Record<string, string>;
  apiVersion?: string;
  controller: Controller;
}

export interface HandlerResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (ctx: HandlerContext) => HandlerResult | Promise<HandlerResult>;

export const ok = (body: unknown, status = 200, headers?: Record<string, string>): HandlerResult => ({ status, body, headers });

/** One page of `items`, with an absolute nextLink (api-version included) that points back at the emulator. */
export function page<T>(ctx: HandlerContext, items: readonly T[], baseUrl: string, pageSize: number): { value: T[]; nextLink?: string } {
  const skip = Math.max(0, Number.parseInt(ctx.req.query.get("$skiptoken") ?? "0", 10) || 0);
  const value = items.slice(skip, skip + pageSize);
  if (skip + pageSize >= items.length) return { value };
  const q = new URLSearchParams(ctx.req.query);
  q.set("$skiptoken", String(skip + pageSize));
  if (ctx.apiVersion) {
    q.delete("api-version");
    q.set("api-version", ctx.apiVersion);
  }
  return { value, nextLink: `${baseUrl}${ctx.req.path}?${q.toString()}` };
}
