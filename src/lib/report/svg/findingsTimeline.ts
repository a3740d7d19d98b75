import { html, type Html } from "../markup.js";
import type { ReportHistory } from "../reportHistory.js";
import { round, svgText } from "./svgText.js";

export interface ScanPoint {
  scanId: string;
  at: string;
  opened: number;
  resolved: number;
  /** Open findings after this scan. */
  open: number;
}

/**
 * Findings opened and resolved at each scan, and how many were open after it: counted from the transitions, the
 * open count walked back from the shown scan's (its first-seen map holds every finding open then). One pass.
 */
export function scanPoints(history: ReportHistory): ScanPoint[] {
  const counts = new Map<string, { opened: number; resolved: number }>();
  for (const t of history.transitions) {
    const c = counts.get(t.scanId) ?? { opened: 0, resolved: 0 };
    if (t.transition === "opened") c.opened++;
    if (t.transition === "resolved") c.resolved++;
    counts.set(t.scanId, c);
  }
  const points: ScanPoint[] = [];
  let open = history.firstSeen.size;
  for (let i = history.scans.length - 1; i >= 0; i--) {
    const scan = history.scans[i];
    if (!scan) continue;
    const c = counts.get(scan.scanId) ?? { opened: 0, resolved: 0 };
    points.push({ scanId: scan.scanId, at: scan.scannedAt, ...c, open });
    open = open - c.opened + c.resolved;
  }
  return points.reverse();
}

const WIDTH = 1120;
const HEIGHT = 260;
const LEFT = 56;
const RIGHT = 80;
const TOP = 30;
const BASE = 170;
const BAR = 14;

/** Opened (above the axis) and resolved (below) per scan on a time axis, with the open count as a line. */
export function findingsTimelineSvg(history: ReportHistory): Html {
  const points = scanPoints(history);
  const times = points.map((p) => Date.parse(p.at));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const span = Math.max(t1 - t0, 1);
  const x = (t: number): number => (points.length === 1 ? (LEFT + WIDTH - RIGHT) / 2 : LEFT + ((t - t0) / span) * (WIDTH - LEFT - RIGHT - 20) + 10);
  const peak = Math.max(1, ...points.map((p) => Math.max(p.opened, p.resolved, p.open)));
  const up = (n: number): number => (n / peak) * (BASE - TOP - 20);
  const down = (n: number): number => (n / peak) * 50;
  const line = points.map((p, i) => `${i === 0 ? "M" : "L"} ${round(x(Date.parse(p.at)))} ${round(BASE - up(p.open))}`).join(" ");
  // At most ~12 date labels, whatever the number of scans.
  const every = Math.max(1, Math.ceil(points.length / 12));
  const marks = points.map((p, i) => {
    const px = x(Date.parse(p.at));
    return html`<g class="tl-scan">
${p.opened > 0 ? html`<rect class="tl-opened" x="${round(px - BAR)}" y="${round(BASE - up(p.opened))}" width="${BAR}" height="${round(up(p.opened))}"></rect>${svgText(px - BAR / 2, BASE - up(p.opened) - 4, `+${p.opened}`, "tl-count tl-opened-text", 6, "middle")}` : html``}
${p.resolved > 0 ? html`<rect class="tl-resolved" x="${round(px)}" y="${BASE}" width="${BAR}" height="${round(down(p.resolved))}"></rect>${svgText(px + BAR / 2, BASE + down(p.resolved) + 13, `−${p.resolved}`, "tl-count tl-resolved-text", 6, "middle")}` : html``}
<circle class="tl-open" cx="${round(px)}" cy="${round(BASE - up(p.open))}" r="4"></circle>${svgText(px + 6, BASE - up(p.open) - 6, `${p.open} open`, "tl-open-text", 10)}
${i % every === 0 || i === points.length - 1 ? svgText(px, HEIGHT - 14, p.at.slice(0, 10), "tl-date", 10, "middle") : html``}
</g>`;
  });
  const opened = points.reduce((n, p) => n + p.opened, 0);
  const resolved = points.reduce((n, p) => n + p.resolved, 0);
  return html`<svg class="chart timeline" role="img" aria-label="Findings timeline" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}">
<title>Findings opened and resolved at each scan</title>
${svgText(LEFT, 16, `${points.length} scans · ${opened} opened · ${resolved} resolved · bars above: opened, below: resolved, dots: open after the scan`, "axis-head", 140)}
<line class="tl-axis" x1="${LEFT}" y1="${BASE}" x2="${WIDTH - RIGHT}" y2="${BASE}"></line>
<path class="tl-line" d="${line}"></path>
${marks}
</svg>`;
}
