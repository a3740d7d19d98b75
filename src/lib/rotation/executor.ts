import { performance } from "node:perf_hooks";
import type { AzureClients } from "../azure/clients.js";
import { ConcurrencyLimit } from "../azure/concurrencyLimit.js";
import { AzureRequestError } from "../azure/errors.js";
import type { Clock } from "../clock.js";
import { consumerPrincipalIds } from "../compliance/query.js";
import { versionUsabilityProblems } from "../compliance/query/keys.js";
import { keyScope, wrapAccess } from "../compliance/query/rbac.js";
import { SETTING_DEFAULTS } from "../config/settings.js";
import type { KeyPolicy, PolicyDocument, PolicyOrigin, RotationConcurrency } from "../config/types.js";
import { ensureError } from "../errors.js";
import { sameResourceId, subscriptionOf } from "../estate/resourceId.js";
import type { Consumer, ManagedHsmSnapshot, RoleAssignmentSnapshot } from "../estate/snapshot.js";
import { lockOwner } from "../state/lockOwner.js";
import { InFlightReads } from "./inFlightReads.js";
import type { StateStore } from "../state/stateStore.js";
import { isLeaseBusy, withLease } from "../state/withLease.js";
import { Journal, newRunId, type OutcomeStatus, type RecordedError } from "./journal.js";
import { catchUpDeadline } from "./catchUpDeadline.js";
import type { PlanStep, RotationPlan, StateValue } from "./plan.js";
import { STEP_HANDLERS } from "./steps/index.js";
import type { ResolvedTarget, StepContext, StepHandler } from "./steps/stepHandler.js";

export interface StepOutcome {
  stepId: string;
  kind: PlanStep["kind"];
  action: PlanStep["action"];
  keyName: string;
  resource: { id: string; name: string };
  status: OutcomeStatus;
  message: string;
  /** The version the step moved (or would move) the resource to. */
  version?: string;
  /** verify steps still pending: when the consumer must have caught up. */
  deadline?: string;
  requestIds: string[];
  error?: RecordedError;
  elapsedMs: number;
  /** skipped because another run holds the key's lock (that run finishes the key). */
  lockBusy?: true;
}

export interface RunResult {
  runId: string;
  planId: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  outcomes: StepOutcome[];
}

export interface ExecuteOptions {
  clients: AzureClients;
  store: StateStore;
  policy: PolicyDocument;
  clock: Clock;
  /** Poll interval of long-running writes (KEYWARDEN_LRO_POLL_INTERVAL_MS). */
  pollIntervalMs: number;
  /** No write to Azure, no lock, no journal: fresh reads and preconditions only. */
  dryRun?: boolean;
  /** Called as each step ends (the CLI prints a line per step). */
  onOutcome?: (outcome: StepOutcome) => void;
  /** Stops the run between steps (a crash, a shutdown): steps not started are not started. */
  signal?: AbortSignal;
  /**
   * Consumer steps in flight at once, in the run and in one subscription (KEYWARDEN_ROTATION_CONCURRENCY and
   * KEYWARDEN_ROTATION_SUBSCRIPTION_CONCURRENCY; default SETTING_DEFAULTS'). The request layer still paces each request.
   */
  concurrency?: Partial<RotationConcurrency>;
  /** Waits between reads of a just-created version (default: real time). */
  sleep?: (ms: number) => Promise<void>;
  /** Who holds the key locks (default host:pid:run). */
  owner?: string;
  /** Which policy document the plan came from: recorded in the journal's run.started record. */
  policyOrigin?: PolicyOrigin;
}

/** Held per key while its steps run; renewed by withLease, expires on its own if the process dies. */
export const LOCK_DURATION_MS = 60_000;
/** How long a new version may take to become readable (multi-region replication takes up to 6 minutes). */
const NEW_VERSION_WAIT_MS = 6 * 60_000;

/**
 * Executes a plan: per key, under the key's lock, the key-level steps (rotation policy, rotation), then every
 * consumer step, each re-checked against a fresh read just before its write and journaled before and after.
 * Never disables, expires or deletes a key version; never switches a consumer its identity cannot unwrap for.
 */
