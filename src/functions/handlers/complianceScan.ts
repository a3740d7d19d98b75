import { type InvocationContext, type Timer } from "@azure/functions";
import { describePolicyOrigin } from "../../lib/config/load.js";
import { ensureError } from "../../lib/errors.js";
import { keyVaultEvents } from "../../lib/events/keyVaultEvents.js";
import { logPublished, publishEvents } from "../../lib/events/publishRoundEvents.js";
import { undeliveredAlerts } from "../../lib/alerts/deliverAlerts.js";
import { recordedScanSummary, scanAndRecord } from "../../lib/scan/scanAndRecord.js";
import { recordingDepsOf, scanDepsOf } from "../../lib/scan/runtimeScan.js";
import { getRuntime } from "../../lib/runtime.js";
import { lockOwner } from "../../lib/state/lockOwner.js";

/**
 * Scans the estate on KEYWARDEN_SCAN_SCHEDULE (default hourly), stores the scan in the evidence history, and
 * alerts on what changed since the scan before — a finding (FAIL, or UNKNOWN: data that could not be read is not
 * a pass) opened, resolved or changed — once per change, to the function log and, when configured, to Azure
 * Monitor through Logs Ingestion. With a topic configured it also publishes the managed keys' Key Vault events
 * from the same snapshot, so near expiry is announced within the hour rather than at the next rotation run.
 */
export async function complianceScanHandler(timer: Timer, context: InvocationContext): Promise<void> {
  if (timer.isPastDue) context.warn("Compliance scan is running late (the timer is past due).");
  const runtime = await getRuntime();
  const owner = lockOwner(context.invocationId);
  context.log(`Policy document: ${describePolicyOrigin(runtime.config.policyOrigin)}.`);
  const round = await scanAndRecord({ ...scanDepsOf(runtime), ...recordingDepsOf(runtime, owner, (line) => context.warn(line)) });
  context.log(recordedScanSummary(round));
  const undelivered = undeliveredAlerts(round.delivery);
  if (undelivered) context.error(undelivered);
  const { snapshot } = round;
  if (runtime.publisher) {
    try {
      const events = keyVaultEvents(snapshot, runtime.config.policy, runtime.clock.now());
      logPublished(await publishEvents(events, { store: runtime.store, clock: runtime.clock, publisher: runtime.publisher, owner }), context);
    } catch (error) {
      context.warn(`Key events were not published this run (the outbox keeps what was queued): ${ensureError(error).message}`);
    }
  }
}
