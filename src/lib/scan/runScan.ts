import type { Clock } from "../clock.js";
import { evaluate, type ComplianceReport } from "../compliance/evaluate.js";
import type { Control } from "../compliance/types.js";
import type { KeyWardenConfig } from "../config/types.js";
import type { EstateSnapshot } from "../estate/snapshot.js";

/** What a scan needs: the configuration, how to collect the estate, the controls, and the time. */
export interface ScanDeps {
  config: KeyWardenConfig;
  /** Collects the estate snapshot (the real Azure SDK path in production; tests may collect from a file). */
  collect(config: KeyWardenConfig): Promise<EstateSnapshot>;
  controls: readonly Control[];
  clock: Clock;
}

export interface ScanResult {
  snapshot: EstateSnapshot;
  report: ComplianceReport;
}

/**
 * The one scan pipeline (the CLI's `scan`, the HTTP report and the timer): collect once, then evaluate
 * every control over the snapshot, purely. The report holds every result: gates and alerts judge it
 * whole; rendering (per format, narrowed by forDisplay) is the caller's.
 */
export async function runScan(deps: ScanDeps): Promise<ScanResult> {
  const snapshot = await deps.collect(deps.config);
  return { snapshot, report: evaluate(snapshot, deps.config.policy, deps.controls, { now: deps.clock.now() }) };
}
