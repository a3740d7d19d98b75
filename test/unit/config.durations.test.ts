import { describe, expect, it } from "vitest";
import { describeDuration, InvalidDurationError, parseIsoDuration } from "../../src/lib/config/durations.js";

describe("parseIsoDuration", () => {
  it.each([
    ["P90D", 90],
    ["P1Y", 365],
    ["P6M", 180],
    ["P2W", 14],
    ["P1Y10D", 375],
    ["PT48H", 2],
    ["PT36H", 1.5],
    ["P1DT12H", 1.5],
    ["PT1440M", 1],
    ["PT86400S", 1],
    ["PT0.5S", 0.5 / 86_400],
    ["P0D", 0],
  ])("%s is %d days", (iso, days) => {
    const parsed = parseIsoDuration(iso);
    expect(parsed.iso).toBe(iso);
    expect(parsed.days).toBeCloseTo(days, 9);
  });

  it.each(["", "P", "PT", "90D", "P90", "P1.5D", "P-1D", "-P1D", "p90d", "P1DT", "PT1D", "P1M1Y", "P 90D", "P90D "])(
    "rejects %j with a message naming the input",
    (text) => {
      expect(() => parseIsoDuration(text)).toThrow(InvalidDurationError);
      expect(() => parseIsoDuration(text)).toThrow(`${JSON.stringify(text)} is not an ISO-8601 duration`);
    },
  );

  it("describes durations for messages", () => {
    expect(describeDuration(parseIsoDuration("P1Y"))).toBe('"P1Y" (365 days)');
    expect(describeDuration(parseIsoDuration("PT36H"))).toBe('"PT36H" (1.5 days)');
    expect(describeDuration(parseIsoDuration("P1D"))).toBe('"P1D" (1 day)');
  });
});
