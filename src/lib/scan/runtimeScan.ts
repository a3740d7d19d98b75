import { collectEstate } from "../inventory/collect.js";
import type { Runtime } from "../runtime.js";
import type { ScanDeps } from "./runScan.js";

/** The scan's dependencies in a function host: the worker's runtime and the real collector. */
export function scanDepsOf(runtime: Runtime): ScanDeps {
  return {
    config: runtime.config,
    collect: (config) => collectEstate(config, runtime.clients, runtime.clock),
    controls: runtime.controls,
    clock: runtime.clock,
  };
}
