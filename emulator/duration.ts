/** ISO-8601 durations (`P1Y`, `P30D`, `PT12H`, `P1Y2M3DT4H5M6S`, `P2W`) and fixture time expressions. */

export interface Duration {
  sign: 1 | -1;
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

const DURATION_RE = /^([+-])?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

export function parseDuration(text: string): Duration | undefined {
  const m = DURATION_RE.exec(text);
  if (!m || text === "P" || text.endsWith("T") || /^[+-]?P$/.test(text)) return undefined;
  const n = (i: number): number => (m[i] ? Number(m[i]) : 0);
  return { sign: m[1] === "-" ? -1 : 1, years: n(2), months: n(3), weeks: n(4), days: n(5), hours: n(6), minutes: n(7), seconds: n(8) };
}

export function isDuration(text: string): boolean {
  return parseDuration(text) !== undefined;
}

/** Calendar addition in UTC (years/months by calendar, the rest by fixed lengths). */
export function addDuration(at: Date, d: Duration | string): Date {
  const dur = typeof d === "string" ? parseDuration(d) : d;
  if (!dur) throw new Error(`not an ISO-8601 duration: ${String(d)}`);
  const s = dur.sign;
  const out = new Date(at.getTime());
  if (dur.years || dur.months) out.setUTCMonth(out.getUTCMonth() + s * (dur.years * 12 + dur.months));
  const ms = (((dur.weeks * 7 + dur.days) * 24 + dur.hours) * 60 + dur.minutes) * 60_000 + dur.seconds * 1000;
  return new Date(out.getTime() + s * ms);
}

/** Approximate length in seconds (Y = 365 d, M = 30 d) – only for minimum-length comparisons. */
export function approxSeconds(d: Duration): number {
  return d.sign * ((((d.years * 365 + d.months * 30 + d.weeks * 7 + d.days) * 24 + d.hours) * 60 + d.minutes) * 60 + d.seconds);
}

/** A fixture time: an ISO instant, or a signed offset from `now` ("-P200D", "+P5D"). */
export function resolveTime(expr: string, now: Date): Date | undefined {
  if (/^[+-]P/.test(expr)) {
    const d = parseDuration(expr);
    return d ? addDuration(now, d) : undefined;
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(expr)) return undefined;
  const t = new Date(expr);
  return Number.isNaN(t.getTime()) ? undefined : t;
}

export const unixSeconds = (d: Date): number => Math.floor(d.getTime() / 1000);
