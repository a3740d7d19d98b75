import { collectEstate } from "../inventory/collect.js";
import type { EstateSnapshot } from "../inventory/snapshot.js";
import type { Runtime } from "../runtime.js";
import { evaluate, type ComplianceReport } from "./evaluate.js";
import type { Severity } from "./types.js";

export interface ScanResult {
  snapshot: EstateSnapshot;
  report: ComplianceReport;
}

/** Collect once, evaluate pure: the estate snapshot, then every control over it. */
export async function runComplianceScan(runtime: Runtime, options: { minSeverity?: Severity } = {}): Promise<ScanResult> {
  const snapshot = await collectEstate(runtime.config, runtime.clients, runtime.clock);
  const report = evaluate(snapshot, runtime.config.policy, runtime.controls, {
    now: runtime.clock.now(),
    ...(options.minSeverity ? { minSeverity: options.minSeverity } : {}),
  });
  return { snapshot, report };
}
