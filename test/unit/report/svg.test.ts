import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EstateSnapshot, StorageAccountConsumer } from "../../../src/lib/estate/snapshot.js";
import { loadReportHistory } from "../../../src/lib/history/reportHistory.js";
import { renderHtml } from "../../../src/lib/report/html.js";
import type { ReportHistory } from "../../../src/lib/report/reportHistory.js";
import { consumerMap, consumerMapSvg, MAX_GROUPS, NAMED_PER_GROUP } from "../../../src/lib/report/svg/consumerMap.js";
import { findingsTimelineSvg, scanPoints } from "../../../src/lib/report/svg/findingsTimeline.js";
import { keyLanes, rotationDueOn, VERSIONS_PER_KEY, versionAxisSvg } from "../../../src/lib/report/svg/versionAxis.js";
import { recordEstateStory, type EstateStory } from "../../support/reportHistoryFixture.js";
import { contosoPolicy, loadSnapshot } from "../../support/snapshots.js";

const STORAGE_KEY = "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-STORAGE-CMK";
const CURRENT = "fe8a4f0a6020111e8ce29364923746ef";
const OLD = "2db033a5f0000000000000000000000a";

/** The reference estate plus `n` storage accounts on the storage key: across three regions, a tenth pinned to an old version. */
function manyConsumers(n: number, regions = ["southindia", "centralindia", "westindia"]): EstateSnapshot {
  const snapshot = loadSnapshot("contoso-reference");
  const template = snapshot.consumers.storageAccounts[0] as StorageAccountConsumer;
  for (let i = 0; i < n; i++) {
    const pinned = i % 10 === 0;
    const url = pinned ? `${STORAGE_KEY}/${OLD}` : STORAGE_KEY;
    snapshot.consumers.storageAccounts.push({
      ...template,
      resourceId: `${template.resourceId}${i}`,
      name: `st${String(i).padStart(5, "0")}`,
      location: regions[i % regions.length] as string,
      keyReference: { url, host: "contoso-prod-hsm.managedhsm.azure.net", keyName: "Contoso-STORAGE-CMK", version: pinned ? OLD : null },
      currentVersionedKeyIdentifier: `${STORAGE_KEY}/${pinned ? OLD : CURRENT}`,
    });
  }
  return snapshot;
}

const count = (html: string, needle: string): number => html.split(needle).length - 1;

describe("the consumer map", () => {
  it("draws each key with its consumers per region and version, the state in words", () => {
    const map = consumerMap(loadSnapshot("contoso-drifted"));
    expect(map.keys.map((k) => k.keyName)).toEqual(["Contoso-DISK-CMK", "Contoso-SQLMI-CMK", "Contoso-STORAGE-CMK"]);
    const disk = map.keys[0];
    expect(disk?.groups.map((g) => `${g.region} ${g.state} ${g.count} ${g.names.join(",")}`)).toEqual(["centralindia stale 1 des-contoso-centralindia", "southindia current 1 des-contoso-southindia"]);
    const svg = consumerMapSvg(map).value;
    expect(svg).toContain('role="img" aria-label="Key to consumers map"');
    expect(svg).toContain("centralindia · 1 consumer · STALE: not the current version");
    expect(svg).toContain("f6ffed80 · STALE");
  });

  it("aggregates 10,000 consumers into a few groups, naming the first few of each", () => {
    const map = consumerMap(manyConsumers(10_000));
    const storage = map.keys.find((k) => k.keyName === "Contoso-STORAGE-CMK");
    // 3 regions × (current, stale): the template account joins its region's current group
    expect(storage?.groups.map((g) => `${g.region} ${g.state} ${g.count}`)).toEqual([
      "centralindia stale 333",
      "centralindia current 3000",
      "southindia stale 334",
      "southindia current 3001",
      "westindia stale 333",
      "westindia current 3000",
    ]);
    for (const g of storage?.groups ?? []) expect(g.names).toHaveLength(NAMED_PER_GROUP);
    expect(storage?.groups[0]?.names).toEqual(["st00010", "st00040", "st00070"]);
    const svg = consumerMapSvg(map).value;
    expect(count(svg, '<g class="map-group')).toBe(map.keys.reduce((n, k) => n + k.groups.length, 0));
    expect(svg).toContain("southindia · 3001 consumers · current version");
    expect(svg).toContain("contosoprodcmkst01, st00003, st00006 and 2998 more");
    expect(svg.length).toBeLessThan(20_000);
  });

  it("draws at most MAX_GROUPS groups and says how many it left out", () => {
    const regions = Array.from({ length: MAX_GROUPS + 10 }, (_, i) => `region${String(i).padStart(2, "0")}`);
    const map = consumerMap(manyConsumers(regions.length, regions));
    expect(map.keys.reduce((n, k) => n + k.groups.length, 0)).toBe(MAX_GROUPS);
    expect(map.groupsLeftOut).toBeGreaterThan(0);
    expect(consumerMapSvg(map).value).toContain(`${map.groupsLeftOut} more groups not drawn`);
  });

  it("counts consumers of keys outside the snapshot's HSMs instead of drawing them", () => {
    const snapshot = loadSnapshot("contoso-reference");
    const account = snapshot.consumers.storageAccounts[0];
    if (!account?.keyReference) throw new Error("fixture changed");
    account.keyReference = { ...account.keyReference, host: "other.vault.azure.net" };
    const map = consumerMap(snapshot);
    expect(map.elsewhere).toBe(1);
    expect(consumerMapSvg(map).value).toContain("1 consumers use a key outside these HSMs");
  });
});