export async function executePlan(plan: RotationPlan, options: ExecuteOptions): Promise<RunResult> {
  const { clock } = options;
  const limits = stepLimits(options.concurrency);
  const runId = newRunId(clock);
  const startedAt = clock.now().toISOString();
  const journal = options.dryRun ? undefined : new Journal(options.store, runId, plan.id, clock);
  const owner = options.owner ?? lockOwner(runId);
  const origin = options.policyOrigin;
  const policy: Record<string, StateValue> = origin ? { policySource: [origin.setting, origin.location].filter(Boolean).join(" "), policySha256: origin.sha256 } : {};
  try {
    await journal?.append({ type: "run.started", details: { keys: plan.keys.length, steps: plan.steps.length, owner, ...policy } });
  } catch (error) {
    // No journal, no write: the run stops before it changes anything.
    throw new RunNotStartedError("journal", runId, plan.id, [...new Map(plan.steps.map((s) => [s.key.id.toLowerCase(), { id: s.key.id, name: s.key.name }])).values()], error);
  }

  const byKey = new Map<string, PlanStep[]>();
  for (const step of plan.steps) byKey.set(step.key.id.toLowerCase(), [...(byKey.get(step.key.id.toLowerCase()) ?? []), step]);

  const outcomes: StepOutcome[] = [];
  const record = (outcome: StepOutcome) => {
    outcomes.push(outcome);
    options.onOutcome?.(outcome);
  };
  for (const steps of byKey.values()) {
    const first = steps[0] as PlanStep;
    const keyPolicy = findKeyPolicy(options.policy, first);
    if (!keyPolicy) {
      for (const step of steps) record(outcomeOf(step, "skipped", `key ${step.key.name} is no longer in the policy document`, 0));
      continue;
    }
    const run = (lockSignal?: AbortSignal) => runKey(steps, keyPolicy, options, journal, record, limits, lockSignal);
    if (options.dryRun) {
      await run();
      continue;
    }
    const lockName = `locks/${new URL(first.key.hsmUri).hostname.split(".")[0]}/${first.key.name.toLowerCase()}`;
    let locked = false;
    const held = await withLease(options.store, lockName, { durationMs: LOCK_DURATION_MS, owner, clock }, async (lockSignal) => {
      locked = true;
      return run(lockSignal);
    }).catch((error: unknown) => {
      // The lock could not be taken (not held by another run: the store failed), so nothing of this key may change.
      if (!locked) throw new RunNotStartedError("lock", runId, plan.id, [{ id: first.key.id, name: first.key.name }], error);
      throw error;
    });
    if (isLeaseBusy(held)) {
      for (const step of steps) record({ ...outcomeOf(step, "skipped", `another run holds the lock on key ${step.key.name}; it will finish this key`, 0), lockBusy: true });
    }
  }

  const counts: Record<string, StateValue> = {};
  for (const o of outcomes) counts[o.status] = Number(counts[o.status] ?? 0) + 1;
  // Best effort, as a failed step's record is: the outcomes are what the round tells (its failures as alerts), and
  // a journal write that failed now must not discard them.
  await journal?.append({ type: "run.finished", details: counts }).catch(() => undefined);
  return { runId, planId: plan.id, dryRun: options.dryRun === true, startedAt, finishedAt: clock.now().toISOString(), outcomes };
}

/**
 * The state store failed before the run could change anything: the journal's first record (stage `journal`, every
 * key of the plan) or a key's lock (stage `lock`, that key) could not be written. The run stops there; its alert
 * cannot go through the outbox, which lives in the same store (src/lib/alerts/runNotStarted.ts sends it directly).
 */
export class RunNotStartedError extends Error {
  override readonly name = "RunNotStartedError";

