import {
  createDefaultHttpClient,
  RestError,
  type Agent,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import { systemClock, type Clock } from "../clock.js";
import type { AppSettings, RetrySettings } from "../config/types.js";
import { ensureError } from "../errors.js";
import { ConcurrencyLimit } from "./concurrencyLimit.js";
import { DeadlineExpired, startDeadline, type Deadline } from "./deadline.js";
import { isRetryable, retryAfterMs, retryDelayMs, type TryOutcome } from "./retryRules.js";
import { TokenBucket } from "./tokenBucket.js";

export { startDeadline, type Deadline } from "./deadline.js";

/**
 * One request layer for every Azure call: each SDK client (ARM, KeyClient, our RBAC client) is given an
 * HttpClient from here, with the SDK's own retries off. Below every SDK policy it sees every try —
 * retries, Key Vault challenges, LRO polls — and applies a per-try timeout and an overall deadline,
 * retries (Retry-After capped at the maximum retry delay), one process-wide cap on requests in flight,
 * ARM token buckets per subscription, and a per-HSM cap.
 */

/** The HTTP trigger must answer within the Functions front end's 230 s: scan under this, leaving time to render. */
export const HTTP_TRIGGER_DEADLINE_MS = 200_000;

/** ARM's token buckets per subscription and principal (request-limits-and-throttling.md, 2025-05-28). */
export const ARM_BUDGET: ArmBudget = {
  read: { capacity: 250, refillPerSecond: 25 },
  write: { capacity: 200, refillPerSecond: 10 },
  delete: { capacity: 200, refillPerSecond: 10 },
};

/** We pace at this share of ARM's budget, so that clock skew between us and ARM never draws a 429. */
export const ARM_PACING = 0.95;

/**
 * Requests in flight to one Managed HSM. The global cap alone would let one HSM take all 32; failed 429s
 * count against MHSM's limits, so one HSM gets half (throttling-overview.md).
 */
export const HSM_CONCURRENCY = 16;

export interface BucketSize {
  capacity: number;
  refillPerSecond: number;
}

export interface ArmBudget {
  read: BucketSize;
  write: BucketSize;
  delete: BucketSize;
}

/** What a client talks to: ARM (paced per subscription), a Managed HSM data plane (capped per HSM), or Blob Storage, an Event Grid topic or Azure Monitor (the global cap only). */
export type RequestTarget = "arm" | "hsm" | "storage" | "eventgrid" | "monitor";

export interface RequestLayerOptions {
  retry: RetrySettings;
  tryTimeoutMs: number;
  /** The deadline of a call made through a layer not bound to one (each such call gets its own). */
  deadlineMs: number;
  maxConcurrency: number;
  /** Default HSM_CONCURRENCY. */
  hsmConcurrency?: number;
  /** ARM's budget (default ARM_BUDGET); null turns pacing off. */
  armBudget?: ArmBudget | null;
  /** Share of the budget we use (default ARM_PACING). */
  armPacing?: number;
  clock?: Clock;
  /** Waits between retries and for a bucket token; rejects with the signal's reason when it aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  /** The transport under the layer (default: core-rest-pipeline's Node client). */
  transport?: HttpClient;
}

export interface RequestLayerStats {
  /** HTTP tries sent (first tries, retries, challenges, polls). */
  tries: number;
  retries: number;
  /** 429 answers received. */
  throttled: number;
  inFlight: number;
  peakInFlight: number;
}

export interface RequestLayer {
  /**
   * The HttpClient to hand an SDK client. `agent` (the emulator's, which resolves HSM host names to it) is
   * attached to each try here, below the SDK's log policy, and taken off again, so no log serialises it.
   */
  httpClient(target: RequestTarget, agent?: Agent): HttpClient;
  /** The same layer (its caps, buckets and counts), every call through it under `deadline` instead of one of its own. */
  underDeadline(deadline: Deadline): RequestLayer;
  stats(): RequestLayerStats;
}

export function requestLayerOptions(settings: AppSettings): RequestLayerOptions {
  return { retry: { ...settings.retry }, ...settings.requests };
}

const shared = new Map<string, RequestLayer>();

/**
 * The process's request layer for these settings. One per process is the point (one concurrency cap and
 * one set of ARM buckets however many client sets are built); settings that differ get their own.
 */
export function sharedRequestLayer(settings: AppSettings): RequestLayer {
  const options = requestLayerOptions(settings);
  const key = JSON.stringify(options);
  let layer = shared.get(key);
  if (!layer) {
    layer = createRequestLayer(options);
    shared.set(key, layer);
  }
  return layer;
}

export function createRequestLayer(options: RequestLayerOptions): RequestLayer {
  const clock = options.clock ?? systemClock;
  const nowMs = () => clock.now().getTime();
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  const transport = options.transport ?? createDefaultHttpClient();
  const budget = options.armBudget === undefined ? ARM_BUDGET : options.armBudget;
  const pacing = options.armPacing ?? ARM_PACING;
  const global = new ConcurrencyLimit(options.maxConcurrency);
  const hsmLimits = new Map<string, ConcurrencyLimit>();
  const buckets = new Map<string, TokenBucket>();
  const counts = { tries: 0, retries: 0, throttled: 0 };

  const hsmLimit = (host: string): ConcurrencyLimit => {
    let limit = hsmLimits.get(host);
    if (!limit) {
      limit = new ConcurrencyLimit(Math.min(options.hsmConcurrency ?? HSM_CONCURRENCY, options.maxConcurrency));
      hsmLimits.set(host, limit);
    }
    return limit;
  };

  const armBucket = (url: URL, method: string): TokenBucket | undefined => {
    if (!budget) return undefined;
    const kind = armOperationKind(method);
    // ARM meters per subscription (and principal: one credential per process); tenant-level calls share one.
    const subscription = /^\/subscriptions\/([^/]+)/i.exec(url.pathname)?.[1]?.toLowerCase() ?? "tenant";
    const key = `${url.origin}|${subscription}|${kind}`;
    let bucket = buckets.get(key);
    if (!bucket) {
      const size = budget[kind];
      bucket = new TokenBucket(Math.max(1, Math.floor(size.capacity * pacing)), size.refillPerSecond * pacing, nowMs);
      buckets.set(key, bucket);
    }
    return bucket;
  };

  /**
   * Waits for a token (without holding a slot), then for a slot; the token is taken only once the slot is
   * held, so it is spent when the try goes out. The tries of one bucket take turns, first come first
   * served: with thousands waiting on one subscription's bucket, letting all of them sleep and wake for
   * every token cost 30 s of CPU in a 90 s scan (measured with npm run bench); in turn, one sleeps.
   */
  async function admit(target: RequestTarget, url: URL, method: string, signal: AbortSignal): Promise<() => void> {
    const hsmSlot = target === "hsm" ? await hsmLimit(url.host.toLowerCase()).acquire(signal) : undefined;
    try {
      const bucket = target === "arm" ? armBucket(url, method) : undefined;
      const slot = bucket ? await inTurn(bucket, () => tokenThenSlot(bucket, signal)) : await global.acquire(signal);
      return () => {
        slot();
        hsmSlot?.();
      };
    } catch (error) {
      hsmSlot?.();
      throw error;
    }
  }

  async function tokenThenSlot(bucket: TokenBucket, signal: AbortSignal): Promise<() => void> {
    for (;;) {
      const wait = bucket.msUntilToken();
      if (wait > 0) await sleep(wait, signal);
      const slot = await global.acquire(signal);
      if (bucket.tryTake()) return slot;
      slot();
    }
  }

  /** Runs `fn` after every earlier caller's for the same bucket has finished (an aborted one finishes at once). */
  function inTurn<T>(bucket: TokenBucket, fn: () => Promise<T>): Promise<T> {
    const previous = turns.get(bucket) ?? Promise.resolve();
    const mine = previous.then(fn);
    turns.set(
      bucket,
      mine.then(
        () => undefined,
        () => undefined,
      ),
    );
    return mine;
  }

  const turns = new WeakMap<TokenBucket, Promise<void>>();

  /** One try under its own timeout; the deadline's signal aborts it too. Never throws for an HTTP status. */
  async function tryOnce(request: PipelineRequest, agent: Agent | undefined, deadline: Deadline): Promise<TryOutcome & { raw?: PipelineResponse; thrown?: unknown }> {
    const controller = new AbortController();
    // When less than a try's timeout is left, the deadline's own abort ends the try first.
    const timer = setTimeout(() => controller.abort(new TryTimedOut()), options.tryTimeoutMs);
    const onDeadline = () => controller.abort(deadline.signal.reason);
    deadline.signal.addEventListener("abort", onDeadline, { once: true });
    const callerSignal = request.abortSignal;
    const onCaller = () => controller.abort((callerSignal as { reason?: unknown } | undefined)?.reason);
    callerSignal?.addEventListener("abort", onCaller, { once: true });
    const previousAgent = request.agent;
    request.abortSignal = controller.signal;
    if (agent) request.agent = agent;
    counts.tries++;
    try {
      const response = await transport.sendRequest(request);
      if (response.status === 429) counts.throttled++;
      return { response, raw: response };
    } catch (thrown) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
      if (reason instanceof TryTimedOut) {
        return { error: { code: "Timeout" }, thrown: timeoutError(request, options.tryTimeoutMs) };
      }
      if (reason instanceof DeadlineExpired) throw deadlineError(request, reason.deadlineMs);
      if (controller.signal.aborted) throw thrown; // the caller's own abort
      const code = (thrown as { code?: unknown }).code;
      return { error: typeof code === "string" ? { code } : {}, thrown };
    } finally {
      clearTimeout(timer);
      deadline.signal.removeEventListener("abort", onDeadline);
      callerSignal?.removeEventListener("abort", onCaller);
      request.abortSignal = callerSignal;
      request.agent = previousAgent;
    }
  }

  async function send(target: RequestTarget, agent: Agent | undefined, request: PipelineRequest, bound: Deadline | undefined): Promise<PipelineResponse> {
    const own = bound ? undefined : startDeadline(options.deadlineMs, clock);
    const deadline = bound ?? own!.deadline;
    const url = new URL(request.url);
    try {
      for (let retry = 0; ; retry++) {
        let release: () => void;
        try {
          release = await admit(target, url, request.method, deadline.signal);
        } catch (error) {
          throw deadline.signal.aborted && deadline.signal.reason instanceof DeadlineExpired ? deadlineError(request, deadline.signal.reason.deadlineMs) : error;
        }
        let outcome: Awaited<ReturnType<typeof tryOnce>>;
        try {
          outcome = await tryOnce(request, agent, deadline);
        } finally {
          release();
        }
        const asked = "response" in outcome ? retryAfterMs(outcome.response.headers, nowMs()) : undefined;
        const delay = retryDelayMs(retry, asked, options.retry, random);
        const again = retry < options.retry.maxRetries && isRetryable(request.method, outcome, asked) && nowMs() + delay < deadline.expiresAtMs;
        if (!again) {
          if (outcome.raw) return outcome.raw;
          throw outcome.thrown;
        }
        counts.retries++;
        try {
          await sleep(delay, deadline.signal);
        } catch (error) {
          const reason: unknown = deadline.signal.reason;
          throw reason instanceof DeadlineExpired ? deadlineError(request, reason.deadlineMs) : error;
        }
      }
    } finally {
      own?.dispose();
    }
  }

  const layer = (bound: Deadline | undefined): RequestLayer => ({
    httpClient(target, agent) {
      return { sendRequest: (request) => send(target, agent, request, bound) };
    },
    underDeadline: (deadline) => layer(deadline),
    stats: () => ({ ...counts, inFlight: global.inUse, peakInFlight: global.peak }),
  });
  return layer(undefined);
}

function armOperationKind(method: string): keyof ArmBudget {
  const m = method.toUpperCase();
  if (m === "DELETE") return "delete";
  return m === "GET" || m === "HEAD" || m === "OPTIONS" ? "read" : "write";
}

class TryTimedOut extends Error {
  override readonly name = "TryTimedOut";
}

/** Where a request went, without its query (which may carry a filter or skip token) for error messages. */
function describe(request: PipelineRequest): string {
  try {
    const u = new URL(request.url);
    return `${request.method} ${u.host}${u.pathname}`;
  } catch {
    return request.method;
  }
}

function timeoutError(request: PipelineRequest, ms: number): RestError {
  return new RestError(`${describe(request)} got no answer within the per-try timeout of ${ms} ms`, { code: "Timeout", request });
}

function deadlineError(request: PipelineRequest, ms: number): RestError {
  return new RestError(`${describe(request)} did not finish within the overall deadline of ${ms} ms`, { code: "DeadlineExceeded", request });
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(ensureError(signal.reason));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(ensureError(signal.reason));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
