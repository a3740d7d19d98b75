import type { AzureClients } from "../lib/azure/clients.js";
import type { LogsSink } from "../lib/azure/logsIngestion.js";
import type { Clock } from "../lib/clock.js";
import type { KeyWardenConfig } from "../lib/config/types.js";
import type { EstateSnapshot } from "../lib/estate/snapshot.js";
import { executePlan, type RunResult, type StepOutcome } from "../lib/rotation/executor.js";
import { latestErrors } from "../lib/rotation/latestErrors.js";
import { listRunIds, readRun } from "../lib/rotation/journal.js";
import { planRotation } from "../lib/rotation/planner.js";
import { renderOutcome, renderPlan, renderRun, renderVerification } from "../lib/rotation/render.js";
import { needsAttention, verifyRotation, type Verification } from "../lib/rotation/verify.js";
import type { StateStore } from "../lib/state/stateStore.js";
import type { ParsedArgs } from "./args.js";
import { UsageError } from "./usageError.js";

/** The write path's parts: Azure clients and the state store (main.ts wires the real ones). */
export interface RotationServices {
  clients: AzureClients;
  store: StateStore;
  /** Azure Monitor Logs Ingestion, when KEYWARDEN_MONITOR_* are set (scan --emit). */
  logsSink?: LogsSink;
}

export interface RotationIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** stdin and stderr are a terminal: confirmation can be asked and a progress bar drawn. */
  isTerminal?: boolean;
  /** Asks a question on the terminal and returns the answer. */
  prompt?(question: string): Promise<string>;
}