  constructor(
    readonly stage: "journal" | "lock",
    readonly runId: string,
    readonly planId: string,
    readonly keys: readonly { id: string; name: string }[],
    cause: unknown,
  ) {
    super(
      `Rotation run ${runId} did not start${stage === "lock" ? ` on key ${keys[0]?.name ?? "?"}` : ""}: ${stage === "journal" ? "the journal's first record" : "the key's lock"} could not be written to the state store (${ensureError(cause).message.split("\n")[0] ?? ""}); nothing was changed${stage === "lock" ? " on that key" : ""}`,
      { cause },
    );
  }
}

function findKeyPolicy(policy: PolicyDocument, step: PlanStep): KeyPolicy | undefined {
  const hsm = policy.managedHsms.find((h) => sameResourceId(h.resourceId, step.key.hsmResourceId));
  return hsm?.keys.find((k) => k.name.toLowerCase() === step.key.name.toLowerCase());
}

const KEY_LEVEL = new Set<PlanStep["kind"]>(["rotationPolicy", "rotateKey"]);

async function runKey(steps: PlanStep[], keyPolicy: KeyPolicy, options: ExecuteOptions, journal: Journal | undefined, record: (o: StepOutcome) => void, limits: StepLimits, lockSignal?: AbortSignal): Promise<void> {
  const done = new Map<string, OutcomeStatus>();
  // The key's steps check their consumers' access at once: identical reads then in flight are sent once.
  const reads = new InFlightReads();
  const stopped = (): string | undefined => {
    if (options.signal?.aborted) return "the run was stopped before this step";
    if (lockSignal?.aborted) return "the key's lock was lost, so this run stopped writing";
    return undefined;
  };
  const finish = (o: StepOutcome) => {
    done.set(o.stepId, o.status);
    record(o);
  };

  for (const step of steps.filter((s) => KEY_LEVEL.has(s.kind))) {
    finish(await runStep(step, steps, keyPolicy, undefined, options, journal, done, stopped, reads));
  }
  const consumerSteps = steps.filter((s) => !KEY_LEVEL.has(s.kind));
  if (consumerSteps.length === 0) return;

  const keyStepFailed = steps.some((s) => KEY_LEVEL.has(s.kind) && s.kind === "rotateKey" && !isSettled(done.get(s.id), options.dryRun));
  if (keyStepFailed) {
    for (const step of consumerSteps) finish(outcomeOf(step, "skipped", `the key was not rotated, so ${step.resource.name} has no new version to move to`, 0));
    return;
  }
  const rotating = options.dryRun && steps.some((s) => s.kind === "rotateKey" && done.get(s.id) === "wouldChange");
  let target: ResolvedTarget | undefined;
  let targetProblem: string | undefined;
  if (!rotating) {
    try {
      target = await resolveTarget(steps[0] as PlanStep, options);
    } catch (error) {
      targetProblem = `the key's current version could not be read (${ensureError(error).message})`;
    }
  }

  // Each step waits for the steps it depends on (dependsOn: a SQL MI's key before its protector, a failover
  // secondary before its primary), then for a slot in its subscription, then for one in the run.
  const running = new Map<string, Promise<void>>();
  for (const step of consumerSteps) {
    running.set(
      step.id,
      (async () => {
        await Promise.all(step.dependsOn.map((id) => running.get(id)));
        await limits.run(step, async () => {
          if (rotating) return finish(outcomeOf(step, step.action === "blocked" ? "blocked" : "wouldChange", `would move ${step.resource.name} to the version the rotation creates`, 0));
          if (!target) return finish(outcomeOf(step, "skipped", targetProblem ?? "no target version", 0));
          finish(await runStep(step, steps, keyPolicy, target, options, journal, done, stopped, reads));
        });
      })(),
    );
  }
  await Promise.all(running.values());
}

interface StepLimits {
  run<T>(step: PlanStep, fn: () => Promise<T>): Promise<T>;
}

/**
 * At most `overall` consumer steps at once in the run and `perSubscription` in one subscription (ARM meters writes
 * per subscription and principal). A step takes its subscription's slot first, so a step waiting for a busy
 * subscription holds no slot of the run's that another subscription's step could use; slots go first come, first
 * served, and always in that order, so no two steps wait on each other.
 */
