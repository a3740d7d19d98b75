import { systemClock, type Clock } from "../clock.js";
import { ensureError } from "../errors.js";
import { LeaseLostError } from "./errors.js";
import type { StateStore } from "./stateStore.js";

/** What withLease returns, instead of running fn, when another holder has the lease. */
export interface LeaseBusy {
  busy: true;
  name: string;
}

export interface WithLeaseOptions {
  durationMs: number;
  owner: string;
  /** Judges when the lease would run out after failed renewals (default the system clock). */
  clock?: Clock;
}

export function isLeaseBusy(value: unknown): value is LeaseBusy {
  return typeof value === "object" && value !== null && (value as { busy?: unknown }).busy === true && typeof (value as { name?: unknown }).name === "string";
}

/**
 * Runs fn while holding the lease on `name`, renewed every durationMs/3. A renewal that finds the lease
 * taken, or failures until the lease would have expired, abort fn's signal with a LeaseLostError: fn must
 * stop writing then. The lease is released afterwards, however fn ends.
 */
export async function withLease<T>(
  store: StateStore,
  name: string,
  options: WithLeaseOptions,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T | LeaseBusy> {
  const clock = options.clock ?? systemClock;
  const lease = await store.acquireLease(name, { durationMs: options.durationMs, owner: options.owner });
  if (!lease) return { busy: true, name };

  const controller = new AbortController();
  let expiresAtMs = clock.now().getTime() + options.durationMs;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let renewing: Promise<void> = Promise.resolve();
  const interval = Math.max(1, Math.floor(options.durationMs / 3));

  const lost = (reason: string, cause?: unknown) => {
    if (!controller.signal.aborted) controller.abort(cause instanceof LeaseLostError ? cause : new LeaseLostError(`The lease on ${name} held by ${options.owner} was lost: ${reason}`, { item: name, cause }));
  };

  const schedule = () => {
    if (stopped || controller.signal.aborted) return;
    timer = setTimeout(() => {
      renewing = renewOnce().finally(schedule);
    }, interval);
    // A pending renewal must not keep a finished process alive.
    timer.unref();
  };

  const renewOnce = async () => {
    const startedMs = clock.now().getTime();
    try {
      await lease.renew();
      expiresAtMs = startedMs + options.durationMs;
    } catch (error) {
      if (stopped) return;
      if (error instanceof LeaseLostError) return lost(error.message, error);
      // A transient failure: the next renewal may still succeed, unless the lease runs out before it.
      if (clock.now().getTime() + interval >= expiresAtMs) lost(`renewal failed and the lease expires before the next try (${ensureError(error).message})`, error);
    }
  };

  schedule();
  try {
    return await fn(controller.signal);
  } finally {
    stopped = true;
    clearTimeout(timer);
    await renewing;
    // The lease expires on its own if this fails; fn's outcome matters more than the release's.
    await lease.release().catch(() => undefined);
  }
}
