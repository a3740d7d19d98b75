import { AsyncLocalStorage } from "node:async_hooks";
import { setMaxListeners } from "node:events";
import { systemClock, type Clock } from "../clock.js";

/** When the calls made inside `withDeadline` must be done; `signal` aborts at that moment. */
export interface Deadline {
  /** Clock time (ms since the epoch) at which the deadline expires. */
  expiresAtMs: number;
  signal: AbortSignal;
}

/** The reason a deadline's signal carries, so the request layer can tell it from a caller's own abort. */
export class DeadlineExpired extends Error {
  override readonly name = "DeadlineExpired";
  constructor(readonly deadlineMs: number) {
    super(`the overall deadline of ${deadlineMs} ms expired`);
  }
}

const ambient = new AsyncLocalStorage<Deadline>();

/** The deadline every Azure call made from here must meet, if a caller set one. */
export function currentDeadline(): Deadline | undefined {
  return ambient.getStore();
}

export interface DeadlineOptions {
  /** Also end early when this aborts (e.g. the Functions host cancelling the invocation). */
  signal?: AbortSignal;
  clock?: Clock;
}

/**
 * Runs `fn` with an overall deadline of `ms` for every Azure call it makes (through AsyncLocalStorage,
 * so nothing needs to pass it down). When it expires, in-flight tries are aborted, retries stop, and
 * the calls fail as AzureRequestError with code "DeadlineExceeded". A nested deadline never extends
 * an outer one.
 */
export async function withDeadline<T>(ms: number, fn: () => Promise<T>, options: DeadlineOptions = {}): Promise<T> {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`deadline must be a non-negative number of milliseconds, got ${ms}`);
  const { deadline, dispose } = startDeadline(ms, options.clock ?? systemClock, [currentDeadline()?.signal, options.signal], currentDeadline()?.expiresAtMs);
  try {
    return await ambient.run(deadline, fn);
  } finally {
    dispose();
  }
}

/** A deadline of `ms` from now (not installed as ambient): the request layer's fallback for a call made outside withDeadline. */
export function startDeadline(
  ms: number,
  clock: Clock,
  linked: readonly (AbortSignal | undefined)[] = [],
  notAfterMs = Number.POSITIVE_INFINITY,
): { deadline: Deadline; dispose: () => void } {
  const now = clock.now().getTime();
  const expiresAtMs = Math.min(now + ms, notAfterMs);
  const controller = new AbortController();
  // Every request in flight under the deadline listens on its signal: thousands at once is by design.
  setMaxListeners(0, controller.signal);
  const unlink: (() => void)[] = [];
  for (const signal of linked) {
    if (!signal) continue;
    if (signal.aborted) {
      controller.abort(signal.reason);
      continue;
    }
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    unlink.push(() => signal.removeEventListener("abort", onAbort));
  }
  // Already due (e.g. a deadline of 0): expire now, so that not even a first try starts. An outer
  // deadline that already expired (linked above) keeps its own reason, naming its own length.
  if (expiresAtMs <= now) controller.abort(new DeadlineExpired(ms));
  const timer = setTimeout(() => controller.abort(new DeadlineExpired(ms)), Math.max(0, expiresAtMs - now));
  return {
    deadline: { expiresAtMs, signal: controller.signal },
    dispose: () => {
      clearTimeout(timer);
      for (const u of unlink) u();
    },
  };
}
