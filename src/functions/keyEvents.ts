import { app } from "@azure/functions";
import { lazyHandler } from "../lib/lazyHandler.js";

/** The Event Grid trigger (either schema): see handlers/keyEvents.ts. */
export const keyEventsHandler = lazyHandler(async () => (await import("./handlers/keyEvents.js")).keyEventsHandler);

app.eventGrid("keyEvents", { handler: keyEventsHandler });
