import { app } from "@azure/functions";
import { loadSchedules } from "../lib/config/settings.js";
import { lazyHandler } from "../lib/lazyHandler.js";

/** The rotation timer, on KEYWARDEN_ROTATION_SCHEDULE: see handlers/keyRotation.ts. */
export const keyRotationHandler = lazyHandler(async () => (await import("./handlers/keyRotation.js")).keyRotationHandler);

app.timer("keyRotation", {
  schedule: loadSchedules().rotation,
  handler: keyRotationHandler,
});
