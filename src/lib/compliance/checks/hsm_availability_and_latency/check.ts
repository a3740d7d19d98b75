import type { MetricSummary } from "../../../estate/snapshot.js";
import { hsmPairs } from "../../query.js";
import { signalPartUnknown, signalsOrUnknown } from "../../query/signals.js";
import { resultsFor } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

const summary = (m: MetricSummary) => ({ average: m.average, minimum: m.minimum, maximum: m.maximum, points: m.points });
const fmt = (n: number): string => String(Math.round(n * 1000) / 1000);

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const { availabilityMinPercent: minAvailability, serviceApiLatencyMaxMs: maxLatency, signalsWindowHours: hours } = ctx.policy.thresholds;
  const expected = { availabilityPercent: { averageAtLeast: minAvailability, minimumAtLeast: minAvailability }, serviceApiLatencyMs: { averageAtMost: maxLatency }, window: `${hours} hours` };
  return hsmPairs(ctx).map((pair) => {
    const { resource } = pair;
    const signals = signalsOrUnknown(ctx, r, pair, expected, false);
    if (!("workspace" in signals)) return signals;
    const metrics = signals.metrics;
    if (metrics === null) return signalPartUnknown(ctx, r, pair, "managedHsm.metrics", "Availability and ServiceApiLatency metrics", expected);
    const { availability, serviceApiLatency: latency } = metrics;
    const observed = { windowHours: metrics.windowHours, availabilityPercent: summary(availability), serviceApiLatencyMs: summary(latency) };
    const problems: string[] = [];
    if (availability.points === 0 || availability.average === null) problems.push("no Availability data points (the HSM reported none in the window)");
    else {
      if (availability.average < minAvailability) problems.push(`average Availability ${fmt(availability.average)} % is below ${minAvailability} %`);
      if (availability.minimum !== null && availability.minimum < minAvailability) problems.push(`Availability fell to ${fmt(availability.minimum)} %`);
    }
    if (latency.points > 0 && latency.average !== null && latency.average > maxLatency) problems.push(`average ServiceApiLatency ${fmt(latency.average)} ms is above ${maxLatency} ms`);
    if (problems.length > 0) {
      return r.fail({ resource, message: `${resource.name} over the last ${hours} hours: ${problems.join("; ")}.`, observed, expected });
    }
    const latencyText = latency.average === null ? "no ServiceApiLatency data" : `average ServiceApiLatency ${fmt(latency.average)} ms`;
    return r.pass({ resource, message: `${resource.name} over the last ${hours} hours: average Availability ${fmt(availability.average!)} % (minimum ${fmt(availability.minimum ?? availability.average!)} %), ${latencyText}.`, observed, expected });
  });
}
