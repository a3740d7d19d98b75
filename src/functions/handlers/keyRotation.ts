import { type InvocationContext, type Timer } from "@azure/functions";
import { describePolicyOrigin } from "../../lib/config/load.js";
import { logPublished } from "../../lib/events/publishRoundEvents.js";
import { tellRound } from "../../lib/events/tellRound.js";
import { collectEstate } from "../../lib/inventory/collect.js";
import { runRotation } from "../../lib/rotation/runRotation.js";
import { needsAttention } from "../../lib/rotation/verify.js";
import { getRuntime, type Runtime } from "../../lib/runtime.js";
import { undeliveredAlerts } from "../../lib/alerts/deliverAlerts.js";
import { lockOwner } from "../../lib/state/lockOwner.js";
import { alertRunNotStarted } from "../../lib/alerts/runNotStarted.js";
import { RunNotStartedError } from "../../lib/rotation/executor.js";

/**
 * On KEYWARDEN_ROTATION_SCHEDULE (default daily, 02:30 UTC): plan; in KEYWARDEN_ROTATION_MODE=execute, rotate
 * what is due, move every consumer and verify each. In `plan` mode (the default) it only proposes.
 */
export async function keyRotationHandler(timer: Timer, context: InvocationContext): Promise<void> {
  if (timer.isPastDue) context.warn("Key rotation is running late (the timer is past due).");
  const runtime = await getRuntime();
  const { config, clients, store, clock } = runtime;
  const mode = config.settings.rotationMode;
  context.log(`Policy document: ${describePolicyOrigin(runtime.config.policyOrigin)}.`);
  const round = await runRotation({
    config,
    clients,
    store,
    clock,
    mode,
    collect: () => collectEstate(config, clients, clock, { deadlineMs: config.settings.requests.deadlineMs }),
    onOutcome: (o) => context.log(JSON.stringify({ event: "KeyWarden.RotationStep", step: o.stepId, status: o.status, resourceId: o.resource.id, message: o.message, elapsedMs: o.elapsedMs })),
  }).catch(async (error: unknown) => {
    if (error instanceof RunNotStartedError) await raiseRunNotStarted(error, runtime, context);
    throw error;
  });
  await tellRoundFacts(round, runtime, mode, context);
  const { plan } = round;
  const due = plan.keys.filter((k) => k.status === "due" || k.status === "propagate").map((k) => `${k.keyName} (${k.status})`);
  context.log(`Rotation plan ${plan.id.slice(0, 12)}: ${plan.steps.length} step(s)${due.length > 0 ? ` for ${due.join(", ")}` : ""}; mode ${mode}.`);
  if (!round.run) {
    if (mode === "plan" && plan.steps.some((s) => s.action !== "blocked")) context.log("KEYWARDEN_ROTATION_MODE is plan: nothing was changed. Set it to execute to carry the plan out.");
    for (const step of plan.steps.filter((s) => s.action === "blocked")) context.warn(`Blocked: ${step.resource.name}: ${step.reason}`);
    return;
  }
  const failed = round.run.outcomes.filter((o) => o.status === "failed");
  for (const consumer of needsAttention(round.verification ?? { checkedAt: "", consumers: [], gaps: [] })) {
    context.warn(`${consumer.resource.name} is ${consumer.verdict}${consumer.pastDeadline ? " past its deadline" : ""}: ${consumer.reason}`);
  }
  // A failed step fails the invocation, so that it shows in the function's failures; the next run finishes it.
  if (failed.length > 0) throw new Error(`Rotation run ${round.run.runId}: ${failed.length} step(s) failed: ${failed.map((o) => `${o.resource.name}: ${o.message}`).join("; ")}`);
}

/** Tells the round's facts (events and rotation alerts); what was not sent stays queued, so this only reports. */
async function tellRoundFacts(round: Awaited<ReturnType<typeof runRotation>>, runtime: Runtime, mode: "plan" | "execute", context: InvocationContext): Promise<void> {
  const { config, store, clock, publisher, logsSink } = runtime;
  const told = await tellRound(round, { policy: config.policy, mode, store, clock, ...(publisher ? { publisher } : {}), ...(logsSink ? { sink: logsSink } : {}), log: (line) => context.warn(line), owner: lockOwner(context.invocationId) });
  const undelivered = told.alerts ? undeliveredAlerts(told.alerts) : undefined;
  if (undelivered) context.error(undelivered);
  if (told.alertsError) context.error(`Rotation alerts were not delivered this run (the outbox keeps what was queued): ${told.alertsError}`);
  if (told.published) logPublished(told.published, context);
  if (told.publishError) context.warn(`Events were not published this run (the outbox keeps what was queued): ${told.publishError}`);
}

/**
 * The state store stopped the run before it changed anything (its journal or a key's lock): the alert still goes
 * out, straight to Logs Ingestion when the outbox (in the same store) cannot take it. The invocation fails after.
 */
async function raiseRunNotStarted(error: RunNotStartedError, runtime: Runtime, context: InvocationContext): Promise<void> {
  const { store, clock, logsSink } = runtime;
  const alert = await alertRunNotStarted(error, { store, clock, ...(logsSink ? { sink: logsSink } : {}), log: (line) => context.warn(line), owner: lockOwner(context.invocationId) });
  const how = alert.via === "outbox" ? "through the alerts outbox" : alert.via === "direct" ? "straight to Azure Monitor (the alerts outbox could not be written)" : "to this log only";
  context.error(`${error.message}. Its alert (${alert.rows} row(s)) went ${how}${alert.uploadError ? `; the upload failed: ${alert.uploadError}` : ""}.`);
}
