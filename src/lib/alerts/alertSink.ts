import type { ControlOutcome } from "../compliance/evaluate.js";
import type { ControlResult, Severity } from "../compliance/types.js";

/** One thing a person should look at: a failed control result, or one whose data could not be read. */
export interface Alert {
  controlId: string;
  title: string;
  severity: Severity;
  status: "FAIL" | "UNKNOWN";
  resourceId: string;
  resourceName: string;
  message: string;
  remediation: string;
  observedAt: string;
}

/** Where scan findings go. The logging sink now; Azure Monitor has its own sink. */
export interface AlertSink {
  send(alerts: readonly Alert[]): Promise<void>;
}

export interface AlertLogger {
  warn(...args: unknown[]): void;
  log(...args: unknown[]): void;
}

/** Writes one structured line per alert to the Functions log (Application Insights traces). */
export function createLoggingAlertSink(logger: AlertLogger): AlertSink {
  return {
    async send(alerts) {
      if (alerts.length === 0) {
        logger.log("KeyWarden compliance scan: no findings");
        return;
      }
      for (const alert of alerts) logger.warn(`KeyWarden finding ${JSON.stringify(alert)}`);
    },
  };
}

/** FAIL and UNKNOWN results of a report, as alerts (PASS results raise nothing). */
export function alertsFrom(outcomes: readonly ControlOutcome[]): Alert[] {
  return outcomes.flatMap((outcome) =>
    outcome.results
      .filter((r): r is ControlResult & { status: "FAIL" | "UNKNOWN" } => r.status !== "PASS")
      .map((r) => ({
        controlId: r.controlId,
        title: outcome.metadata.title,
        severity: r.severity,
        status: r.status,
        resourceId: r.resourceId,
        resourceName: r.resourceName,
        message: r.message,
        remediation: outcome.metadata.remediation.summary,
        observedAt: r.evidence.observedAt,
      })),
  );
}
