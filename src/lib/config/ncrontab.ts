/**
 * Validation of NCRONTAB expressions, the six-field cron syntax of Azure Functions timer triggers:
 * `{second} {minute} {hour} {day} {month} {day-of-week}`. The Functions host only reports a bad schedule
 * when it indexes the function, so KeyWarden checks it up front with a message that names the field.
 */

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly CronField[] = [
  { name: "second", min: 0, max: 59 },
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] },
  { name: "day-of-week", min: 0, max: 6, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
];

/** Returns why `expression` is not a valid six-field NCRONTAB expression, or undefined when it is. */
export function ncrontabProblem(expression: string): string | undefined {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== FIELDS.length) {
    return (
      `"${expression}" has ${parts.length} field${parts.length === 1 ? "" : "s"}; Azure Functions timers use NCRONTAB with 6 ` +
      `({second} {minute} {hour} {day} {month} {day-of-week}), e.g. "0 0 * * * *" for hourly`
    );
  }
  for (const [index, field] of FIELDS.entries()) {
    const problem = fieldProblem(parts[index] ?? "", field);
    if (problem !== undefined) return `${field.name} field "${parts[index] ?? ""}" in "${expression}": ${problem}`;
  }
  return undefined;
}

function fieldProblem(text: string, field: CronField): string | undefined {
  for (const item of text.split(",")) {
    const [range = "", step, ...extra] = item.split("/");
    if (extra.length > 0 || item === "") return "malformed";
    if (step !== undefined && !/^\d+$/.test(step)) return `step "${step}" is not a number`;
    if (step !== undefined && Number(step) === 0) return "a step of 0 never fires";
    if (range === "*") continue;
    const bounds = range.split("-");
    if (bounds.length > 2) return "malformed";
    const values: number[] = [];
    for (const bound of bounds) {
      const value = fieldValue(bound, field);
      if (value === undefined) return `"${bound}" is not a ${field.name} value`;
      if (value < field.min || value > field.max) return `${value} is outside ${field.min}-${field.max}`;
      values.push(value);
    }
    const [low, high] = values;
    if (low !== undefined && high !== undefined && low > high) return `range ${low}-${high} runs backwards`;
  }
  return undefined;
}

function fieldValue(text: string, field: CronField): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const index = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (index < 0) return undefined;
  return field.min + index;
}
