import { collectEstate } from "../inventory/collect.js";
import type { EstateSnapshot } from "../inventory/snapshot.js";
import type { Runtime } from "../runtime.js";
import { evaluate, type ComplianceReport } from "./evaluate.js";

export interface ScanResult {
  snapshot: EstateSnapshot;
  report: ComplianceReport;
}

/** Collect once, evaluate pure: the estate snapshot, then every control over it. */
/** The report holds every result; narrow a copy for display with forDisplay, never before a gate. */
export async function runComplianceScan(runtime: Runtime): Promise<ScanResult> {
  const snapshot = await collectEstate(runtime.config, runtime.clients, runtime.clock);
  const report = evaluate(snapshot, runtime.config.policy, runtime.controls, { now: runtime.clock.now() });
  return { snapshot, report };
}
