import { consumerKeyReference, versionInUse } from "../../compliance/query.js";
import { hsmHost } from "../../estate/keyReference.js";
import type { Consumer, EstateSnapshot, KeySnapshot } from "../../estate/snapshot.js";
import { html, type Html } from "../markup.js";
import { STATE_CLASS, STATE_LABEL, svgText, type VersionState } from "./svgText.js";

/** The edge's own short word for its state; the group beside it says it in full. */
const EDGE_LABEL: Record<VersionState, string> = { current: "current", stale: "STALE", following: "versionless", unknown: "unknown" };

/** One edge of the map: the consumers of one key in one region on one version, counted, the first few named. */
export interface ConsumerGroup {
  region: string;
  /** The version in use; "versionless" when the consumer follows the key's latest version. */
  version: string;
  state: VersionState;
  count: number;
  /** The first NAMED_PER_GROUP consumers, by name. */
  names: string[];
}

export interface KeyNode {
  hsmName: string;
  keyName: string;
  currentVersion: string | undefined;
  groups: ConsumerGroup[];
}

export interface ConsumerMap {
  keys: KeyNode[];
  /** Consumers whose key is not one of the snapshot's HSM keys (another vault, platform keys, unparsable). */
  elsewhere: number;
  /** Groups left out to keep the picture readable (over MAX_GROUPS). */
  groupsLeftOut: number;
}

export const NAMED_PER_GROUP = 3;
export const MAX_GROUPS = 40;

/**
 * Who uses which key, aggregated per key × region × version so that 10,000 consumers draw as a few dozen
 * edges: one pass over the consumers, keys looked up by `<host>|<name>` (lower-cased).
 */
export function consumerMap(snapshot: EstateSnapshot): ConsumerMap {
  const keys = new Map<string, { node: KeyNode; key: KeySnapshot; groups: Map<string, ConsumerGroup> }>();
  for (const hsm of snapshot.managedHsms) {
    if (!hsm.hsmUri) continue;
    const host = hsmHost(hsm.hsmUri);
    for (const key of hsm.keys ?? []) {
      keys.set(`${host}|${key.name.toLowerCase()}`, { node: { hsmName: hsm.name, keyName: key.name, currentVersion: key.currentVersion, groups: [] }, key, groups: new Map() });
    }
  }
  let elsewhere = 0;
  const { sqlManagedInstances, diskEncryptionSets, storageAccounts } = snapshot.consumers;
  for (const consumer of [...sqlManagedInstances, ...diskEncryptionSets, ...storageAccounts] as Consumer[]) {
    const ref = consumerKeyReference(consumer);
    const entry = ref ? keys.get(`${ref.host}|${ref.keyName.toLowerCase()}`) : undefined;
    if (!ref || !entry) {
      elsewhere++;
      continue;
    }
    const version = versionInUse(consumer);
    const state = stateOf(version, entry.key.currentVersion);
    const label = version ?? "versionless";
    const id = `${consumer.location.toLowerCase()}|${label}`;
    let group = entry.groups.get(id);
    if (!group) {
      group = { region: consumer.location, version: label, state, count: 0, names: [] };
      entry.groups.set(id, group);
    }
    group.count++;
    group.names.push(consumer.name);
  }
  const nodes = [...keys.values()]
    .filter((e) => e.groups.size > 0)
    .map((e) => ({ ...e.node, groups: [...e.groups.values()].map(named).sort(compareGroups) }))
    .sort((a, b) => compare(a.hsmName, b.hsmName) || compare(a.keyName, b.keyName));
  let budget = MAX_GROUPS;
  let groupsLeftOut = 0;
  for (const node of nodes) {
    const kept = node.groups.slice(0, Math.max(0, budget));
    groupsLeftOut += node.groups.length - kept.length;
    budget -= kept.length;
    node.groups = kept;
  }
  return { keys: nodes.filter((n) => n.groups.length > 0), elsewhere, groupsLeftOut };
}

/** Only the first few names are kept: sorting all 10,000 would be needless; a partial pick keeps it linear. */
function named(group: ConsumerGroup): ConsumerGroup {
  const first: string[] = [];
  for (const name of group.names) {
    if (first.length < NAMED_PER_GROUP) first.push(name);
    else {
      const last = first.reduce((max, n) => (compare(n, max) > 0 ? n : max));
      if (compare(name, last) < 0) first[first.indexOf(last)] = name;
    }
  }
  return { ...group, names: first.sort(compare) };
}

