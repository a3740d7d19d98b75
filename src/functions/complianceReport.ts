import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { runComplianceScan } from "../lib/compliance/scan.js";
import { SEVERITIES, type Severity } from "../lib/compliance/types.js";
import { ConfigError } from "../lib/config/errors.js";
import { ensureError } from "../lib/errors.js";
import { forDisplay } from "../lib/report/forDisplay.js";
import { REPORT_FORMATS, renderReport, type ReportFormat } from "../lib/report/formats.js";
import { getRuntime } from "../lib/runtime.js";

/** `code` is the Functions key when it comes in the query string. */
const KNOWN_PARAMETERS = ["format", "minSeverity", "code"] as const;

/** GET /api/compliance/report?format=json|md|html|sarif|csv&minSeverity=critical|high|medium|low|info */
export async function complianceReportHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const parsed = parseQuery(request.query);
  if ("error" in parsed) return { status: 400, jsonBody: { error: { code: "BadRequest", message: parsed.error } } };

  try {
    const { report } = await runComplianceScan(await getRuntime());
    const rendered = renderReport(forDisplay(report, parsed.minSeverity), parsed.format);
    return {
      status: 200,
      body: rendered.body,
      headers: {
        "content-type": rendered.contentType,
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        ...(parsed.format === "html" ? { "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'" } : {}),
      },
    };
  } catch (thrown) {
    const error = ensureError(thrown);
    if (error instanceof ConfigError) {
      context.error(`KeyWarden is misconfigured: ${error.message}`);
      return { status: 500, jsonBody: { error: { code: "Misconfigured", message: error.message } } };
    }
    context.error(`Compliance report failed: ${error.message}`);
    return { status: 500, jsonBody: { error: { code: "InternalError", message: "The compliance report could not be produced; see the function log." } } };
  }
}

function parseQuery(query: URLSearchParams): { format: ReportFormat; minSeverity: Severity } | { error: string } {
  const unknown = [...new Set(query.keys())].filter((k) => !(KNOWN_PARAMETERS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    return { error: `Unknown query parameter${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}; valid parameters: format, minSeverity.` };
  }
  const format = query.get("format") ?? "json";
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
    return { error: `Invalid format "${format}"; valid formats: ${REPORT_FORMATS.join(", ")}.` };
  }
  const minSeverity = query.get("minSeverity") ?? "info";
  if (!(SEVERITIES as readonly string[]).includes(minSeverity)) {
    return { error: `Invalid minSeverity "${minSeverity}"; valid values: ${SEVERITIES.join(", ")}.` };
  }
  return { format: format as ReportFormat, minSeverity: minSeverity as Severity };
}

app.http("complianceReport", {
  methods: ["GET"],
  authLevel: "function",
  route: "compliance/report",
  handler: complianceReportHandler,
});
