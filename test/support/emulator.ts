import { readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { startEmulator, type EmulatorHandle, type EmulatorOptions, type Exchange } from "../../emulator/index.js";
import { keywardenEnv } from "../../emulator/keywardenEnv.js";
import { call } from "../../emulator/test-support.js";
import { createAzureClients } from "../../src/lib/azure/clients.js";
import { fixedClock } from "../../src/lib/clock.js";
import { loadConfig } from "../../src/lib/config/load.js";
import type { KeyWardenConfig } from "../../src/lib/config/types.js";
import { collectEstate } from "../../src/lib/inventory/collect.js";
import type { EstateSnapshot } from "../../src/lib/estate/snapshot.js";

export { CONTOSO_POLICY_FILE, KEYWARDEN_PRINCIPAL_ID } from "../../emulator/keywardenEnv.js";

/** Operations that are POSTs and read only: Log Analytics queries and the metrics batch. */
const READ_ONLY_POSTS = new Set(["Query_ResourceExecute", "MetricsBatch_Batch"]);

/** An exchange that may change Azure: any method but GET, outside the control endpoints, that is not a read-only POST. */
export const isWrite = (e: Exchange): boolean => e.method !== "GET" && !e.path.startsWith("/_emulator") && !READ_ONLY_POSTS.has(e.operationId ?? "");

export interface TestEmulator {
  emulator: EmulatorHandle;
  exchanges: Exchange[];
  /** When the emulator had answered the exchange (performance.now() of this process). */
  answeredAt(e: Exchange): number | undefined;
  /** App settings (as environment variables) that point KeyWarden at this emulator. */
  env(overrides?: Record<string, string>): NodeJS.ProcessEnv;
  config(overrides?: Record<string, string>): Promise<KeyWardenConfig>;
  collect(overrides?: Record<string, string>): Promise<EstateSnapshot>;
  /** POST/GET/DELETE a /_emulator/* control endpoint; throws unless 2xx. */
  control(method: string, path: string, body?: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/** Starts the emulator with a fixture and records every exchange. Retries are off so faults show at once. */
export async function startTestEmulator(fixture = "contoso-reference", options: Omit<EmulatorOptions, "fixture" | "onExchange"> = {}): Promise<TestEmulator> {
  const exchanges: Exchange[] = [];
  const answered = new WeakMap<Exchange, number>();
  const emulator = await startEmulator({
    ...options,
    fixture,
    onExchange: (e) => {
      answered.set(e, performance.now());
      exchanges.push(e);
    },
  });
  const env = (overrides: Record<string, string> = {}): NodeJS.ProcessEnv =>
    keywardenEnv(emulator, { KEYWARDEN_MAX_RETRIES: "0", KEYWARDEN_LRO_POLL_INTERVAL_MS: "0", ...overrides });
  const config = (overrides?: Record<string, string>) => loadConfig({ env: env(overrides), readFile: (p) => readFile(p, "utf8") });
  return {
    emulator,
    exchanges,
    answeredAt: (e) => answered.get(e),
    env,
    config,
    async collect(overrides) {
      const c = await config(overrides);
      return collectEstate(c, createAzureClients(c.settings), fixedClock(new Date()));
    },
    async control(method, path, body) {
      const res = await call(emulator, method, path, { body, token: null });
      if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    close: () => emulator.close(),
  };
}
