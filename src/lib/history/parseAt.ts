const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/**
 * A point in time for "the scan in force at": an ISO 8601 date-time with its zone (`2026-11-30T18:00:00Z`,
 * `…+05:30`), or a date, meaning the end of that day in UTC (the estate as it stood on that day). Anything else,
 * including a date-time without a zone (whose meaning would depend on the server's), is refused with the reason.
 */
export function parseAt(value: string): Date | { error: string } {
  const date = DATE.exec(value);
  if (date) {
    const end = new Date(Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]), 23, 59, 59, 999));
    if (end.toISOString().slice(0, 10) !== value) return { error: `"${value}" is not a calendar date` };
    return end;
  }
  if (!DATE_TIME.test(value)) return { error: `"${value}" is not an ISO 8601 date (2026-11-30) or date-time with a zone (2026-11-30T18:00:00Z)` };
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return { error: `"${value}" is not a valid date-time` };
  return new Date(ms);
}