function stateOf(version: string | null, current: string | undefined): VersionState {
  if (version === null) return "following";
  if (!current) return "unknown";
  return version === current ? "current" : "stale";
}

const STATE_ORDER: Record<VersionState, number> = { stale: 0, unknown: 1, following: 2, current: 3 };

function compareGroups(a: ConsumerGroup, b: ConsumerGroup): number {
  return compare(a.region.toLowerCase(), b.region.toLowerCase()) || STATE_ORDER[a.state] - STATE_ORDER[b.state] || compare(a.version, b.version);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const ROW = 46;
const WIDTH = 1120;
const KEY_X = 8;
const KEY_W = 250;
const GROUP_X = 600;
const KEY_MIN_H = 64;
const GROUP_W = WIDTH - GROUP_X - 8;
const TOP = 34;

/** The map as inline SVG: keys on the left, a row per consumer group on the right, an edge labelled with the version and its state. */
export function consumerMapSvg(map: ConsumerMap): Html {
  const blockOf = (key: KeyNode): number => Math.max(key.groups.length * ROW, KEY_MIN_H + 8);
  const height = TOP + map.keys.reduce((n, k) => n + blockOf(k), 0) + 30;
  let y = TOP;
  const parts: Html[] = [];
  for (const key of map.keys) {
    const top = y;
    const next = y + blockOf(key);
    const bottom = next - 8;
    const mid = (top + bottom) / 2;
    parts.push(html`<g class="map-key"><rect x="${KEY_X}" y="${top}" width="${KEY_W}" height="${bottom - top}" rx="6"></rect>
${svgText(KEY_X + 12, mid - 8, key.keyName, "key-name", 30)}
${svgText(KEY_X + 12, mid + 10, `on ${key.hsmName}`, "key-sub", 34)}
${svgText(KEY_X + 12, mid + 26, `current ${short(key.currentVersion ?? "unknown")}`, "key-sub", 34)}</g>`);
    for (const group of key.groups) {
      const gy = y + (ROW - 8) / 2;
      const cls = STATE_CLASS[group.state];
      const more = group.count - group.names.length;
      const who = `${group.names.join(", ")}${more > 0 ? ` and ${more} more` : ""}`;
      parts.push(html`<g class="map-edge ${cls}"><path d="M ${KEY_X + KEY_W} ${mid} C ${(KEY_X + KEY_W + GROUP_X) / 2} ${mid}, ${(KEY_X + KEY_W + GROUP_X) / 2} ${gy}, ${GROUP_X} ${gy}"></path>
${svgText(GROUP_X - 100, gy - 6, `${short(group.version)} · ${EDGE_LABEL[group.state]}`, "edge-label", 26, "middle")}</g>
<g class="map-group ${cls}"><rect x="${GROUP_X}" y="${y}" width="${GROUP_W}" height="${ROW - 8}" rx="6"></rect>
${svgText(GROUP_X + 10, y + 15, `${group.region} · ${group.count} ${group.count === 1 ? "consumer" : "consumers"} · ${STATE_LABEL[group.state]}`, "group-head", 80)}
${svgText(GROUP_X + 10, y + 31, who, "group-names", 90)}</g>`);
      y += ROW;
    }
    y = next;
  }
  const notes = [
    ...(map.elsewhere > 0 ? [`${map.elsewhere} consumers use a key outside these HSMs`] : []),
    ...(map.groupsLeftOut > 0 ? [`${map.groupsLeftOut} more groups not drawn`] : []),
  ];
  return html`<svg class="chart map" role="img" aria-label="Key to consumers map" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}">
<title>Which consumer uses which key version, by region</title>
${svgText(KEY_X, 18, "Key", "axis-head", 20)}${svgText(GROUP_X, 18, "Consumers by region and version", "axis-head", 60)}
${parts}
${notes.length > 0 ? svgText(KEY_X, height - 12, notes.join(" · "), "chart-note", 140) : html``}
</svg>`;
}

/** Key versions are 32 hex digits: the first 8 tell them apart on a picture. */
export function short(version: string): string {
  return /^[0-9a-f]{32}$/i.test(version) ? version.slice(0, 8) : version;
}
