import type { PolicyDocument } from "../../config/types.js";
import { parseIsoDuration } from "../../config/durations.js";
import { resourceKey } from "../../estate/resourceId.js";
import { keyForecasts } from "../../rotation/forecast.js";
import type { EstateSnapshot, KeySnapshot } from "../../estate/snapshot.js";
import { html, raw, type Html } from "../markup.js";
import { short } from "./consumerMap.js";
import { round, svgText } from "./svgText.js";

const DAY = 86_400_000;

export interface VersionBar {
  version: string;
  createdOn: number;
  /** Undefined: the version has no expiry. */
  expiresOn: number | undefined;
  current: boolean;
}

export interface KeyLane {
  hsmName: string;
  keyName: string;
  versions: VersionBar[];
  /** Versions older than those drawn. */
  olderVersions: number;
  rotationDue: number | undefined;
  /** Where the cadence came from: the KeyWarden policy, the key's own rotation policy, or nowhere. */
  cadence: string;
}

export const VERSIONS_PER_KEY = 6;
export const MAX_KEYS = 24;

/**
 * When the key's current version is due to rotate: its creation plus the cadence (the policy's rotateAfter, else
 * the HSM rotation policy's Rotate timeAfterCreate). Pure. For a key the policy manages, keyLanes takes the
 * forecast's date instead (src/lib/rotation/forecast.ts: the earlier of this and expiry less notifyBefore, and
 * now for a version already expired or disabled), so the picture and keys_rotation_forecast agree.
 */
export function rotationDueOn(createdOn: string | undefined, rotateAfterDays: number | undefined): number | undefined {
  if (!createdOn || rotateAfterDays === undefined) return undefined;
  const t = Date.parse(createdOn);
  return Number.isNaN(t) ? undefined : t + rotateAfterDays * DAY;
}

/** Each key's last versions (created → expires) and its rotation due date; keys in HSM and name order. */
export function keyLanes(snapshot: EstateSnapshot, policy: PolicyDocument | undefined, now: Date): { lanes: KeyLane[]; keysLeftOut: number } {
  const cadence = new Map<string, { days: number; iso: string }>();
  for (const h of policy?.managedHsms ?? []) for (const k of h.keys) cadence.set(`${resourceKey(h.resourceId)}|${k.name.toLowerCase()}`, k.rotation.rotateAfter);
  const forecastDue = new Map<string, number>();
  for (const f of policy ? keyForecasts(snapshot, policy, now) : []) if (f.nextRotationDue) forecastDue.set(`${resourceKey(f.hsmId)}|${f.keyName.toLowerCase()}`, Date.parse(f.nextRotationDue));
  const lanes: KeyLane[] = [];
  for (const hsm of snapshot.managedHsms) {
    for (const key of hsm.keys ?? []) {
      const laneKey = `${resourceKey(hsm.resourceId)}|${key.name.toLowerCase()}`;
      const fromPolicy = cadence.get(laneKey);
      const fromHsm = hsmCadence(key);
      const rotateAfter = fromPolicy ?? fromHsm;
      const all = versionsOf(key);
      const versions = all.slice(-VERSIONS_PER_KEY);
      const current = all.find((v) => v.current) ?? all.at(-1);
      lanes.push({
        hsmName: hsm.name,
        keyName: key.name,
        versions,
        olderVersions: all.length - versions.length,
        rotationDue: forecastDue.get(laneKey) ?? rotationDueOn(current ? new Date(current.createdOn).toISOString() : key.createdOn, rotateAfter?.days),
        cadence: fromPolicy ? `policy rotateAfter ${fromPolicy.iso}` : fromHsm ? `HSM rotation policy ${fromHsm.iso}` : "no rotation cadence",
      });
    }
  }
  lanes.sort((a, b) => (a.hsmName < b.hsmName ? -1 : a.hsmName > b.hsmName ? 1 : a.keyName < b.keyName ? -1 : a.keyName > b.keyName ? 1 : 0));
  return { lanes: lanes.slice(0, MAX_KEYS), keysLeftOut: Math.max(0, lanes.length - MAX_KEYS) };
}

function versionsOf(key: KeySnapshot): VersionBar[] {
  const listed = key.versions ?? [];
  const bars = listed
    .filter((v) => v.createdOn && !Number.isNaN(Date.parse(v.createdOn)))
    .map((v) => ({ version: v.version, createdOn: Date.parse(v.createdOn as string), expiresOn: v.expiresOn ? Date.parse(v.expiresOn) : undefined, current: v.version === key.currentVersion }));
  if (bars.length === 0 && key.createdOn && key.currentVersion) {
    bars.push({ version: key.currentVersion, createdOn: Date.parse(key.createdOn), expiresOn: key.expiresOn ? Date.parse(key.expiresOn) : undefined, current: true });
  }
  return bars.sort((a, b) => a.createdOn - b.createdOn);
}

function hsmCadence(key: KeySnapshot): { days: number; iso: string } | undefined {
  const rotate = key.rotationPolicy?.lifetimeActions.find((a) => a.action === "Rotate" && a.timeAfterCreate);
  if (!rotate?.timeAfterCreate) return undefined;
  try {
    return parseIsoDuration(rotate.timeAfterCreate);
  } catch {
    return undefined;
  }
}

