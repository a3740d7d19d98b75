import { app } from "@azure/functions";
import { lazyHandler } from "../lib/lazyHandler.js";

/** POST|OPTIONS /api/events (function key), the webhook form of keyEvents: see handlers/keyEventsWebhook.ts. */
export const keyEventsWebhookHandler = lazyHandler(async () => (await import("./handlers/keyEventsWebhook.js")).keyEventsWebhookHandler);

app.http("keyEventsWebhook", {
  methods: ["POST", "OPTIONS"],
  authLevel: "function",
  route: "events",
  handler: keyEventsWebhookHandler,
});