function stepLimits(concurrency: Partial<RotationConcurrency> | undefined): StepLimits {
  const overall = concurrency?.overall ?? SETTING_DEFAULTS.rotationConcurrency;
  const perSubscription = concurrency?.perSubscription ?? SETTING_DEFAULTS.rotationSubscriptionConcurrency;
  for (const [name, n] of [["overall", overall], ["perSubscription", perSubscription]] as const) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`executePlan: concurrency.${name} must be a whole number of at least 1, got ${String(n)}`);
  }
  const run = new ConcurrencyLimit(overall);
  const bySubscription = new Map<string, ConcurrencyLimit>();
  return {
    async run(step, fn) {
      const subscription = subscriptionOf(step.resource.id) ?? "";
      let limit = bySubscription.get(subscription);
      if (!limit) bySubscription.set(subscription, (limit = new ConcurrencyLimit(perSubscription)));
      const releaseSubscription = await limit.acquire();
      try {
        const release = await run.acquire();
        try {
          return await fn();
        } finally {
          release();
        }
      } finally {
        releaseSubscription();
      }
    },
  };
}

/** Settled: the step's effect is in place (or, in a dry run, would be). */
function isSettled(status: OutcomeStatus | undefined, dryRun: boolean | undefined): boolean {
  return status === "changed" || status === "unchanged" || status === "verified" || (dryRun === true && status === "wouldChange");
}

/** The key's current version, once it is readable (a just-rotated version may take a moment to replicate). */
async function resolveTarget(step: PlanStep, options: ExecuteOptions): Promise<ResolvedTarget> {
  const keys = options.clients.hsmKeys(step.key.hsmUri);
  const key = await keys.getKey(step.key.name);
  if (!key.currentVersion) throw new Error(`key ${step.key.name} reported no current version`);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = options.clock.now().getTime();
  for (let wait = 500; ; wait = Math.min(wait * 2, 30_000)) {
    try {
      const version = await keys.getVersion(step.key.name, key.currentVersion);
      return { version: version.version, url: version.id, ...(version.createdOn ? { createdOn: version.createdOn } : {}) };
    } catch (error) {
      const notYet = error instanceof AzureRequestError && error.statusCode === 404;
      if (!notYet || options.clock.now().getTime() - started > NEW_VERSION_WAIT_MS) throw error;
      await sleep(wait);
    }
  }
}

