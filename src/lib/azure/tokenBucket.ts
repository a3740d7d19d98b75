/**
 * A token bucket as ARM runs one (capacity, refill per second), kept on our side so that we spend the
 * budget at the rate ARM refills it instead of finding the limit through 429s.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly capacity: number,
    readonly refillPerSecond: number,
    private readonly nowMs: () => number,
  ) {
    if (!(capacity >= 1) || !(refillPerSecond > 0)) throw new RangeError(`token bucket needs capacity >= 1 and a positive refill rate, got ${capacity} and ${refillPerSecond}/s`);
    this.tokens = capacity;
    this.last = nowMs();
  }

  /** Takes one token if there is one. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** How long until a token is there (0 if one is there now). */
  msUntilToken(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.refillPerSecond) * 1000);
  }

  private refill(): void {
    const now = this.nowMs();
    // A clock that steps back must not mint tokens or take them away.
    const elapsed = Math.max(0, now - this.last);
    this.last = Math.max(this.last, now);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed / 1000) * this.refillPerSecond);
  }
}
