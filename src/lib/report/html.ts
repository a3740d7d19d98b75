import type { ComplianceReport, ControlOutcome, StatusCounts } from "../compliance/evaluate.js";
import { AREAS, SEVERITIES, type ControlMetadata, type ControlResult, type Severity, type Status } from "../compliance/types.js";
import type { CollectionError } from "../estate/snapshot.js";
import { html, raw, type Html } from "./markup.js";
import { fillRemediation, remediationIndex, type RemediationIndex } from "./remediation.js";
import { firstSeenOf, type ReportExtras } from "./reportHistory.js";
import { consumerMap, consumerMapSvg } from "./svg/consumerMap.js";
import { findingsTimelineSvg } from "./svg/findingsTimeline.js";
import { keyLanes, versionAxisSvg } from "./svg/versionAxis.js";
import { compareOutcomes, countResults, findingsBySeverity, mappingReferences, prettyEvidence, type SeverityGroup } from "./view.js";

/**
 * One self-contained HTML page for a person: no scripts, no external resources, no links, and a
 * Content-Security-Policy that forbids all of them anyway. Markup is built only with the `html`
 * template tag below, which passes every interpolated value through escapeHtml; values appear only
 * as text, never inside an attribute (class names are constants chosen from enums).
 */
export function renderHtml(report: ComplianceReport, extras: ReportExtras = {}): string {
  const fill = remediationIndex(extras);
  const groups = findingsBySeverity(report.controls);
  const ordered = [...report.controls].sort(compareOutcomes);
  const passing = ordered.filter((o) => o.status === "PASS");
  const notApplicable = ordered.filter((o) => o.status === "NOT_APPLICABLE");
  const page = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>KeyWarden compliance report · ${report.snapshot.collectedAt}</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<header class="page">
<h1>KeyWarden compliance report</h1>
<dl class="meta">
<div><dt>Snapshot collected</dt><dd>${report.snapshot.collectedAt}</dd></div>
<div><dt>Snapshot SHA-256</dt><dd class="mono">${report.snapshot.sha256}</dd></div>
<div><dt>Cloud</dt><dd>${report.snapshot.cloud}</dd></div>
<div><dt>Report generated</dt><dd>${report.generatedAt}</dd></div>
<div><dt>Minimum severity</dt><dd>${displayNote(report)}</dd></div>
</dl>
</header>
<main>
${summary(report)}
${pictures(report, extras)}
${collectionErrors(report.collectionErrors)}
<section>
<h2>Findings</h2>
${groups.length === 0 ? html`<p class="empty">No failing or unknown results: every control passed.</p>` : groups.map((g) => severityGroup(g, extras, fill))}
</section>
${passingControls(passing)}
${notApplicableControls(notApplicable)}
</main>
<footer>KeyWarden · report schema version ${String(report.schemaVersion)} · this page runs no scripts and loads nothing.</footer>
</body>
</html>
`;
  return page.value;
}

/** Nothing may load or run; inline styles are the page's only active content. */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const SEVERITY_LABEL: Record<Severity, string> = { critical: "Critical", high: "High", medium: "Medium", low: "Low", info: "Info" };
const SEVERITY_CLASS: Record<Severity, Html> = {
  critical: raw("sev-critical"),
  high: raw("sev-high"),
  medium: raw("sev-medium"),
  low: raw("sev-low"),
  info: raw("sev-info"),
};
const STATUS_CLASS: Record<Status, Html> = { FAIL: raw("st-fail"), UNKNOWN: raw("st-unknown"), PASS: raw("st-pass") };

function summary(report: ComplianceReport): Html {
  const { controls, results } = report.summary;
  const card = (status: Status, state: string): Html =>
    html`<div class="card ${STATUS_CLASS[status]}"><div class="count">${controls[status]}</div><div class="label">controls ${state}</div><div class="sub">${results[status]} ${state} results</div></div>`;
  return html`<section>
<h2>Summary</h2>
<div class="cards">${card("FAIL", "failing")}${card("UNKNOWN", "unknown")}${card("PASS", "passing")}<div class="card st-na"><div class="count">${controls.NOT_APPLICABLE}</div><div class="label">controls not applicable</div><div class="sub">nothing in their scope</div></div></div>
<div class="tables">
${statusTable("Severity", SEVERITIES.map((s) => [SEVERITY_LABEL[s], report.summary.bySeverity[s]]))}
${statusTable("Area", AREAS.map((a) => [a, report.summary.byArea[a]]))}
</div>
</section>`;
}

function statusTable(title: string, rows: [string, StatusCounts][]): Html {
  const cell = (status: Status, n: number): Html => (n > 0 ? html`<td class="num ${STATUS_CLASS[status]}">${n}</td>` : html`<td class="num zero">0</td>`);
  return html`<table class="counts">
<thead><tr><th>${title}</th><th class="num">Fail</th><th class="num">Unknown</th><th class="num">Pass</th></tr></thead>
<tbody>${rows.map(([name, c]) => html`<tr><th>${name}</th>${cell("FAIL", c.FAIL)}${cell("UNKNOWN", c.UNKNOWN)}${cell("PASS", c.PASS)}</tr>`)}</tbody>
</table>`;
}

/** The estate as pictures (inline SVG: no script, nothing loaded): each only when its input was given. */
function pictures(report: ComplianceReport, { snapshot, policy, history }: ReportExtras): Html {
  const parts: Html[] = [];
  if (history && history.scans.length > 0) {
    parts.push(html`<figure class="picture"><figcaption>Findings opened and resolved, scan by scan</figcaption>${findingsTimelineSvg(history)}</figure>`);
  }
  if (snapshot) {
    const map = consumerMap(snapshot);
    parts.push(
      map.keys.length > 0
        ? html`<figure class="picture"><figcaption>Which consumer is on which key version, by region</figcaption>${consumerMapSvg(map)}</figure>`
        : html`<p class="empty">No consumer uses a key of the collected HSMs.</p>`,
    );
    const { lanes, keysLeftOut } = keyLanes(snapshot, policy, new Date(report.generatedAt));
    if (lanes.length > 0) {
      parts.push(html`<figure class="picture"><figcaption>Key versions: created, expires, rotation due</figcaption>${versionAxisSvg(lanes, keysLeftOut, new Date(report.generatedAt))}</figure>`);
    }
  }
  if (parts.length === 0) return html``;
  return html`<section class="pictures">
<h2>Estate</h2>
${parts}
</section>`;
}

function collectionErrors(errors: readonly CollectionError[]): Html {
  if (errors.length === 0) return html``;
  return html`<section>
<h2>Collection errors</h2>
<p>These reads failed; controls that needed the data report UNKNOWN.</p>
${collectionErrorTable(errors)}
</section>`;
}

function collectionErrorTable(errors: readonly CollectionError[]): Html {
  return html`<table class="errors">
<thead><tr><th>Part</th><th>Resource</th><th>Operation</th><th>Status</th><th>Code</th><th>Message</th></tr></thead>
<tbody>${errors.map(
    (e) =>
      html`<tr><td>${e.part}</td><td class="id">${e.resourceId}</td><td class="mono">${e.operation}</td><td class="nowrap">${e.statusCode === undefined ? "" : String(e.statusCode)}</td><td class="nowrap">${e.code ?? ""}</td><td>${e.message}</td></tr>`,
  )}</tbody>
</table>`;
}

function severityGroup(group: SeverityGroup, extras: ReportExtras, fill: RemediationIndex): Html {
  return html`<section class="severity">
<h3><span class="badge ${SEVERITY_CLASS[group.severity]}">${SEVERITY_LABEL[group.severity]}</span> ${group.count} ${group.count === 1 ? "finding" : "findings"}</h3>
${group.controls.map(({ metadata, results }) => controlArticle(metadata, results, group.severity, extras, fill))}
</section>`;
}

function controlArticle(metadata: ControlMetadata, results: readonly ControlResult[], severity: Severity, extras: ReportExtras, fill: RemediationIndex): Html {
  return html`<article class="control ${SEVERITY_CLASS[severity]}">
<h4>${metadata.title}</h4>
<p class="control-meta"><span class="mono">${metadata.id}</span> · area ${metadata.area} · default severity ${metadata.severity}</p>
<p class="risk"><strong>Risk:</strong> ${metadata.risk}</p>
${results.map((r) => resultBlock(r, metadata, extras, fill))}
${remediation(metadata)}
${mappings(metadata)}
</article>`;
}

function resultBlock(result: ControlResult, metadata: ControlMetadata, { history }: ReportExtras, fill: RemediationIndex): Html {
  const { evidence } = result;
  const firstSeen = firstSeenOf(history, result);
  const errors = evidence.collectionErrors ?? [];
  return html`<div class="result ${STATUS_CLASS[result.status]}">
<h5><span class="badge ${STATUS_CLASS[result.status]}">${result.status}</span> <span class="resource-name">${result.resourceName}</span></h5>
<dl class="fields">
<dt>Resource</dt><dd class="id">${result.resourceId || "(none)"}</dd>
<dt>Finding</dt><dd>${result.message}</dd>
<dt>Observed at</dt><dd>${evidence.observedAt}</dd>
${history ? html`<dt>First seen</dt><dd class="first-seen">${firstSeen ?? "not in the history"}</dd>` : html``}
</dl>
<div class="evidence">
<div><div class="evidence-label">Observed</div><pre>${prettyEvidence(evidence.observed)}</pre></div>
<div><div class="evidence-label">Expected</div><pre>${prettyEvidence(evidence.expected)}</pre></div>
</div>
${errors.length > 0 ? html`<div class="evidence-label">Collection errors behind this result</div>${collectionErrorTable(errors)}` : html``}
<div class="evidence-label">Remediation command for ${result.resourceName}</div>
<pre class="cli"><code>${fillRemediation(metadata.remediation.cli, result, fill)}</code></pre>
</div>`;
}

/** The control's advice; each result above carries its own filled-in command. */
function remediation(metadata: ControlMetadata): Html {
  const { summary: what, bicep } = metadata.remediation;
  return html`<div class="remediation">
<div class="evidence-label">Remediation</div>
<p>${what}</p>
${bicep ? html`<div class="evidence-label">Bicep</div><pre class="cli">${bicep}</pre>` : html``}
</div>`;
}

function mappings(metadata: ControlMetadata): Html {
  const references = mappingReferences(metadata);
  if (references.length === 0) return html``;
  return html`<div class="mappings">
<div class="evidence-label">Mappings</div>
<ul>${references.map((m) => html`<li><span class="framework">${m.framework}</span> <span class="mono">${m.id}</span>${m.title ? html` · ${m.title}` : html``}</li>`)}</ul>
</div>`;
}

function passingControls(passing: readonly ControlOutcome[]): Html {
  return html`<section>
<h2>Passing controls</h2>
${
  passing.length === 0
    ? html`<p class="empty">None.</p>`
    : html`<table class="passing">
<thead><tr><th>Control</th><th>Title</th><th>Area</th><th>Severity</th><th class="num">Resources</th></tr></thead>
<tbody>${passing.map(
        (o) =>
          html`<tr><td class="mono">${o.metadata.id}</td><td>${o.metadata.title}</td><td>${o.metadata.area}</td><td><span class="badge ${SEVERITY_CLASS[o.metadata.severity]}">${SEVERITY_LABEL[o.metadata.severity]}</span></td><td class="num">${countResults(o.results).PASS}</td></tr>`,
      )}</tbody>
</table>`
}
</section>`;
}

function notApplicableControls(outcomes: readonly ControlOutcome[]): Html {
  if (outcomes.length === 0) return html``;
  return html`<section>
<h2>Not applicable controls</h2>
<p class="empty">Nothing in the estate was in their scope: neither a pass nor a finding.</p>
<table class="passing">
<thead><tr><th>Control</th><th>Title</th><th>Area</th><th>Status</th></tr></thead>
<tbody>${outcomes.map((o) => html`<tr><td class="mono">${o.metadata.id}</td><td>${o.metadata.title}</td><td>${o.metadata.area}</td><td>not applicable</td></tr>`)}</tbody>
</table>
</section>`;
}

/** The summary counts every result; say how many of them the findings below show. */
function displayNote(report: ComplianceReport): string {
  const sum = (c: StatusCounts): number => c.FAIL + c.UNKNOWN + c.PASS;
  const total = sum(report.summary.results);
  const shown = sum(report.summary.displayedResults);
  return shown === total ? report.minSeverity : `${report.minSeverity} (${shown} of ${total} results shown; the summary counts all)`;
}

const STYLE = `
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa; --card: #ffffff;
  --fail: #cf222e; --fail-bg: #ffebe9; --unknown: #9a6700; --unknown-bg: #fff8c5; --pass: #1a7f37; --pass-bg: #dafbe1;
  --critical: #82071e; --high: #cf222e; --medium: #bc4c00; --low: #0969da; --info: #59636e; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: var(--fg); background: var(--bg); }
header.page { background: #0d1117; color: #f0f6fc; padding: 24px 32px; }
header.page h1 { margin: 0 0 12px; font-size: 24px; }
dl.meta { display: flex; flex-wrap: wrap; gap: 8px 32px; margin: 0; }
dl.meta dt { color: #9198a1; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
main { max-width: 1200px; margin: 0 auto; padding: 8px 32px 32px; }
h2 { font-size: 20px; margin: 28px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 17px; margin: 24px 0 12px; }
h4 { font-size: 16px; margin: 0 0 4px; }
h5 { font-size: 14px; margin: 0 0 8px; display: flex; gap: 8px; align-items: baseline; }
.mono, pre, .id { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
.id { overflow-wrap: anywhere; }
.cards { display: flex; gap: 16px; flex-wrap: wrap; }
.card { background: var(--card); border: 1px solid var(--line); border-top-width: 4px; border-radius: 8px; padding: 12px 20px; min-width: 180px; }
.card .count { font-size: 32px; font-weight: 600; line-height: 1.1; }
.card .label { font-weight: 600; }
.card .sub { color: var(--muted); font-size: 12px; }
.card.st-fail { border-top-color: var(--fail); } .card.st-fail .count { color: var(--fail); }
.card.st-unknown { border-top-color: var(--unknown); } .card.st-unknown .count { color: var(--unknown); }
.card.st-pass { border-top-color: var(--pass); } .card.st-pass .count { color: var(--pass); }
.card.st-na { border-top-color: var(--muted); } .card.st-na .count { color: var(--muted); }
.tables { display: flex; gap: 24px; flex-wrap: wrap; margin-top: 16px; align-items: flex-start; }
table { border-collapse: collapse; background: var(--card); border: 1px solid var(--line); }
th, td { border-bottom: 1px solid var(--line); padding: 5px 12px; text-align: left; vertical-align: top; }
td { overflow-wrap: anywhere; }
th, td.nowrap { white-space: nowrap; }
thead th { background: #eff2f5; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.zero { color: #afb8c1; }
td.st-fail { color: var(--fail); font-weight: 600; } td.st-unknown { color: var(--unknown); font-weight: 600; } td.st-pass { color: var(--pass); }
table.errors, table.passing { width: 100%; }
.badge { display: inline-block; border-radius: 999px; padding: 1px 10px; font-size: 12px; font-weight: 600; color: #fff; white-space: nowrap; }
.badge.sev-critical { background: var(--critical); } .badge.sev-high { background: var(--high); } .badge.sev-medium { background: var(--medium); }
.badge.sev-low { background: var(--low); } .badge.sev-info { background: var(--info); }
.badge.st-fail { background: var(--fail); } .badge.st-unknown { background: var(--unknown); } .badge.st-pass { background: var(--pass); }
article.control { background: var(--card); border: 1px solid var(--line); border-left-width: 5px; border-radius: 8px; padding: 16px 20px; margin: 0 0 16px; }
article.sev-critical { border-left-color: var(--critical); } article.sev-high { border-left-color: var(--high); } article.sev-medium { border-left-color: var(--medium); }
article.sev-low { border-left-color: var(--low); } article.sev-info { border-left-color: var(--info); }
.control-meta { color: var(--muted); margin: 0 0 8px; }
.risk { margin: 0 0 12px; }
.result { border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; margin: 0 0 12px; }
.result.st-fail { background: #fffafa; } .result.st-unknown { background: #fffdf0; }
.resource-name { overflow-wrap: anywhere; }
dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 8px; }
dl.fields dt { color: var(--muted); } dl.fields dd { margin: 0; overflow-wrap: anywhere; }
.evidence { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.evidence-label { color: var(--muted); font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; margin: 8px 0 4px; }
pre { margin: 0; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; white-space: pre-wrap; overflow-wrap: anywhere; }
pre.cli { background: #0d1117; color: #e6edf3; border-color: #0d1117; }
.remediation p { margin: 0 0 6px; }
.mappings ul { margin: 0; padding-left: 20px; }
.framework { font-weight: 600; }
.empty { color: var(--muted); }
figure.picture { margin: 0 0 20px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; overflow-x: auto; }
figure.picture figcaption { font-weight: 600; margin: 0 0 8px; }
svg.chart { display: block; max-width: 100%; height: auto; font: 12px -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
svg.chart text { fill: var(--fg); }
svg.chart .axis-head { fill: var(--muted); font-size: 12px; font-weight: 600; }
svg.chart .chart-note, svg.chart .key-sub { fill: var(--muted); font-size: 11px; }
svg.chart .key-name { font-size: 14px; font-weight: 600; }
svg.chart .key-name-small { font-size: 13px; font-weight: 600; }
.map-key rect { fill: #ddf4ff; stroke: var(--low); stroke-width: 1.5; }
.map-edge path { fill: none; stroke-width: 2.5; }
.map-group rect { fill: #fff; stroke-width: 1.5; }
.map-group .group-head { font-weight: 600; }
.map-group .group-names { fill: var(--muted); font-size: 11px; }
svg.chart .edge-label { font-size: 11px; font-weight: 600; }
.vs-current path, .vs-current rect { stroke: var(--pass); } .vs-current .edge-label { fill: var(--pass); }
.vs-following path, .vs-following rect { stroke: var(--low); stroke-dasharray: 2 3; } .vs-following .edge-label { fill: var(--low); }
.vs-stale path, .vs-stale rect { stroke: var(--fail); stroke-dasharray: 8 4; } .vs-stale .edge-label { fill: var(--fail); }
.vs-stale rect { fill: var(--fail-bg); }
.vs-unknown path, .vs-unknown rect { stroke: var(--unknown); stroke-dasharray: 1 4; } .vs-unknown .edge-label { fill: var(--unknown); }
.tl-axis, .va-sep { stroke: var(--line); stroke-width: 1; }
.tl-opened { fill: var(--fail); } .tl-resolved { fill: var(--pass); }
svg.chart .tl-opened-text { fill: var(--fail); font-weight: 600; } svg.chart .tl-resolved-text { fill: var(--pass); font-weight: 600; }
.tl-line { fill: none; stroke: var(--fg); stroke-width: 1.5; }
.tl-open { fill: var(--fg); }
svg.chart .tl-open-text { font-size: 11px; }
svg.chart .tl-date { fill: var(--muted); font-size: 11px; }
.va-tick { stroke: #eff2f5; stroke-width: 1; }
.va-bar.va-current { fill: #aceebb; stroke: var(--pass); } .va-bar.va-old { fill: #eff2f5; stroke: #afb8c1; } .va-bar.va-expired { fill: #ffebe9; stroke: var(--fail); }
svg.chart .va-label { font-size: 10px; }
.va-due { stroke: var(--medium); stroke-width: 2; } .va-due-mark { fill: var(--medium); }
svg.chart .va-due-text { fill: var(--medium); font-weight: 600; font-size: 11px; } svg.chart .va-overdue { fill: var(--fail); }
.va-now { stroke: var(--fg); stroke-width: 1; stroke-dasharray: 4 3; } svg.chart .va-now-text { font-size: 11px; font-weight: 600; }
footer { text-align: center; color: var(--muted); font-size: 12px; padding: 16px; }
@media print { body { background: #fff; } header.page { background: #fff; color: var(--fg); border-bottom: 2px solid var(--fg); } }
`;