async function runStep(
  step: PlanStep,
  steps: readonly PlanStep[],
  keyPolicy: KeyPolicy,
  target: ResolvedTarget | undefined,
  options: ExecuteOptions,
  journal: Journal | undefined,
  done: Map<string, OutcomeStatus>,
  stopped: () => string | undefined,
  reads: InFlightReads,
): Promise<StepOutcome> {
  // Elapsed time is a duration on the monotonic clock (the injected clock may be frozen, as the emulator's is).
  const startedMs = performance.now();
  const elapsed = () => Math.round(performance.now() - startedMs);
  const version = target?.version;
  const out = (status: OutcomeStatus, message: string, extra: Partial<StepOutcome> = {}) => outcomeOf(step, status, message, elapsed(), { ...(version ? { version } : {}), ...extra });

  if (step.action === "blocked") return out("blocked", step.reason);
  const unmet = step.dependsOn.find((id) => !isSettled(done.get(id), options.dryRun));
  if (unmet !== undefined) return out("skipped", `it depends on ${unmet}, which did not finish (${done.get(unmet) ?? "not run"})`);
  const halt = stopped();
  if (halt) return out("skipped", halt);

  const handler = STEP_HANDLERS[step.kind] as StepHandler<unknown>;
  const requestIds: string[] = [];
  const wouldChange = new Set(steps.filter((s) => done.get(s.id) === "wouldChange").map((s) => s.kind));
  const ctx: StepContext = { clients: options.clients, step, keyPolicy, target, now: () => options.clock.now(), write: { pollIntervalMs: options.pollIntervalMs, onRequestId: (id) => requestIds.push(id) }, wouldChange };
  let before: Record<string, StateValue> | undefined;
  // What a throw interrupted: the fresh reads, the step.started record (nothing written to Azure yet), or the write.
  let phase: "read" | "journal" | "write" = "read";
  try {
    const state = await handler.read(ctx);
    before = handler.describe(state);
    if (handler.isDone(state, ctx)) {
      if (step.kind === "rotateKey") return out("unchanged", `key ${step.key.name} was already rotated: its current version is ${String(before.currentVersion)}, not ${String(step.before.currentVersion)}`);
      return out(step.action === "verify" ? "verified" : "unchanged", `${step.resource.name} is already on ${version ? `version ${version}` : "the policy's settings"}`);
    }
    if (step.action === "verify") return pending(step, target, options.clock.now(), out);

    const consumer = handler.consumer?.(state);
    if (consumer && target) {
      const blockedBy = await accessProblem(options, step, consumer, target, reads);
      if (blockedBy) return out("blocked", `not switched: ${blockedBy}`);
    }
    const unmetPrecondition = await handler.precondition?.(state, ctx);
    if (unmetPrecondition) return out("skipped", `precondition not met: ${unmetPrecondition}`);
    if (options.dryRun) return out("wouldChange", `would change ${step.resource.name}${version ? ` to version ${version}` : ""}`);
    const halted = stopped();
    if (halted) return out("skipped", halted);

    phase = "journal";
    await journal?.append({ type: "step.started", stepId: step.id, kind: step.kind, keyId: step.key.id, resourceId: step.resource.id, before, ...(version ? { details: { targetVersion: version } } : {}) });
    phase = "write";
    await handler.apply(state, ctx);
    const after = await handler.read(ctx);
    const afterState = handler.describe(after);
    const moved = step.kind === "rotateKey" || handler.isDone(after, ctx);
    const status: OutcomeStatus = moved ? "changed" : "failed";
    const message = moved ? changedMessage(step, afterState, version) : `${step.resource.name} was written but does not show the target state on a fresh read`;
    await journal?.append({ type: "step.finished", stepId: step.id, kind: step.kind, keyId: step.key.id, resourceId: step.resource.id, outcome: status, message, before, after: afterState, requestIds });
    const created = step.kind === "rotateKey" && typeof afterState.currentVersion === "string" ? { version: afterState.currentVersion } : {};
    return out(status, message, { requestIds, ...created });
  } catch (thrown) {
    const error = recordedError(thrown);
    const what = phase === "write" ? "the write failed" : phase === "journal" ? `the journal write failed, so ${step.resource.name} was not changed` : "a read failed";
    const message = `${what}: ${error.code ? `${error.code}: ` : ""}${error.message}`;
    if (phase === "write") {
      await journal
        ?.append({ type: "step.finished", stepId: step.id, kind: step.kind, keyId: step.key.id, resourceId: step.resource.id, outcome: "failed", message, ...(before ? { before } : {}), requestIds, error })
        .catch(() => undefined);
    }
    return out("failed", message, { requestIds, error });
  }
}

function changedMessage(step: PlanStep, after: Record<string, StateValue>, version: string | undefined): string {
  if (step.kind === "rotateKey") return `rotated key ${step.key.name}: new version ${String(after.currentVersion)}`;
  if (step.kind === "rotationPolicy") return `set the rotation policy of ${step.key.name} (expires after ${String(after.expiresIn)}, rotates after ${String(after.rotateTimeAfterCreate)})`;
  return `moved ${step.resource.name} to version ${version ?? "?"}`;
}

function pending(step: PlanStep, target: ResolvedTarget | undefined, now: Date, out: (status: OutcomeStatus, message: string, extra?: Partial<StepOutcome>) => StepOutcome): StepOutcome {
  if (!step.catchUpWithin || !target?.createdOn) return out("pending", `${step.resource.name} has not caught up yet`);
  const deadline = catchUpDeadline(target.createdOn, step.catchUpWithin);
  return deadline.getTime() < now.getTime()
    ? out("pendingPastDeadline", `${step.resource.name} has not caught up with version ${target.version} within ${step.catchUpWithin} of its creation (deadline ${deadline.toISOString()})`, { deadline: deadline.toISOString() })
    : out("pending", `${step.resource.name} catches up on its own by ${deadline.toISOString()}`, { deadline: deadline.toISOString() });
}

