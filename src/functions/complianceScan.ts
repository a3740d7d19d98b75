import { app, type InvocationContext, type Timer } from "@azure/functions";
import { alertsFrom, createLoggingAlertSink, type AlertSink } from "../lib/alerts/alertSink.js";
import { runScan } from "../lib/scan/runScan.js";
import { scanDepsOf } from "../lib/scan/runtimeScan.js";
import { loadSchedules } from "../lib/config/settings.js";
import { getRuntime } from "../lib/runtime.js";

/**
 * Scans the estate on KEYWARDEN_SCAN_SCHEDULE (default hourly) and hands every finding (FAIL, and
 * UNKNOWN — data that could not be read is not a pass) to the alert sink.
 */
export async function complianceScanHandler(timer: Timer, context: InvocationContext, sink: AlertSink = createLoggingAlertSink(context)): Promise<void> {
  if (timer.isPastDue) context.warn("Compliance scan is running late (the timer is past due).");
  const { report } = await runScan(scanDepsOf(await getRuntime()));
  const alerts = alertsFrom(report.controls);
  const s = report.summary.results;
  context.log(
    `Compliance scan of snapshot ${report.snapshot.sha256.slice(0, 12)}: ${s.FAIL} failed, ${s.UNKNOWN} unknown, ${s.PASS} passed; ${report.collectionErrors.length} collection error(s).`,
  );
  await sink.send(alerts);
}

app.timer("complianceScan", {
  schedule: loadSchedules().scan,
  handler: (timer, context) => complianceScanHandler(timer, context),
});
