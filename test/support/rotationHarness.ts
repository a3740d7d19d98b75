import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAzureClients, type AzureClients } from "../../src/lib/azure/clients.js";
import type { Clock } from "../../src/lib/clock.js";
import type { KeyWardenConfig } from "../../src/lib/config/types.js";
import { collectEstate } from "../../src/lib/inventory/collect.js";
import { executePlan, type ExecuteOptions, type RunResult } from "../../src/lib/rotation/executor.js";
import { planRotation, type PlanOptions } from "../../src/lib/rotation/planner.js";
import type { RotationPlan } from "../../src/lib/rotation/plan.js";
import { verifyRotation, type Verification } from "../../src/lib/rotation/verify.js";
import { createLocalDirectoryStore } from "../../src/lib/state/localDirectoryStore.js";
import type { StateStore } from "../../src/lib/state/stateStore.js";
import type { Exchange } from "../../emulator/index.js";
import { isWrite, type TestEmulator } from "./emulator.js";

/**
 * The rotation path against the emulator: real SDK clients, a real state store, and a clock that follows the
 * emulator's (frozen unless a test moves it), so "due", expiry and deadlines agree on both sides.
 */
export interface RotationHarness {
  config: KeyWardenConfig;
  clients: AzureClients;
  store: StateStore;
  clock: Clock;
  /** Moves the emulator clock (and ours with it). */
  advance(duration: string): Promise<void>;
  plan(options?: PlanOptions): Promise<RotationPlan>;
  execute(plan: RotationPlan, options?: Partial<ExecuteOptions>): Promise<RunResult>;
  verify(): Promise<Verification>;
  /** Exchanges since `mark()`. */
  mark(): number;
  since(mark: number): Exchange[];
  /** Non-GET calls to Azure (ARM or an HSM) since the mark. */
  writesSince(mark: number): Exchange[];
  /** How many times a consumer lost access to its key since the emulator's last reset. */
  accessLost(): Promise<number>;
  close(): Promise<void>;
}

export async function rotationHarness(t: TestEmulator, options: { env?: Record<string, string>; store?: StateStore } = {}): Promise<RotationHarness> {
  const config = await t.config(options.env);
  const clients = createAzureClients(config.settings);
  let now = new Date();
  const sync = async () => {
    const clock = (await t.control("GET", "/_emulator/clock")) as { now: string };
    now = new Date(clock.now);
  };
  await sync();
  // Long-running operations poll at KeyWarden's interval (0 in tests) instead of the emulator's Retry-After of 1 s.
  await t.control("POST", "/_emulator/config", { lroRetryAfterSeconds: 0 });
  const clock: Clock = { now: () => new Date(now) };
  const dir = options.store ? undefined : await mkdtemp(join(tmpdir(), "keywarden-state-"));
  const store = options.store ?? createLocalDirectoryStore(dir as string, { clock });
  const collect = () => collectEstate(config, clients, clock);
  return {
    config,
    clients,
    store,
    clock,
    async advance(duration) {
      await t.control("POST", "/_emulator/clock", { advance: duration });
      await sync();
    },
    async plan(planOptions) {
      return planRotation(await collect(), config.policy, clock.now(), planOptions);
    },
    execute(plan, extra = {}) {
      return executePlan(plan, { clients, store, policy: config.policy, clock, pollIntervalMs: 0, sleep: async () => undefined, ...extra });
    },
    async verify() {
      return verifyRotation(await collect(), config.policy, clock.now());
    },
    mark: () => t.exchanges.length,
    since: (mark) => t.exchanges.slice(mark),
    writesSince: (mark) => t.exchanges.slice(mark).filter(isWrite),
    async accessLost() {
      return ((await t.control("GET", "/_emulator/access/lost")) as { count: number }).count;
    },
    async close() {
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
