import { readFile } from "node:fs/promises";
import { createAzureClients, type AzureClients } from "./azure/clients.js";
import { createEventsPublisher, type EventsPublisher } from "./azure/eventGrid.js";
import { createLogsSink, type LogsSink } from "./azure/logsIngestion.js";
import { systemClock, type Clock } from "./clock.js";
import { REGISTERED_CONTROLS } from "./compliance/checks/index.js";
import { loadControls } from "./compliance/registry.js";
import type { Control } from "./compliance/types.js";
import { loadConfig } from "./config/load.js";
import type { KeyWardenConfig } from "./config/types.js";
import { createStateStore } from "./state/createStateStore.js";
import type { StateStore } from "./state/stateStore.js";

/** Everything a function invocation needs, built once per worker from the app settings. */
export interface Runtime {
  config: KeyWardenConfig;
  clients: AzureClients;
  clock: Clock;
  controls: Control[];
  /** Locks, the rotation journal, the events outbox and, later, scan evidence. */
  store: StateStore;
  /** The Event Grid topic KeyWarden publishes to; absent when KEYWARDEN_EVENTS_TOPIC_ENDPOINT is unset. */
  publisher?: EventsPublisher;
  /** Azure Monitor Logs Ingestion for alert rows; absent when KEYWARDEN_MONITOR_* are unset (the function log only). */
  logsSink?: LogsSink;
}

export interface RuntimeOptions {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
}

export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const config = await loadConfig({ ...(options.env ? { env: options.env } : {}), readFile: (p) => readFile(p, "utf8") });
  const clock = options.clock ?? systemClock;
  const { events, monitor } = config.settings;
  return {
    config,
    clients: createAzureClients(config.settings),
    clock,
    controls: loadControls(REGISTERED_CONTROLS),
    store: createStateStore(config.settings, clock),
    ...(events ? { publisher: createEventsPublisher({ ...config.settings, events }) } : {}),
    ...(monitor ? { logsSink: createLogsSink({ ...config.settings, monitor }) } : {}),
  };
}

let current: Promise<Runtime> | undefined;

/**
 * The worker's runtime, created on first use. A failed creation (bad settings) is not cached: the
 * next invocation tries again and reports the same named problem instead of a stale one.
 */
export function getRuntime(): Promise<Runtime> {
  if (!current) {
    const pending = createRuntime();
    current = pending;
    pending.catch(() => {
      if (current === pending) current = undefined;
    });
  }
  return current;
}

/** Tests (and hosts) install a runtime of their own; `undefined` goes back to the lazy default. */
export function setRuntime(runtime: Runtime | Promise<Runtime> | undefined): void {
  current = runtime === undefined ? undefined : Promise.resolve(runtime);
}