/**
 * Why the consumer must not be switched to the target now, from fresh reads: the version must be enabled,
 * active and unexpired, and the consumer's identity must hold read, wrap and unwrap at a covering scope.
 */
async function accessProblem(options: ExecuteOptions, step: PlanStep, consumer: Consumer, target: ResolvedTarget, reads: InFlightReads): Promise<string | undefined> {
  const keys = options.clients.hsmKeys(step.key.hsmUri);
  const hsm = step.key.hsmUri.toLowerCase();
  const version = await reads.read(`${hsm}|version|${step.key.name.toLowerCase()}|${target.version}`, () => keys.getVersion(step.key.name, target.version));
  const problems = versionUsabilityProblems(version, options.clock.now());
  if (version.enabled !== true || problems.length > 0) return `version ${target.version} is not usable (${version.enabled !== true ? "not enabled" : problems.join(" and ")})`;

  const principalIds = consumerPrincipalIds(consumer);
  if (principalIds.length === 0) return `${consumer.name} has no managed identity that could use ${step.key.name}`;
  const roles = options.clients.hsmRoles(step.key.hsmUri);
  const [definitions, ...perScope] = await Promise.all([
    reads.read(`${hsm}|roleDefinitions|/`, () => roles.listRoleDefinitions("/")),
    ...["/", "/keys", keyScope(step.key.name)].map((scope) => reads.read(`${hsm}|roleAssignments|${scope.toLowerCase()}`, () => roles.listRoleAssignments(scope))),
  ]);
  const byId = new Map<string, RoleAssignmentSnapshot>();
  for (const a of perScope.flat()) byId.set(a.id.toLowerCase(), a);
  const fresh = freshRbac(step, [...byId.values()], definitions);
  const verdicts = principalIds.map((id) => wrapAccess(fresh, id, keyScope(step.key.name)));
  const lacking = verdicts.filter((v) => v.verdict !== "ok");
  if (lacking.length === 0) return undefined;
  return `${consumer.name}'s identity cannot use ${step.key.name}: ${lacking.map((v) => `${v.principalId} ${v.verdict === "unknown" ? "holds a role whose definition could not be read" : `lacks ${v.missing.map((a) => a.split("/").at(-2)).join("/")}`}`).join("; ")}`;
}

function freshRbac(step: PlanStep, roleAssignments: RoleAssignmentSnapshot[], roleDefinitions: ManagedHsmSnapshot["roleDefinitions"]): ManagedHsmSnapshot {
  return {
    resourceId: step.key.hsmResourceId,
    name: step.key.hsmResourceId.split("/").pop() ?? "",
    subscriptionId: "",
    resourceGroup: "",
    hsmUri: step.key.hsmUri,
    properties: null,
    regions: null,
    privateEndpointConnections: null,
    diagnosticSettings: null,
    keys: null,
    roleDefinitions,
    roleAssignments,
  };
}

function recordedError(thrown: unknown): RecordedError {
  if (thrown instanceof AzureRequestError) return { ...(thrown.code ? { code: thrown.code } : {}), ...(thrown.statusCode ? { statusCode: thrown.statusCode } : {}), message: thrown.message };
  return { message: ensureError(thrown).message.split("\n")[0] ?? "" };
}

function outcomeOf(step: PlanStep, status: OutcomeStatus, message: string, elapsedMs: number, extra: Partial<StepOutcome> = {}): StepOutcome {
  return { stepId: step.id, kind: step.kind, action: step.action, keyName: step.key.name, resource: { id: step.resource.id, name: step.resource.name }, status, message, requestIds: [], elapsedMs, ...extra };
}
