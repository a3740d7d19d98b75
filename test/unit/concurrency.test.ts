import { describe, expect, it } from "vitest";
import { mapWithConcurrency } from "../../src/lib/concurrency.js";

describe("mapWithConcurrency", () => {
  it("keeps the input order and never has more than `limit` calls in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapWithConcurrency([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, n));
      inFlight--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(peak).toBe(3);
  });

  it("rejects a limit that is not a positive integer, naming it", async () => {
    await expect(mapWithConcurrency([1], 0, async (n) => n)).rejects.toThrow(/concurrency limit must be a positive integer, got 0/);
  });

  it("handles an empty list", async () => {
    expect(await mapWithConcurrency([], 4, async (n: number) => n)).toEqual([]);
  });
});
