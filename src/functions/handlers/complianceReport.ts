import { type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { SEVERITIES, type Severity } from "../../lib/compliance/types.js";
import { ConfigError } from "../../lib/config/errors.js";
import { ensureError } from "../../lib/errors.js";
import { parseAt } from "../../lib/history/parseAt.js";
import { loadReportHistory } from "../../lib/history/reportHistory.js";
import { readScanSnapshot } from "../../lib/history/scanHistory.js";
import { errorResponse, RESPONSE_HEADERS } from "../../lib/http/responses.js";
import { forDisplay } from "../../lib/report/forDisplay.js";
import { REPORT_FORMATS, renderReport, type ReportFormat } from "../../lib/report/formats.js";
import { CONTENT_SECURITY_POLICY } from "../../lib/report/html.js";
import { getRuntime } from "../../lib/runtime.js";
import { httpScanDeps, recordingDepsOf } from "../../lib/scan/runtimeScan.js";
import { undeliveredAlerts } from "../../lib/alerts/deliverAlerts.js";
import { scanAndRecord } from "../../lib/scan/scanAndRecord.js";
import { NoScanAtError, servedReport, type ReportSource } from "../../lib/scan/servedReport.js";
import { lockOwner } from "../../lib/state/lockOwner.js";

/** `code` is the Functions key when it comes in the query string. */
const KNOWN_PARAMETERS = ["format", "minSeverity", "at", "refresh", "code"] as const;

/**
 * GET /api/compliance/report?format=json|md|html|sarif|csv&minSeverity=…&at=<time>|refresh=true
 *
 * Serves the latest stored scan (the hourly timer's) by default: a read, far inside the HTTP trigger's 230 s
 * whatever the estate's size. `at` serves the scan in force at that time; `refresh=true` scans now (recorded in
 * the history and alerted on, like the timer's scans).
 */
export async function complianceReportHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const parsed = parseQuery(request.query);
  if ("error" in parsed) return errorResponse(400, "BadRequest", parsed.error);

  try {
    const runtime = await getRuntime();
    const served = await servedReport(parsed.source, {
      store: runtime.store,
      scanAndRecord: () => scanAndRecord({ ...httpScanDeps(runtime), ...recordingDepsOf(runtime, lockOwner(context.invocationId), (line) => context.warn(line)) }),
    });
    const undelivered = served.round ? undeliveredAlerts(served.round.delivery) : undefined;
    if (undelivered) context.error(undelivered);
    // Every format shows when each finding was first seen; the HTML also draws the map, the timelines and the
    // version axis, which need the scan's snapshot (read only then: at 10,000 consumers it is ~17 MB).
    const history = await loadReportHistory(runtime.store, served.scan.scanId);
    const snapshot = parsed.format !== "html" ? undefined : (served.round?.snapshot ?? (await readScanSnapshot(runtime.store, served.scan.scanId)));
    const rendered = renderReport(forDisplay(served.report, parsed.minSeverity), parsed.format, { history, policy: runtime.config.policy, ...(snapshot ? { snapshot } : {}) });
    return {
      status: 200,
      body: rendered.body,
      headers: {
        ...RESPONSE_HEADERS,
        "content-type": rendered.contentType,
        "x-keywarden-scan-id": served.scan.scanId,
        "x-keywarden-scanned-at": served.scan.scannedAt,
        "x-keywarden-report-source": served.fresh ? "fresh" : "stored",
        // The page carries the same policy in a meta tag; the header makes it hold wherever the page is served.
        ...(parsed.format === "html" ? { "content-security-policy": CONTENT_SECURITY_POLICY } : {}),
      },
    };
  } catch (thrown) {
    const error = ensureError(thrown);
    if (error instanceof NoScanAtError) return errorResponse(404, "NotFound", error.message);
    // The caller gets an id, never the reason: a ConfigError quotes settings (KEYWARDEN_POLICY_JSON is secret) and paths.
    const id = context.invocationId;
    if (error instanceof ConfigError) {
      context.error(`KeyWarden is misconfigured (correlation id ${id}): ${error.message}`);
      return errorResponse(500, "Misconfigured", `KeyWarden is misconfigured; the function log has the details under correlation id ${id}.`, id);
    }
    context.error(`Compliance report failed (correlation id ${id}): ${error.message}`);
    return errorResponse(500, "InternalError", `The compliance report could not be produced; the function log has the details under correlation id ${id}.`, id);
  }
}

function parseQuery(query: URLSearchParams): { format: ReportFormat; minSeverity: Severity; source: ReportSource } | { error: string } {
  // query.get() would take the first of two values silently; a caller who sent two meant something else.
  const repeated = [...new Set(query.keys())].find((k) => query.getAll(k).length > 1);
  if (repeated !== undefined) return { error: `Query parameter "${repeated}" is repeated; give it once.` };
  const unknown = [...new Set(query.keys())].filter((k) => !(KNOWN_PARAMETERS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    return { error: `Unknown query parameter${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}; valid parameters: format, minSeverity, at, refresh.` };
  }
  const format = query.get("format") ?? "json";
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
    return { error: `Invalid format "${format}"; valid formats: ${REPORT_FORMATS.join(", ")}.` };
  }
  const minSeverity = query.get("minSeverity") ?? "info";
  if (!(SEVERITIES as readonly string[]).includes(minSeverity)) {
    return { error: `Invalid minSeverity "${minSeverity}"; valid values: ${SEVERITIES.join(", ")}.` };
  }
  const refresh = query.get("refresh") ?? "false";
  if (refresh !== "true" && refresh !== "false") return { error: `Invalid refresh "${refresh}"; valid values: true, false.` };
  const atValue = query.get("at");
  if (atValue !== null && refresh === "true") return { error: 'Give "at" or "refresh=true", not both: a past scan cannot be refreshed.' };
  let source: ReportSource = refresh === "true" ? { kind: "refresh" } : { kind: "latest" };
  if (atValue !== null) {
    const at = parseAt(atValue);
    if ("error" in at) return { error: `Invalid at: ${at.error}.` };
    source = { kind: "at", at };
  }
  return { format: format as ReportFormat, minSeverity: minSeverity as Severity, source };
}
