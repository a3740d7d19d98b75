import type { ComplianceReport } from "../compliance/evaluate.js";
import { renderCsv } from "./csv.js";
import { UnknownReportFormatError } from "./errors.js";
import { renderHtml } from "./html.js";
import { renderJson } from "./json.js";
import { renderMarkdown } from "./markdown.js";
import type { ReportExtras } from "./reportHistory.js";
import { renderSarif } from "./sarif.js";

export const REPORT_FORMATS = ["json", "md", "html", "sarif", "csv"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface RenderedReport {
  contentType: string;
  body: string;
  fileExtension: string;
}

interface Renderer {
  contentType: string;
  fileExtension: string;
  render: (report: ComplianceReport, extras: ReportExtras) => string;
}

const RENDERERS: Readonly<Record<ReportFormat, Renderer>> = {
  json: { contentType: "application/json; charset=utf-8", fileExtension: "json", render: renderJson },
  md: { contentType: "text/markdown; charset=utf-8", fileExtension: "md", render: renderMarkdown },
  html: { contentType: "text/html; charset=utf-8", fileExtension: "html", render: renderHtml },
  sarif: { contentType: "application/sarif+json; charset=utf-8", fileExtension: "sarif", render: renderSarif },
  csv: { contentType: "text/csv; charset=utf-8; header=present", fileExtension: "csv", render: renderCsv },
};

export function isReportFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}

/**
 * Renders the report; throws UnknownReportFormatError for a format that is not in REPORT_FORMATS. `extras` (the
 * history, the snapshot and policy the report was made from) add first-seen times to every format and, in HTML,
 * the consumer map and the timelines.
 */
export function renderReport(report: ComplianceReport, format: ReportFormat, extras: ReportExtras = {}): RenderedReport {
  if (!isReportFormat(format)) throw new UnknownReportFormatError(String(format), REPORT_FORMATS);
  const { contentType, fileExtension, render } = RENDERERS[format];
  return { contentType, fileExtension, body: render(report, extras) };
}
