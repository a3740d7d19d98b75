import type { HttpHeaders } from "@azure/core-rest-pipeline";
import type { RetrySettings } from "../config/types.js";

/** Statuses a read is retried on: timeouts, throttling and the transient server errors (not 501/505). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Methods that change nothing, so any failure may be tried again. */
const READ_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/** Connection failures that happen before a byte of the request leaves: safe to retry even for a write. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH"]);

/**
 * Connection failures after which a read is retried. ECONNRESET covers "socket hang up"; PARSE_ERROR is
 * core-rest-pipeline's code for a body cut off mid-stream; REQUEST_SEND_ERROR is a send error without a
 * code; Timeout is our own per-try timeout.
 */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  ...NOT_SENT_CODES,
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ECONNABORTED",
  "ESOCKETTIMEDOUT",
  "UND_ERR_SOCKET",
  "PARSE_ERROR",
  "REQUEST_SEND_ERROR",
  "Timeout",
]);

export type TryOutcome = { response: { status: number; headers: HttpHeaders } } | { error: { code?: string } };

/**
 * Whether a try may be repeated. Reads: any retryable status or connection failure. Writes (PUT, PATCH,
 * POST, DELETE) only where Azure cannot have acted on them: a 429 (throttled requests are rejected before
 * they run), a 503 that says when to come back (Retry-After), and a connection that failed before the
 * request was sent. A write that timed out or lost its connection may have been applied (a key rotation
 * is a POST that makes a new version), so it is not repeated blindly.
 */
export function isRetryable(method: string, outcome: TryOutcome, retryAfter: number | undefined): boolean {
  const read = READ_METHODS.has(method.toUpperCase());
  if ("response" in outcome) {
    const status = outcome.response.status;
    if (!RETRYABLE_STATUSES.has(status)) return false;
    return read || status === 429 || (status === 503 && retryAfter !== undefined);
  }
  const code = outcome.error.code;
  if (code === undefined) return false;
  return read ? CONNECTION_CODES.has(code) : NOT_SENT_CODES.has(code);
}

/**
 * The wait a response asks for, in ms: `retry-after-ms` / `x-ms-retry-after-ms` (milliseconds), else
 * `Retry-After` (seconds, or an HTTP date relative to `nowMs`). Undefined when none is given or parseable.
 */
export function retryAfterMs(headers: HttpHeaders, nowMs: number): number | undefined {
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const ms = nonNegativeNumber(headers.get(name));
    if (ms !== undefined) return ms;
  }
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  const seconds = nonNegativeNumber(value);
  if (seconds !== undefined) return seconds * 1000;
  // An HTTP date names its day ("Sun, 01 Mar 2026 …"); anything else (e.g. "-5") is not one.
  const at = /[a-z]/i.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

function nonNegativeNumber(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return undefined;
  return Number(value);
}

/**
 * The wait before retry number `retry` (0 for the first): what the service asked for, capped at the
 * maximum retry delay (a `Retry-After: 100` with a 2 s maximum waits 2 s); otherwise exponential from the
 * initial delay with "equal jitter" (half fixed, half random), also capped, so callers spread out.
 */
export function retryDelayMs(retry: number, retryAfter: number | undefined, settings: RetrySettings, random: () => number): number {
  if (retryAfter !== undefined) return Math.min(retryAfter, settings.maxRetryDelayInMs);
  const exponential = Math.min(settings.maxRetryDelayInMs, settings.retryDelayInMs * 2 ** retry);
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