describe("the key versions axis", () => {
  const policy = contosoPolicy();

  it("marks the rotation due date from the policy's cadence, else the HSM's rotation policy", () => {
    expect(rotationDueOn("2026-11-08T00:00:00.000Z", 180)).toBe(Date.parse("2027-05-07T00:00:00.000Z"));
    expect(rotationDueOn(undefined, 180)).toBeUndefined();
    expect(rotationDueOn("2026-11-08T00:00:00.000Z", undefined)).toBeUndefined();

    const snapshot = loadSnapshot("contoso-reference");
    const withPolicy = keyLanes(snapshot, policy, new Date(snapshot.collectedAt)).lanes;
    expect(withPolicy.map((l) => `${l.keyName} ${l.cadence} ${l.rotationDue === undefined ? "-" : new Date(l.rotationDue).toISOString().slice(0, 10)}`)).toEqual([
      "Contoso-DISK-CMK policy rotateAfter P180D 2027-05-07",
      "Contoso-SQLMI-CMK policy rotateAfter P180D 2027-05-07",
      "Contoso-STORAGE-CMK policy rotateAfter P180D 2027-05-07",
    ]);
    expect(keyLanes(snapshot, undefined, new Date(snapshot.collectedAt)).lanes.map((l) => l.cadence)).toEqual(Array.from({ length: 3 }, () => "HSM rotation policy P180D"));
    for (const key of snapshot.managedHsms[0]?.keys ?? []) if (key.rotationPolicy) key.rotationPolicy.lifetimeActions = [];
    const none = keyLanes(snapshot, undefined, new Date(snapshot.collectedAt)).lanes;
    expect(none.map((l) => `${l.cadence} ${String(l.rotationDue)}`)).toEqual(Array.from({ length: 3 }, () => "no rotation cadence undefined"));
    expect(versionAxisSvg(none, 0, new Date(snapshot.collectedAt)).value).toContain("rotation due: unknown");
  });

  it("draws the last versions of a key and says how many older ones it left out", () => {
    const snapshot = loadSnapshot("contoso-reference");
    const key = snapshot.managedHsms[0]?.keys?.[0];
    if (!key?.versions?.[0]) throw new Error("fixture changed");
    const template = key.versions[0];
    for (let i = 0; i < 20; i++) key.versions.push({ ...template, version: `v${String(i).padStart(2, "0")}`, createdOn: new Date(Date.UTC(2024, i % 12, 1)).toISOString() });
    const lane = keyLanes(snapshot, policy, new Date(snapshot.collectedAt)).lanes.find((l) => l.keyName === key.name);
    expect(lane?.versions).toHaveLength(VERSIONS_PER_KEY);
    expect(lane?.olderVersions).toBe(22 - VERSIONS_PER_KEY);
    const svg = versionAxisSvg(keyLanes(snapshot, policy, new Date(snapshot.collectedAt)).lanes, 0, new Date(snapshot.collectedAt)).value;
    expect(svg).toContain(`${22 - VERSIONS_PER_KEY} older versions not drawn`);
    expect(svg).toContain("94997bda (current): created 2026-11-08, expires 2027-11-08");
    expect(svg).toContain('aria-label="Key versions timeline"');
  });
});

describe("the findings timeline", () => {
  let story: EstateStory;
  let history: ReportHistory;
  beforeAll(async () => {
    story = await recordEstateStory();
    history = await loadReportHistory(story.store, story.scans.at(-1)?.scan.scanId ?? "");
  });
  afterAll(() => story?.close());

  it("counts opened and resolved per scan, and the open findings after each", () => {
    expect(scanPoints(history).map((p) => [p.opened, p.resolved, p.open])).toEqual([
      [0, 0, 0],
      [9, 0, 9],
      [0, 0, 9],
      [1, 1, 9],
    ]);
    const svg = findingsTimelineSvg(history).value;
    expect(svg).toContain("4 scans · 10 opened · 1 resolved");
    expect(svg).toContain(">+9</text>");
    expect(svg).toContain(">−1</text>");
    expect(svg).toContain('aria-label="Findings timeline"');
  });

  it("puts all three pictures in the HTML only with their inputs, and only safe markup in them", () => {
    const bare = renderHtml(story.report);
    expect(bare).not.toContain("<svg");
    const full = renderHtml(story.report, { history, snapshot: story.snapshot, policy: contosoPolicy() });
    expect(count(full, "<svg ")).toBe(3);
    const svgTags = new Set("svg title text g rect path line circle".split(" "));
    const attributes = new Set("class role aria-label viewBox width height x y rx x1 y1 x2 y2 cx cy r d text-anchor".split(" "));
    const pictures = full.slice(full.indexOf('<section class="pictures">'), full.indexOf("</section>", full.indexOf('<section class="pictures">')));
    const tags = [...pictures.matchAll(/<([a-zA-Z]+)((?:\s+[^\s=>]+="[^"]*")*)\s*>/g)];
    expect(tags.length).toBeGreaterThan(50);
    const bad = tags.flatMap((m) => {
      const name = m[1] ?? "";
      if (!svgTags.has(name) && !["section", "h2", "figure", "figcaption"].includes(name)) return [`<${name}>`];
      return [...(m[2] ?? "").matchAll(/([^\s=]+)="([^"]*)"/g)].filter(([, a]) => !attributes.has(a ?? "")).map(([, a]) => `${name} ${a ?? ""}`);
    });
    expect(bad).toEqual([]);
  });
});
