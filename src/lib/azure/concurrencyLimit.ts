interface Waiter {
  grant(): void;
  fail(reason: unknown): void;
  signal: AbortSignal | undefined;
  done: boolean;
}

/**
 * At most `limit` holders at once, first come first served. A waiter whose signal aborts leaves the
 * queue, so a call past its deadline never takes a slot it no longer needs.
 *
 * A whole scan's requests wait here under one deadline signal, thousands at a time: the limit listens
 * on each distinct signal once (EventTarget's add and remove are linear in its listeners, so a listener
 * per waiter was quadratic), and the queue is consumed from a head index rather than shifted.
 */
export class ConcurrencyLimit {
  private active = 0;
  private peakActive = 0;
  private queue: Waiter[] = [];
  private head = 0;
  private readonly bySignal = new Map<AbortSignal, { waiters: Set<Waiter>; onAbort: () => void }>();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency limit must be a positive integer, got ${limit}`);
  }

  get inUse(): number {
    return this.active;
  }

  get peak(): number {
    return this.peakActive;
  }

  /** Resolves with a release function once a slot is free; rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.limit) return Promise.resolve(this.take());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        signal,
        done: false,
        grant: () => resolve(this.take()),
        fail: reject,
      };
      if (signal) this.watch(signal).waiters.add(waiter);
      this.queue.push(waiter);
    });
  }

  private watch(signal: AbortSignal): { waiters: Set<Waiter>; onAbort: () => void } {
    let entry = this.bySignal.get(signal);
    if (!entry) {
      const waiters = new Set<Waiter>();
      const onAbort = () => {
        this.bySignal.delete(signal);
        for (const waiter of waiters) {
          waiter.done = true;
          waiter.fail(signal.reason);
        }
      };
      entry = { waiters, onAbort };
      this.bySignal.set(signal, entry);
      signal.addEventListener("abort", onAbort, { once: true });
    }
    return entry;
  }

  private unwatch(waiter: Waiter): void {
    if (!waiter.signal) return;
    const entry = this.bySignal.get(waiter.signal);
    if (!entry) return;
    entry.waiters.delete(waiter);
    if (entry.waiters.size === 0) {
      this.bySignal.delete(waiter.signal);
      waiter.signal.removeEventListener("abort", entry.onAbort);
    }
  }

  private next(): Waiter | undefined {
    while (this.head < this.queue.length) {
      const waiter = this.queue[this.head++] as Waiter;
      if (!waiter.done) return waiter;
    }
    return undefined;
  }

  private take(): () => void {
    this.active++;
    this.peakActive = Math.max(this.peakActive, this.active);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      const waiter = this.next();
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (!waiter) return;
      waiter.done = true;
      this.unwatch(waiter);
      waiter.grant();
    };
  }
}
