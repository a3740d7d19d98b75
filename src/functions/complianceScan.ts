import { hostname } from "node:os";
import { app, type InvocationContext, type Timer } from "@azure/functions";
import { alertsFrom, createLoggingAlertSink, type AlertSink } from "../lib/alerts/alertSink.js";
import { runScan } from "../lib/scan/runScan.js";
import { scanDepsOf } from "../lib/scan/runtimeScan.js";
import { loadSchedules } from "../lib/config/settings.js";
import { ensureError } from "../lib/errors.js";
import { keyVaultEvents } from "../lib/events/keyVaultEvents.js";
import { logPublished, publishEvents } from "../lib/events/publishRoundEvents.js";
import { getRuntime } from "../lib/runtime.js";

/**
 * Scans the estate on KEYWARDEN_SCAN_SCHEDULE (default hourly) and hands every finding (FAIL, and
 * UNKNOWN — data that could not be read is not a pass) to the alert sink. With a topic configured it also
 * publishes the managed keys' Key Vault events from the same snapshot, so near expiry is announced within
 * the hour rather than at the next (daily) rotation run.
 */
export async function complianceScanHandler(timer: Timer, context: InvocationContext, sink: AlertSink = createLoggingAlertSink(context)): Promise<void> {
  if (timer.isPastDue) context.warn("Compliance scan is running late (the timer is past due).");
  const runtime = await getRuntime();
  const { snapshot, report } = await runScan(scanDepsOf(runtime));
  const alerts = alertsFrom(report.controls);
  const s = report.summary.results;
  context.log(
    `Compliance scan of snapshot ${report.snapshot.sha256.slice(0, 12)}: ${s.FAIL} failed, ${s.UNKNOWN} unknown, ${s.PASS} passed; ${report.collectionErrors.length} collection error(s).`,
  );
  await sink.send(alerts);
  if (runtime.publisher) {
    try {
      const events = keyVaultEvents(snapshot, runtime.config.policy, runtime.clock.now());
      logPublished(await publishEvents(events, { store: runtime.store, clock: runtime.clock, publisher: runtime.publisher, owner: `${hostname()}:${process.pid}:${context.invocationId}` }), context);
    } catch (error) {
      context.warn(`Key events were not published this run (the outbox keeps what was queued): ${ensureError(error).message}`);
    }
  }
}

app.timer("complianceScan", {
  schedule: loadSchedules().scan,
  handler: (timer, context) => complianceScanHandler(timer, context),
});
