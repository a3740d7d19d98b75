/**
 * What an HTTP request to the events webhook is, in Event Grid's webhook protocol:
 * - `aeg-event-type: SubscriptionValidation` with a Microsoft.EventGrid.SubscriptionValidationEvent → answer
 *   `{ validationResponse: <validationCode> }` (Event Grid schema subscriptions);
 * - OPTIONS with `WebHook-Request-Origin` → answer `WebHook-Allowed-Origin` (the CloudEvents 1.0 webhook
 *   abuse-protection handshake that CloudEvents-schema subscriptions use);
 * - a Notification: a JSON array of events (Event Grid schema, or a CloudEvents batch) or one CloudEvent.
 * Pure: parsing only.
 */
export type WebhookRequest =
  | { kind: "handshake"; what: string; headers: Record<string, string>; body?: Record<string, unknown> }
  | { kind: "events"; events: unknown[] }
  | { kind: "ignore" }
  | { kind: "invalid"; message: string };

const VALIDATION_EVENT = "microsoft.eventgrid.subscriptionvalidationevent";
const MAX_EVENTS = 5_000;

export function webhookRequest(request: { method: string; header: (name: string) => string | undefined; body: string }): WebhookRequest {
  const method = request.method.toUpperCase();
  if (method === "OPTIONS") {
    const origin = request.header("webhook-request-origin");
    if (!origin) return { kind: "invalid", message: "An OPTIONS request must carry WebHook-Request-Origin (the CloudEvents webhook validation handshake)." };
    return { kind: "handshake", what: "CloudEvents webhook validation", headers: { "webhook-allowed-origin": origin, "webhook-allowed-rate": "*" } };
  }
  if (method !== "POST") return { kind: "invalid", message: `Method ${method} is not accepted; Event Grid delivers with POST.` };

  let body: unknown;
  try {
    body = JSON.parse(request.body);
  } catch {
    return { kind: "invalid", message: "The body is not JSON; Event Grid delivers a JSON array of events." };
  }
  const eventType = (request.header("aeg-event-type") ?? "").toLowerCase();
  if (eventType === "subscriptiondeletion") return { kind: "ignore" };
  const events = Array.isArray(body) ? body : typeof body === "object" && body !== null ? [body] : undefined;
  if (!events) return { kind: "invalid", message: "The body is neither an array of events nor one event." };
  if (events.length === 0) return { kind: "invalid", message: "The body holds no events." };
  if (events.length > MAX_EVENTS) return { kind: "invalid", message: `The body holds ${events.length} events; Event Grid delivers at most ${MAX_EVENTS} at once.` };

  const first = events[0] as Record<string, unknown>;
  const firstType = String(first?.eventType ?? first?.type ?? "").toLowerCase();
  if (eventType === "subscriptionvalidation" || firstType === VALIDATION_EVENT) {
    const data = first?.data as Record<string, unknown> | undefined;
    const code = data?.validationCode;
    if (typeof code !== "string" || code === "") return { kind: "invalid", message: "The subscription validation event carries no data.validationCode." };
    return { kind: "handshake", what: "subscription validation", headers: {}, body: { validationResponse: code } };
  }
  return { kind: "events", events };
}
