import { app } from "@azure/functions";
import { loadSchedules } from "../lib/config/settings.js";
import { lazyHandler } from "../lib/lazyHandler.js";

/** The scan timer, on KEYWARDEN_SCAN_SCHEDULE: see handlers/complianceScan.ts. */
export const complianceScanHandler = lazyHandler(async () => (await import("./handlers/complianceScan.js")).complianceScanHandler);

app.timer("complianceScan", {
  schedule: loadSchedules().scan,
  handler: complianceScanHandler,
});
