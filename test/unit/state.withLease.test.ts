import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Clock } from "../../src/lib/clock.js";
import { LeaseLostError } from "../../src/lib/state/errors.js";
import { createLocalDirectoryStore } from "../../src/lib/state/localDirectoryStore.js";
import type { Lease, StateStore } from "../../src/lib/state/stateStore.js";
import { isLeaseBusy, withLease } from "../../src/lib/state/withLease.js";

/**
 * withLease's renewal cadence, on the local store with an injected clock and fake timers: no real waiting.
 * The store is wrapped only to see each renewal (and, in one test, to make renewals fail).
 */
const DURATION = 15_000;
const NAME = "locks/hsm1/cmk-sql";

let dir: string;
let nowMs: number;
const clock: Clock = { now: () => new Date(nowMs) };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "keywarden-withlease-"));
  nowMs = Date.parse("2026-03-01T00:00:00Z");
  // Only the timers withLease schedules are faked; file-system I/O runs for real.
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

/** Lets file-system I/O and promise chains run until condition holds (setImmediate and performance are not faked). */
async function until(condition: () => boolean): Promise<void> {
  const giveUpAt = performance.now() + 10_000;
  while (!condition() && performance.now() < giveUpAt) await new Promise((done) => setImmediate(done));
  expect(condition()).toBe(true);
}

function observed(store: StateStore, failRenewals = false) {
  const renewals: { atMs: number; ok: boolean }[] = [];
  let acquired = false;
  const wrapped: StateStore = {
    ...store,
    description: store.description,
    acquireLease: async (name, options) => {
      const lease = await store.acquireLease(name, options);
      acquired = lease !== undefined;
      if (!lease) return undefined;
      const seen: Lease = {
        name: lease.name,
        owner: lease.owner,
        renew: async () => {
          try {
            if (failRenewals) throw new Error("storage unavailable");
            await lease.renew();
            renewals.push({ atMs: nowMs, ok: true });
          } catch (error) {
            renewals.push({ atMs: nowMs, ok: false });
            throw error;
          }
        },
        release: () => lease.release(),
      };
      return seen;
    },
  };
  return { store: wrapped, renewals, isAcquired: () => acquired };
}

/** Moves the clock and the fake timers together, then waits for the renewal that fires to finish. */
async function elapse(ms: number, renewals: unknown[]): Promise<void> {
  const before = renewals.length;
  await until(() => vi.getTimerCount() > 0);
  nowMs += ms;
  await vi.advanceTimersByTimeAsync(ms);
  await until(() => renewals.length > before);
}

describe("withLease", () => {
  it("renews every durationMs/3 while fn runs, so the lease outlives its duration, and releases after", async () => {
    const store = createLocalDirectoryStore(dir, { clock });
    const other = createLocalDirectoryStore(dir, { clock });
    const { store: seen, renewals, isAcquired } = observed(store);
    let finish!: () => void;
    const fnDone = new Promise<void>((done) => (finish = done));
    const start = nowMs;
    const run = withLease(seen, NAME, { durationMs: DURATION, owner: "run-1", clock }, async (signal) => {
      await fnDone;
      return signal.aborted ? "aborted" : "completed";
    });
    await until(isAcquired);
    for (let i = 0; i < 4; i++) await elapse(DURATION / 3, renewals);
    expect(renewals).toEqual([1, 2, 3, 4].map((n) => ({ atMs: start + (n * DURATION) / 3, ok: true })));
    // 20 s after acquiring a 15 s lease: still held, because it was renewed.
    expect(await other.acquireLease(NAME, { durationMs: DURATION, owner: "run-2" })).toBeUndefined();
    finish();
    expect(await run).toBe("completed");
    expect(vi.getTimerCount()).toBe(0);
    expect(await other.acquireLease(NAME, { durationMs: DURATION, owner: "run-2" })).toMatchObject({ owner: "run-2" });
  });

  it("aborts fn's signal with a LeaseLostError when a renewal finds the lease taken, and leaves the new holder's lease alone", async () => {
    const store = createLocalDirectoryStore(dir, { clock });
    const other = createLocalDirectoryStore(dir, { clock });
    const { store: seen, renewals, isAcquired } = observed(store);
    const run = withLease(seen, NAME, { durationMs: DURATION, owner: "run-1", clock }, (signal) =>
      signal.aborted ? Promise.resolve(signal.reason as unknown) : new Promise((done) => signal.addEventListener("abort", () => done(signal.reason as unknown))),
    );
    await until(isAcquired);
    // The process stalled past its lease (no renewal ran) and another run took it.
    nowMs += DURATION + 1_000;
    const successor = await other.acquireLease(NAME, { durationMs: DURATION, owner: "run-2" });
    expect(successor).toBeDefined();
    await elapse(DURATION / 3, renewals);
    const reason = await run;
    expect(reason).toBeInstanceOf(LeaseLostError);
    expect((reason as Error).message).toContain(NAME);
    expect(renewals.map((r) => r.ok)).toEqual([false]);
    expect(await store.acquireLease(NAME, { durationMs: DURATION, owner: "run-3" })).toBeUndefined();
  });

  it("keeps going through a failed renewal while the lease has time left, and aborts when it would run out", async () => {
    const store = createLocalDirectoryStore(dir, { clock });
    const { store: failing, renewals, isAcquired } = observed(store, true);
    let abortedAtMs: number | undefined;
    const run = withLease(failing, NAME, { durationMs: DURATION, owner: "run-1", clock }, (signal) =>
      new Promise((done) =>
        signal.addEventListener("abort", () => {
          abortedAtMs = nowMs;
          done(signal.reason as unknown);
        }),
      ),
    );
    await until(isAcquired);
    await elapse(DURATION / 3, renewals);
    expect(abortedAtMs).toBeUndefined();
    await elapse(DURATION / 3, renewals);
    const reason = await run;
    expect(reason).toBeInstanceOf(LeaseLostError);
    expect((reason as Error).message).toMatch(/renewal failed and the lease expires before the next try \(storage unavailable\)/);
    expect(renewals.map((r) => r.ok)).toEqual([false, false]);
    expect(abortedAtMs).toBe(Date.parse("2026-03-01T00:00:10Z"));
  });

  it("says busy, without running fn, while another holds the lease", async () => {
    const store = createLocalDirectoryStore(dir, { clock });
    const holder = await store.acquireLease(NAME, { durationMs: DURATION, owner: "run-1" });
    expect(holder).toBeDefined();
    const fn = vi.fn(async () => "ran");
    const result = await withLease(store, NAME, { durationMs: DURATION, owner: "run-2", clock }, fn);
    expect(result).toEqual({ busy: true, name: NAME });
    expect(isLeaseBusy(result)).toBe(true);
    expect(isLeaseBusy("ran")).toBe(false);
    expect(fn).not.toHaveBeenCalled();
  });
});
