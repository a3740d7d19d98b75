import type { KeyEventResult } from "./handleKeyEvent.js";

/** One structured log line per handled event (Application Insights indexes the JSON). */
export function eventLogLine(result: KeyEventResult): string {
  return JSON.stringify({
    event: "KeyWarden.EventHandled",
    eventId: result.eventId,
    eventType: result.eventType,
    outcome: result.outcome,
    ...(result.key ? { key: result.key } : {}),
    ...(result.run ? { runId: result.run.runId } : {}),
    ...(result.published ? { published: result.published.flushed.sent.length, publishFailed: result.published.flushed.failed.length } : {}),
    message: result.message,
  });
}
