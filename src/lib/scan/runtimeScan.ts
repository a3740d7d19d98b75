import { HTTP_TRIGGER_DEADLINE_MS } from "../azure/requests.js";
import { collectEstate } from "../inventory/collect.js";
import type { Runtime } from "../runtime.js";
import type { ScanDeps } from "./runScan.js";

export interface ScanDepsOptions {
  /** Bounds collection under a host limit: the HTTP trigger's 230 s (see httpScanDeps). */
  deadlineMs?: number;
}

/** The scan's dependencies in a function host: the worker's runtime and the real collector. */
export function scanDepsOf(runtime: Runtime, options: ScanDepsOptions = {}): ScanDeps {
  const deadlineMs = options.deadlineMs ?? runtime.config.settings.requests.deadlineMs;
  return {
    config: runtime.config,
    collect: (config) => collectEstate(config, runtime.clients, runtime.clock, { deadlineMs }),
    controls: runtime.controls,
    clock: runtime.clock,
  };
}

/** For the HTTP trigger: collection ends well inside Functions' 230 s HTTP limit, leaving time to render. */
export function httpScanDeps(runtime: Runtime): ScanDeps {
  return scanDepsOf(runtime, { deadlineMs: Math.min(runtime.config.settings.requests.deadlineMs, HTTP_TRIGGER_DEADLINE_MS) });
}
