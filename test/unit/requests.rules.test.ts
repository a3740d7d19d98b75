import { createHttpHeaders } from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import { ConcurrencyLimit } from "../../src/lib/azure/concurrencyLimit.js";
import { isRetryable, retryAfterMs, retryDelayMs } from "../../src/lib/azure/retryRules.js";
import { TokenBucket } from "../../src/lib/azure/tokenBucket.js";

const NOW = Date.parse("2026-03-01T12:00:00Z");
const headers = (h: Record<string, string>) => createHttpHeaders(h);
const response = (status: number) => ({ response: { status, headers: headers({}) } });

describe("retryAfterMs", () => {
  it("reads seconds, an HTTP date and the millisecond headers (which win)", () => {
    expect(retryAfterMs(headers({ "retry-after": "100" }), NOW)).toBe(100_000);
    expect(retryAfterMs(headers({ "retry-after": new Date(NOW + 7_000).toUTCString() }), NOW)).toBe(7_000);
    expect(retryAfterMs(headers({ "retry-after": new Date(NOW - 7_000).toUTCString() }), NOW)).toBe(0);
    expect(retryAfterMs(headers({ "retry-after-ms": "250", "retry-after": "100" }), NOW)).toBe(250);
    expect(retryAfterMs(headers({ "x-ms-retry-after-ms": "1500" }), NOW)).toBe(1_500);
  });

  it("is undefined when nothing usable is given", () => {
    expect(retryAfterMs(headers({}), NOW)).toBeUndefined();
    expect(retryAfterMs(headers({ "retry-after": "soon" }), NOW)).toBeUndefined();
    expect(retryAfterMs(headers({ "retry-after": "-5" }), NOW)).toBeUndefined();
  });
});

describe("retryDelayMs", () => {
  const settings = { maxRetries: 5, retryDelayInMs: 1_000, maxRetryDelayInMs: 2_000 };

  it("caps what the service asks for at the maximum retry delay", () => {
    expect(retryDelayMs(0, 100_000, settings, () => 0.5)).toBe(2_000);
    expect(retryDelayMs(0, 300, settings, () => 0.5)).toBe(300);
  });

  it("backs off exponentially with jitter, never past the cap", () => {
    expect(retryDelayMs(0, undefined, settings, () => 0)).toBe(500);
    expect(retryDelayMs(0, undefined, settings, () => 1)).toBe(1_000);
    expect(retryDelayMs(1, undefined, settings, () => 1)).toBe(2_000);
    expect(retryDelayMs(6, undefined, settings, () => 1)).toBe(2_000);
  });
});

describe("isRetryable", () => {
  it("retries a read on 408, 429, 500, 502, 503, 504 and connection failures, not on 4xx or 501", () => {
    for (const status of [408, 429, 500, 502, 503, 504]) expect(isRetryable("GET", response(status), undefined), String(status)).toBe(true);
    for (const status of [400, 401, 403, 404, 409, 412, 501, 505]) expect(isRetryable("GET", response(status), undefined), String(status)).toBe(false);
    for (const code of ["ECONNRESET", "ETIMEDOUT", "ECONNREFUSED", "Timeout", "PARSE_ERROR"]) expect(isRetryable("GET", { error: { code } }, undefined), code).toBe(true);
    expect(isRetryable("GET", { error: {} }, undefined)).toBe(false);
  });

  it("retries a write only on 429, a 503 with Retry-After, or a connection that never carried it", () => {
    for (const method of ["PUT", "PATCH", "POST", "DELETE"]) {
      expect(isRetryable(method, response(429), undefined)).toBe(true);
      expect(isRetryable(method, response(503), 1_000)).toBe(true);
      expect(isRetryable(method, response(503), undefined)).toBe(false);
      expect(isRetryable(method, response(500), undefined)).toBe(false);
      expect(isRetryable(method, { error: { code: "ECONNREFUSED" } }, undefined)).toBe(true);
      expect(isRetryable(method, { error: { code: "ECONNRESET" } }, undefined)).toBe(false);
      expect(isRetryable(method, { error: { code: "Timeout" } }, undefined)).toBe(false);
    }
  });
});

describe("TokenBucket", () => {
  it("starts full, then gives tokens at its refill rate", () => {
    let now = 0;
    const bucket = new TokenBucket(3, 2, () => now);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
    expect(bucket.msUntilToken()).toBe(500);
    now = 500;
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
    now = 100_000;
    let taken = 0;
    while (bucket.tryTake()) taken++;
    expect(taken).toBe(3);
  });

  it("mints nothing when the clock steps back", () => {
    let now = 10_000;
    const bucket = new TokenBucket(1, 1, () => now);
    expect(bucket.tryTake()).toBe(true);
    now = 0;
    expect(bucket.tryTake()).toBe(false);
    now = 10_999;
    expect(bucket.tryTake()).toBe(false);
    now = 11_000;
    expect(bucket.tryTake()).toBe(true);
  });
});

describe("ConcurrencyLimit", () => {
  it("queues past the limit and lets an aborted waiter go without taking a slot", async () => {
    const limit = new ConcurrencyLimit(1);
    const first = await limit.acquire();
    const controller = new AbortController();
    const abandoned = limit.acquire(controller.signal);
    const next = limit.acquire();
    controller.abort(new Error("deadline"));
    await expect(abandoned).rejects.toThrow("deadline");
    expect(limit.inUse).toBe(1);
    first();
    const release = await next;
    expect(limit.inUse).toBe(1);
    release();
    expect([limit.inUse, limit.peak]).toEqual([0, 1]);
  });
});
