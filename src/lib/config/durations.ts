import type { IsoDuration } from "./types.js";

/**
 * ISO-8601 durations as Azure writes them in rotation policies (PnYnMnWnDTnHnMnS). Every component is a
 * whole number except seconds, at least one component is present, and a `T` must be followed by a time
 * component. Calendar units have fixed lengths (Y = 365 days, M = 30 days, W = 7 days), the same
 * approximation Key Vault uses when it reports a policy, so durations compare without a reference date.
 */
export const ISO_DURATION_PATTERN =
  "^P(?!$)(?:\\d+Y)?(?:\\d+M)?(?:\\d+W)?(?:\\d+D)?(?:T(?=\\d)(?:\\d+H)?(?:\\d+M)?(?:\\d+(?:\\.\\d+)?S)?)?$";

const DURATION_REGEX =
  /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

const DAYS_PER = { year: 365, month: 30, week: 7 } as const;

/** Thrown by parseIsoDuration for a string that is not an ISO-8601 duration. */
export class InvalidDurationError extends Error {
  override readonly name = "InvalidDurationError";
  constructor(readonly input: string) {
    super(`${JSON.stringify(input)} is not an ISO-8601 duration (expected PnYnMnWnDTnHnMnS, e.g. "P90D", "P6M" or "P1Y")`);
  }
}

/** Parses e.g. "P90D", "P1Y", "P1Y6M", "PT36H" into its length in days. */
export function parseIsoDuration(text: string): IsoDuration {
  const match = DURATION_REGEX.exec(text);
  if (match === null) throw new InvalidDurationError(text);
  const [, years, months, weeks, days, hours, minutes, seconds] = match;
  const n = (part: string | undefined): number => (part === undefined ? 0 : Number(part));
  const totalDays =
    n(years) * DAYS_PER.year +
    n(months) * DAYS_PER.month +
    n(weeks) * DAYS_PER.week +
    n(days) +
    n(hours) / 24 +
    n(minutes) / 1_440 +
    n(seconds) / 86_400;
  return { iso: text, days: totalDays };
}

/** "P180D (180 days)", "PT36H (1.5 days)" — for messages. */
export function describeDuration(duration: IsoDuration): string {
  const days = Number.isInteger(duration.days) ? String(duration.days) : duration.days.toFixed(2).replace(/\.?0+$/, "");
  return `"${duration.iso}" (${days} ${duration.days === 1 ? "day" : "days"})`;
}
