import { type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { ensureError } from "../../lib/errors.js";
import { eventLogLine } from "../../lib/events/eventLogLine.js";
import { handleKeyEvent, TransientEventError, type KeyEventResult } from "../../lib/events/handleKeyEvent.js";
import { eventDepsOf } from "../../lib/events/runtimeEventDeps.js";
import { webhookRequest } from "../../lib/events/webhookRequest.js";
import { errorResponse, RESPONSE_HEADERS } from "../../lib/http/responses.js";
import { getRuntime } from "../../lib/runtime.js";

/**
 * POST|OPTIONS /api/events: the same handler as a plain Event Grid webhook (for a subscription that is not the
 * Functions-native one), with Event Grid's subscription validation handshake (Event Grid schema) and the
 * CloudEvents abuse-protection handshake (OPTIONS). Answers 500 on a transient failure so that Event Grid
 * retries the delivery; 400 (never retried) only for a body that is not an Event Grid delivery at all.
 */
export async function keyEventsWebhookHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const parsed = webhookRequest({ method: request.method, header: (n) => request.headers.get(n) ?? undefined, body: await request.text() });
  if (parsed.kind === "invalid") return errorResponse(400, "BadRequest", parsed.message);
  if (parsed.kind === "handshake") {
    context.log(`Event Grid ${parsed.what} handshake answered.`);
    return { status: 200, headers: { ...RESPONSE_HEADERS, ...parsed.headers }, ...(parsed.body ? { jsonBody: parsed.body } : {}) };
  }
  if (parsed.kind === "ignore") return { status: 200, headers: RESPONSE_HEADERS };

  const results: KeyEventResult[] = [];
  try {
    const deps = eventDepsOf(await getRuntime(), context.invocationId, (line) => context.warn(line));
    // One at a time: events for one key serialise on its lock anyway, and a batch is small.
    for (const event of parsed.events) {
      const result = await handleKeyEvent(event, deps);
      results.push(result);
      context.log(eventLogLine(result));
    }
  } catch (thrown) {
    const error = ensureError(thrown);
    const id = context.invocationId;
    context.error(`Event delivery failed after ${results.length} of ${parsed.events.length} event(s) (correlation id ${id}): ${error.message}`);
    const transient = error instanceof TransientEventError;
    return errorResponse(500, transient ? "RetryLater" : "InternalError", `The events could not all be handled; Event Grid will redeliver. The function log has the details under correlation id ${id}.`, id);
  }
  return { status: 200, headers: RESPONSE_HEADERS, jsonBody: { results: results.map((r) => ({ eventId: r.eventId, outcome: r.outcome })) } };
}
