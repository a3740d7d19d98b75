import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createAzureClients, type AzureClients } from "./azure/clients.js";
import { createEventsPublisher, type EventsPublisher } from "./azure/eventGrid.js";
import { createLogsSink, type LogsSink } from "./azure/logsIngestion.js";
import { systemClock, type Clock } from "./clock.js";
import { REGISTERED_CONTROLS } from "./compliance/checks/index.js";
import { loadControls } from "./compliance/registry.js";
import type { Control } from "./compliance/types.js";
import { deepFreeze, loadConfig, loadPolicy, type ReadStoredPolicy } from "./config/load.js";
import type { AppSettings, KeyWardenConfig } from "./config/types.js";
import { createStateStore } from "./state/createStateStore.js";
import type { StateStore } from "./state/stateStore.js";
import { readStoredPolicy as readStoredPolicyFrom } from "./state/storedPolicy.js";

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
  /**
   * KEYWARDEN_POLICY_BLOB: reads and validates the policy document afresh, so that each invocation runs on the one
   * in the state store now. Absent for a file or an app setting, which change only with a deployment or a restart.
   */
  reloadPolicy?: () => Promise<Pick<KeyWardenConfig, "policy" | "policyOrigin">>;
}

export interface RuntimeOptions {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
}

/**
 * The function app's root, where host.json is (a relative KEYWARDEN_POLICY_FILE is found from here, whatever the
 * worker's working directory): three levels above dist/src/lib/runtime.js in the package, two above the source.
 */
export function appRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++) {
    if (existsSync(join(dir, "host.json"))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const clock = options.clock ?? systemClock;
  // One store for the policy blob and everything else; created once the settings are known.
  let store: StateStore | undefined;
  const storeOf = (settings: AppSettings): StateStore => (store ??= createStateStore(settings, clock));
  const readStoredPolicy: ReadStoredPolicy = (settings, name) => readStoredPolicyFrom(storeOf(settings), name);
  const readText = (p: string) => readFile(p, "utf8");
  const baseDir = appRoot();
  const config = await loadConfig({ ...(options.env ? { env: options.env } : {}), readFile: readText, baseDir, readStoredPolicy });
  const { events, monitor } = config.settings;
  return {
    config,
    clients: createAzureClients(config.settings),
    clock,
    controls: loadControls(REGISTERED_CONTROLS),
    store: storeOf(config.settings),
    ...(events ? { publisher: createEventsPublisher({ ...config.settings, events }) } : {}),
    ...(monitor ? { logsSink: createLogsSink({ ...config.settings, monitor }) } : {}),
    ...(config.settings.policySource.kind === "store"
      ? { reloadPolicy: () => loadPolicy(config.settings, { readFile: readText, baseDir, readStoredPolicy }) }
      : {}),
  };
}

let current: Promise<Runtime> | undefined;

/**
 * The worker's runtime, created on first use, for one invocation: with KEYWARDEN_POLICY_BLOB the policy document is
 * read and validated again each time (a bad one throws a ConfigError naming it, before the invocation reads or writes
 * anything; the worker's clients and store are kept). A failed creation (bad settings) is not cached: the next
 * invocation tries again and reports the same named problem instead of a stale one.
 */
export async function getRuntime(): Promise<Runtime> {
  const created = current === undefined;
  if (!current) {
    const pending = createRuntime();
    current = pending;
    pending.catch(() => {
      if (current === pending) current = undefined;
    });
  }
  const runtime = await current;
  // A runtime created by this call has just read the document.
  if (!runtime.reloadPolicy || created) return runtime;
  const { policy, policyOrigin } = await runtime.reloadPolicy();
  return { ...runtime, config: deepFreeze({ settings: runtime.config.settings, policy, policyOrigin }) };
}

/** Tests (and hosts) install a runtime of their own; `undefined` goes back to the lazy default. */
export function setRuntime(runtime: Runtime | Promise<Runtime> | undefined): void {
  current = runtime === undefined ? undefined : Promise.resolve(runtime);
}
