import type { AzureClients } from "../azure/clients.js";
import type { Clock } from "../clock.js";
import type { KeyWardenConfig } from "../config/types.js";
import type { EstateSnapshot } from "../estate/snapshot.js";
import type { StateStore } from "../state/stateStore.js";
import { executePlan, type RunResult, type StepOutcome } from "./executor.js";
import { latestErrors } from "./latestErrors.js";
import type { RotationPlan } from "./plan.js";
import { planRotation } from "./planner.js";
import { verifyRotation, type Verification } from "./verify.js";

export interface RotationDeps {
  config: KeyWardenConfig;
  clients: AzureClients;
  store: StateStore;
  clock: Clock;
  collect(): Promise<EstateSnapshot>;
  /** `plan` proposes only; `execute` carries the plan out (KEYWARDEN_ROTATION_MODE). */
  mode: "plan" | "execute";
  onOutcome?: (outcome: StepOutcome) => void;
  /** Stops the run between steps (a shutdown, a crash): steps not started are not started. */
  signal?: AbortSignal;
}

export interface RotationRound {
  plan: RotationPlan;
  /** Absent in plan mode, or when there was nothing to do. */
  run?: RunResult;
  /** After a run: every consumer read back. */
  verification?: Verification;
  /** The latest snapshot: read back after the run, else the one planned from. */
  snapshot: EstateSnapshot;
}

/** plan → execute → verify, as the rotation timer (and the demo) run it. */
export async function runRotation(deps: RotationDeps): Promise<RotationRound> {
  const snapshot = await deps.collect();
  const plan = planRotation(snapshot, deps.config.policy, deps.clock.now());
  if (deps.mode === "plan" || plan.steps.every((s) => s.action === "blocked")) return { plan, snapshot };
  const run = await executePlan(plan, {
    clients: deps.clients,
    store: deps.store,
    policy: deps.config.policy,
    policyOrigin: deps.config.policyOrigin,
    clock: deps.clock,
    pollIntervalMs: deps.config.settings.lroPollIntervalMs,
    concurrency: deps.config.settings.rotationConcurrency,
    ...(deps.onOutcome ? { onOutcome: deps.onOutcome } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  const after = await deps.collect();
  const verification = verifyRotation(after, deps.config.policy, deps.clock.now(), latestErrors(run));
  return { plan, run, verification, snapshot: after };
}