export interface RotationCommandDeps {
  config: KeyWardenConfig;
  collect(): Promise<EstateSnapshot>;
  services(): Promise<RotationServices>;
  clock: Clock;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** plan/rotate/verify: a consumer is blocked, or pending past its deadline. */
export const EXIT_ATTENTION = 4;

function keyFilter(args: ParsedArgs, config: KeyWardenConfig): string[] | undefined {
  const value = args.options.get("key");
  if (typeof value !== "string") return undefined;
  const names = value.split(",").map((k) => k.trim()).filter(Boolean);
  const known = config.policy.managedHsms.flatMap((h) => h.keys.map((k) => k.name.toLowerCase()));
  const unknown = names.filter((n) => !known.includes(n.toLowerCase()));
  if (unknown.length > 0) throw new UsageError(`--key names ${unknown.map((n) => `"${n}"`).join(", ")}, which the policy document does not manage (it manages ${known.join(", ")})`);
  return names;
}

export async function planCommand(args: ParsedArgs, io: RotationIo, deps: RotationCommandDeps): Promise<number> {
  const keys = keyFilter(args, deps.config);
  const snapshot = await deps.collect();
  const plan = planRotation(snapshot, deps.config.policy, deps.clock.now(), keys ? { keys } : {});
  io.stdout(args.options.has("json") ? `${JSON.stringify(plan, null, 2)}\n` : renderPlan(plan));
  return plan.steps.some((s) => s.action === "blocked") ? EXIT_ATTENTION : EXIT_OK;
}

export async function rotateCommand(args: ParsedArgs, io: RotationIo, deps: RotationCommandDeps): Promise<number> {
  const keys = keyFilter(args, deps.config);
  const dryRun = args.options.has("dry-run");
  const json = args.options.has("json");
  const snapshot = await deps.collect();
  const plan = planRotation(snapshot, deps.config.policy, deps.clock.now(), keys ? { keys } : {});
  if (!json) io.stdout(renderPlan(plan));
  const actionable = plan.steps.filter((s) => s.action !== "blocked");
  if (actionable.length === 0) {
    if (json) io.stdout(`${JSON.stringify({ plan, run: null }, null, 2)}\n`);
    return plan.steps.length > 0 ? EXIT_ATTENTION : EXIT_OK;
  }
  if (!dryRun && !args.options.has("yes")) {
    if (!io.isTerminal || !io.prompt) throw new UsageError("rotate changes production resources: pass --yes to run it without a terminal to confirm on (or --dry-run to see what it would do)");
    const answer = await io.prompt(`Execute plan ${plan.id.slice(0, 12)}: ${actionable.length} step(s)? Type "yes" to go on: `);
    if (answer.trim().toLowerCase() !== "yes") {
      io.stderr("Not confirmed: nothing was changed.\n");
      return EXIT_OK;
    }
  }

  const { clients, store } = await deps.services();
  const progress = progressReporter(io, actionable.length);
  const run = await executePlan(plan, {
    clients,
    store,
    policy: deps.config.policy,
    policyOrigin: deps.config.policyOrigin,
    clock: deps.clock,
    pollIntervalMs: deps.config.settings.lroPollIntervalMs,
    concurrency: deps.config.settings.rotationConcurrency,
    dryRun,
    onOutcome: progress,
  });
  progress.done();
  const failed = run.outcomes.filter((o) => o.status === "failed");
  io.stderr(`${dryRun ? "Dry run" : "Run"} ${run.runId}: ${summarise(run)}${dryRun ? " (nothing was changed)" : ` (journal: keywarden runs --id ${run.runId})`}\n`);
  if (dryRun) {
    if (json) io.stdout(`${JSON.stringify({ plan, run }, null, 2)}\n`);
    return failed.length > 0 ? EXIT_FAILURE : EXIT_OK;
  }
  const verification = verifyRotation(await deps.collect(), deps.config.policy, deps.clock.now(), latestErrors(run));
  if (json) io.stdout(`${JSON.stringify({ plan, run, verification }, null, 2)}\n`);
  else io.stdout(renderVerification(verification));
  return exitFor(failed.length > 0, verification);
}

export async function verifyCommand(args: ParsedArgs, io: RotationIo, deps: RotationCommandDeps): Promise<number> {
  const keys = keyFilter(args, deps.config);
  const snapshot = await deps.collect();
  let verification = verifyRotation(snapshot, deps.config.policy, deps.clock.now());
  if (keys) verification = { ...verification, consumers: verification.consumers.filter((c) => keys.some((k) => k.toLowerCase() === c.keyName.toLowerCase())) };
  io.stdout(args.options.has("json") ? `${JSON.stringify(verification, null, 2)}\n` : renderVerification(verification));
  return exitFor(verification.consumers.some((c) => c.verdict === "failed"), verification);
}

export async function runsCommand(args: ParsedArgs, io: RotationIo, deps: RotationCommandDeps): Promise<number> {
  const { store } = await deps.services();
  const id = args.options.get("id");
  const json = args.options.has("json");
  if (typeof id === "string") {
    let records;
    try {
      records = await readRun(store, id);
    } catch (error) {
      if (error instanceof RangeError) throw new UsageError(`--id: ${error.message}`);
      throw error;
    }
    if (records.length === 0) {
      io.stderr(`No run ${id} in ${store.description}.\n`);
      return EXIT_FAILURE;
    }
    io.stdout(json ? `${JSON.stringify(records, null, 2)}\n` : renderRun(records));
    return EXIT_OK;
  }
  const ids = await listRunIds(store);
  if (json) io.stdout(`${JSON.stringify(ids, null, 2)}\n`);
  else io.stdout(ids.length === 0 ? `No runs in ${store.description}.\n` : `Runs in ${store.description}, newest first:\n${ids.map((i) => `  ${i}`).join("\n")}\n`);
  return EXIT_OK;
}

function exitFor(failed: boolean, verification: Verification): number {
  if (failed) return EXIT_FAILURE;
  return needsAttention(verification).length > 0 ? EXIT_ATTENTION : EXIT_OK;
}

function summarise(run: RunResult): string {
  const counts = new Map<string, number>();
  for (const o of run.outcomes) counts.set(o.status, (counts.get(o.status) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${n} ${status}`).join(", ") || "no steps";
}

/** A line per step; on a terminal, a progress bar redrawn under them. */
function progressReporter(io: RotationIo, total: number): ((o: StepOutcome) => void) & { done(): void } {
  let finished = 0;
  const bar = () => {
    const width = 30;
    const filled = total === 0 ? width : Math.round((finished / total) * width);
    io.stderr(`\r[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${finished}/${total}`);
  };
  const report = (outcome: StepOutcome) => {
    finished++;
    if (io.isTerminal) io.stderr("\r\u001b[2K");
    io.stdout(`${renderOutcome(outcome)}\n`);
    if (io.isTerminal) bar();
  };
  return Object.assign(report, {
    done: () => {
      if (io.isTerminal) io.stderr("\r\u001b[2K");
    },
  });
}
