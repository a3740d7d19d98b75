import { app } from "@azure/functions";
import { lazyHandler } from "../lib/lazyHandler.js";

/** GET /api/compliance/report (function key): see handlers/complianceReport.ts. */
export const complianceReportHandler = lazyHandler(async () => (await import("./handlers/complianceReport.js")).complianceReportHandler);

app.http("complianceReport", {
  methods: ["GET"],
  authLevel: "function",
  route: "compliance/report",
  handler: complianceReportHandler,
});
