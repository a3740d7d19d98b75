import { HTTP_TRIGGER_DEADLINE_MS } from "../azure/requests.js";
import { collectEstate } from "../inventory/collect.js";
import type { Runtime } from "../runtime.js";
import type { ScanDeps } from "./runScan.js";
import type { RecordingDeps } from "./scanAndRecord.js";

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

/** What recording a scan needs in a function host: the state store, Logs Ingestion if configured, retention. */
export function recordingDepsOf(runtime: Runtime, owner: string, log: (line: string) => void): RecordingDeps {
  return {
    store: runtime.store,
    ...(runtime.logsSink ? { sink: runtime.logsSink } : {}),
    log,
    owner,
    retentionDays: runtime.config.settings.historyRetentionDays,
  };
}
