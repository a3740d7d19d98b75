import { type EventGridEvent, type InvocationContext } from "@azure/functions";
import { eventLogLine } from "../../lib/events/eventLogLine.js";
import { handleKeyEvent } from "../../lib/events/handleKeyEvent.js";
import { eventDepsOf } from "../../lib/events/runtimeEventDeps.js";
import { getRuntime } from "../../lib/runtime.js";

/**
 * Event Grid trigger (either schema): Key Vault's KeyNearExpiry / KeyExpired → rotate that key;
 * KeyNewVersionCreated → move its consumers. Acknowledges (returns) what it will never act on; throws a
 * transient failure so that Event Grid redelivers.
 */
export async function keyEventsHandler(event: EventGridEvent | Record<string, unknown>, context: InvocationContext): Promise<void> {
  const result = await handleKeyEvent(event, eventDepsOf(await getRuntime(), context.invocationId, (line) => context.warn(line)));
  const line = eventLogLine(result);
  if (result.outcome === "malformed" || result.outcome === "unmanaged") context.warn(line);
  else context.log(line);
}
