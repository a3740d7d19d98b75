/**
 * ARM's token buckets, per (subscription, principal, operation kind), as ARM throttles since 2024: reads
 * 250 refilled at 25/s, writes and deletes 200 at 10/s. They run on real monotonic time, not the emulator
 * clock: throttling is about real request rates. The Managed HSM data plane is not throttled by them.
 */
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { ServiceError } from "../errors.js";
import type { Runtime } from "./runtime.js";

export type OperationKind = "reads" | "writes" | "deletes";

export interface BucketConfig {
  capacity: number;
  refillPerSecond: number;
}

export interface ThrottlingConfig {
  enabled: boolean;
  reads: BucketConfig;
  writes: BucketConfig;
  deletes: BucketConfig;
}

export interface ThrottlingPatch {
  enabled?: boolean;
  reads?: BucketConfig;
  writes?: BucketConfig;
  deletes?: BucketConfig;
}

export interface TokenBucket {
  tokens: number;
  /** performance.now() of the last refill. */
  at: number;
}

export const DEFAULT_THROTTLING: Readonly<ThrottlingConfig> = Object.freeze({
  enabled: true,
  reads: Object.freeze({ capacity: 250, refillPerSecond: 25 }),
  writes: Object.freeze({ capacity: 200, refillPerSecond: 10 }),
  deletes: Object.freeze({ capacity: 200, refillPerSecond: 10 }),
});

export const copyThrottling = (t: ThrottlingConfig): ThrottlingConfig => ({ enabled: t.enabled, reads: { ...t.reads }, writes: { ...t.writes }, deletes: { ...t.deletes } });

/** Applies a validated patch; buckets start full again, so a new capacity takes effect at once. */
export function configureThrottling(rt: Runtime, patch: ThrottlingPatch): ThrottlingConfig {
  const t = rt.config.throttling;
  if (patch.enabled !== undefined) t.enabled = patch.enabled;
  for (const kind of ["reads", "writes", "deletes"] as const) if (patch[kind]) t[kind] = { ...patch[kind] };
  rt.buckets.clear();
  return copyThrottling(t);
}

export function operationKind(method: string): OperationKind {
  if (method === "GET" || method === "HEAD") return "reads";
  return method === "DELETE" ? "deletes" : "writes";
}

/** The token's `oid`, else a hash of the token (never the token itself: buckets are visible in memory dumps). */
export function principalKey(token: string, oid: string | undefined): string {
  return oid ?? `token:${createHash("sha256").update(token).digest("hex").slice(0, 16)}`;
}

/** `/subscriptions/<id>/...` → the id (lower-cased); tenant-level paths share one bucket. */
export function subscriptionOfPath(path: string): string | undefined {
  return /^\/subscriptions\/([^/]+)/i.exec(path)?.[1]?.toLowerCase();
}

export interface ThrottleOutcome {
  /** The response header naming the remaining budget, e.g. x-ms-ratelimit-remaining-subscription-reads. */
  headers: Record<string, string>;
}

/**
 * Takes one token for this request, or throws 429 TooManyRequests with Retry-After (whole seconds until a token
 * is available, at least 1). A throttled request is counted in `rt.throttled` and nothing else.
 */
export function takeToken(rt: Runtime, operationId: string, method: string, subscriptionId: string | undefined, principal: string): ThrottleOutcome {
  const t = rt.config.throttling;
  if (!t.enabled) return { headers: {} };
  const kind = operationKind(method);
  const { capacity, refillPerSecond } = t[kind];
  const key = `${subscriptionId ?? "-"}|${principal}|${kind}`;
  const nowMs = performance.now();
  let bucket = rt.buckets.get(key);
  if (!bucket) {
    bucket = { tokens: capacity, at: nowMs };
    rt.buckets.set(key, bucket);
  } else {
    bucket.tokens = Math.min(capacity, bucket.tokens + ((nowMs - bucket.at) / 1000) * refillPerSecond);
    bucket.at = nowMs;
  }
  const header = `x-ms-ratelimit-remaining-subscription-${kind}`;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return { headers: { [header]: String(Math.floor(bucket.tokens)) } };
  }
  rt.throttled.set(operationId, (rt.throttled.get(operationId) ?? 0) + 1);
  const retryAfter = refillPerSecond > 0 ? Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerSecond)) : 3600;
  throw new ServiceError(
    429,
    "TooManyRequests",
    `The request was throttled: the ${kind} budget of this principal in subscription '${subscriptionId ?? "(tenant)"}' (${capacity}, refilled at ${refillPerSecond}/s) is spent. Retry after ${retryAfter} seconds.`,
    { "retry-after": String(retryAfter), [header]: "0" },
  );
}

/** Why `input` is not a valid `throttling` patch (field path and reason), or undefined when it is. */
export function throttlingPatchProblem(input: unknown): { field: string; reason: string } | undefined {
  if (!input || typeof input !== "object" || Array.isArray(input)) return { field: "throttling", reason: "must be an object { enabled?, reads?, writes?, deletes? }" };
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!["enabled", "reads", "writes", "deletes"].includes(k)) return { field: `throttling.${k}`, reason: "unknown setting; use enabled, reads, writes or deletes" };
  if (o.enabled !== undefined && typeof o.enabled !== "boolean") return { field: "throttling.enabled", reason: "must be a boolean" };
  for (const kind of ["reads", "writes", "deletes"] as const) {
    const b = o[kind];
    if (b === undefined) continue;
    if (!b || typeof b !== "object" || Array.isArray(b)) return { field: `throttling.${kind}`, reason: "must be an object { capacity, refillPerSecond }" };
    const { capacity, refillPerSecond, ...rest } = b as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) return { field: `throttling.${kind}.${extra}`, reason: "unknown setting; use capacity and refillPerSecond" };
    if (typeof capacity !== "number" || !Number.isInteger(capacity) || capacity < 1 || capacity > 1_000_000) return { field: `throttling.${kind}.capacity`, reason: "must be an integer from 1 to 1000000" };
    if (typeof refillPerSecond !== "number" || !(refillPerSecond > 0) || refillPerSecond > 1_000_000) return { field: `throttling.${kind}.refillPerSecond`, reason: "must be a number above 0 and at most 1000000" };
  }
  return undefined;
}