const BAR_CLASS = { current: raw("va-bar va-current"), expired: raw("va-bar va-expired"), old: raw("va-bar va-old") };

const WIDTH = 1120;
const LABEL_W = 250;
const LEFT = LABEL_W + 16;
const RIGHT = 130;
const LANE_H = 15;
const GAP = 22;
const TOP = 56;

/** Each key's versions as bars on one time axis (created → expires), its rotation due date and "now" marked. */
export function versionAxisSvg(lanes: readonly KeyLane[], keysLeftOut: number, now: Date): Html {
  const nowMs = now.getTime();
  const points = lanes.flatMap((l) => [...l.versions.flatMap((v) => [v.createdOn, ...(v.expiresOn === undefined ? [] : [v.expiresOn])]), ...(l.rotationDue === undefined ? [] : [l.rotationDue])]);
  const t0 = Math.min(nowMs, ...points) - 7 * DAY;
  const t1 = Math.max(nowMs + 30 * DAY, ...points) + 7 * DAY;
  const x = (t: number): number => LEFT + ((t - t0) / (t1 - t0)) * (WIDTH - LEFT - RIGHT);
  let y = TOP;
  const rows: Html[] = [];
  for (const lane of lanes) {
    const top = y;
    const bars = lane.versions.map((v, i) => {
      const by = top + i * LANE_H;
      const end = v.expiresOn ?? t1;
      const cls = v.current ? BAR_CLASS.current : v.expiresOn !== undefined && v.expiresOn < nowMs ? BAR_CLASS.expired : BAR_CLASS.old;
      const label = `${short(v.version)}${v.current ? " (current)" : ""}: created ${day(v.createdOn)}, ${v.expiresOn === undefined ? "no expiry" : `expires ${day(v.expiresOn)}`}`;
      return html`<g class="va-version"><rect class="${cls}" x="${round(x(v.createdOn))}" y="${by}" width="${round(Math.max(2, x(end) - x(v.createdOn)))}" height="${LANE_H - 4}" rx="2"><title>${label}</title></rect>
${svgText(x(v.createdOn) + 4, by + LANE_H - 6, label, "va-label", 70)}</g>`;
    });
    const laneBottom = top + Math.max(1, lane.versions.length) * LANE_H;
    const due = lane.rotationDue;
    rows.push(html`<g class="va-key">
${svgText(8, top + 11, lane.keyName, "key-name-small", 34)}
${svgText(8, top + 26, `${lane.hsmName} · ${lane.cadence}`, "key-sub", 44)}
${lane.olderVersions > 0 ? svgText(8, top + 40, `${lane.olderVersions} older versions not drawn`, "key-sub", 44) : html``}
${bars}
${
  due === undefined
    ? svgText(WIDTH - RIGHT + 8, top + 11, "rotation due: unknown", "va-due-text", 26)
    : html`<line class="va-due" x1="${round(x(due))}" y1="${top - 3}" x2="${round(x(due))}" y2="${laneBottom}"></line><path class="va-due-mark" d="M ${round(x(due) - 5)} ${top - 8} L ${round(x(due) + 5)} ${top - 8} L ${round(x(due))} ${top - 2} Z"></path>${svgText(WIDTH - RIGHT + 8, top + 11, `rotation due ${day(due)}`, due < nowMs ? "va-due-text va-overdue" : "va-due-text", 26)}`
}
<line class="va-sep" x1="0" y1="${laneBottom + GAP / 2}" x2="${WIDTH}" y2="${laneBottom + GAP / 2}"></line>
</g>`);
    y = Math.max(laneBottom, top + 44) + GAP;
  }
  const height = y + 30;
  const ticks = monthTicks(t0, t1).map((t) => html`<line class="va-tick" x1="${round(x(t))}" y1="${TOP - 12}" x2="${round(x(t))}" y2="${height - 26}"></line>${svgText(x(t), height - 12, day(t).slice(0, 7), "tl-date", 8, "middle")}`);
  return html`<svg class="chart versions" role="img" aria-label="Key versions timeline" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}">
<title>Each key's versions from creation to expiry, and when the current one is due to rotate</title>
${ticks}
${svgText(LEFT, 14, "Bars: versions, created → expires · ▼ and line: rotation due · dashed: now", "axis-head", 120)}
${rows}
<line class="va-now" x1="${round(x(nowMs))}" y1="${TOP - 12}" x2="${round(x(nowMs))}" y2="${height - 26}"></line>${svgText(x(nowMs), TOP - 18, `now ${day(nowMs)}`, "va-now-text", 20, "middle")}
${keysLeftOut > 0 ? svgText(8, height - 12, `${keysLeftOut} more keys not drawn`, "chart-note", 40) : html``}
</svg>`;
}

function day(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/** First-of-month ticks, thinned to at most 14. */
function monthTicks(t0: number, t1: number): number[] {
  const out: number[] = [];
  const d = new Date(t0);
  let m = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  while (m < t1 && out.length < 400) {
    out.push(m);
    const n = new Date(m);
    m = Date.UTC(n.getUTCFullYear(), n.getUTCMonth() + 1, 1);
  }
  const every = Math.max(1, Math.ceil(out.length / 14));
  return out.filter((_, i) => i % every === 0);
}
