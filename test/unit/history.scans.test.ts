import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fixedClock } from "../../src/lib/clock.js";
import { REGISTERED_CONTROLS } from "../../src/lib/compliance/checks/index.js";
import { evaluate } from "../../src/lib/compliance/evaluate.js";
import { loadControls } from "../../src/lib/compliance/registry.js";
import type { EstateSnapshot } from "../../src/lib/estate/snapshot.js";
import { findingFingerprint } from "../../src/lib/history/findings.js";
import { listScans, pruneScans, readReport, recordScan, scanAt } from "../../src/lib/history/scanHistory.js";
import { createLocalDirectoryStore } from "../../src/lib/state/localDirectoryStore.js";
import type { StateStore } from "../../src/lib/state/stateStore.js";
import { contosoPolicy, loadSnapshot } from "../support/snapshots.js";

const policy = contosoPolicy();
const controls = loadControls(REGISTERED_CONTROLS);

function scan(snapshot: EstateSnapshot, at: string) {
  return { snapshot, report: evaluate(snapshot, policy, controls, { now: new Date(at) }) };
}

let dir: string;
let store: StateStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kw-history-"));
  store = createLocalDirectoryStore(dir, { clock: fixedClock("2026-12-01T00:00:00Z") });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("the scan history", () => {
  it("opens every finding on the first scan, none on an unchanged rescan, and carries first-seen", async () => {
    const drifted = loadSnapshot("contoso-drifted");
    const t0 = drifted.collectedAt;
    const first = await recordScan(store, scan(drifted, t0));
    const open = first.findings.length;
    expect(open).toBeGreaterThan(0);
    expect(first.transitions.map((t) => t.transition)).toEqual(Array.from({ length: open }, () => "opened"));
    expect(first.previous).toBeUndefined();

    const t1 = new Date(Date.parse(t0) + 3_600_000).toISOString();
    const second = await recordScan(store, scan(loadSnapshot("contoso-drifted"), t1));
    expect(second.previous?.scanId).toBe(first.scanId);
    // time-based findings may change their message, not their state: no transition
    expect(second.transitions).toEqual([]);
    expect(second.findings.map((f) => f.firstSeen)).toEqual(first.findings.map(() => t0));
  });

  it("resolves a finding once its drift is fixed, and opens it again later with a new first-seen", async () => {
    // someone switches purge protection off…
    const broken = () => {
      const snapshot = loadSnapshot("contoso-drifted");
      for (const hsm of snapshot.managedHsms) if (hsm.properties) hsm.properties.enablePurgeProtection = false;
      return snapshot;
    };
    const t0 = loadSnapshot("contoso-drifted").collectedAt;
    const first = await recordScan(store, scan(broken(), t0));
    // …and back on
    const t1 = new Date(Date.parse(t0) + 3_600_000).toISOString();
    const second = await recordScan(store, scan(loadSnapshot("contoso-drifted"), t1));
    const resolved = second.transitions.filter((t) => t.transition === "resolved");
    expect(resolved.map((t) => t.controlId)).toEqual(["hsm_purge_protection_enabled"]);
    expect(resolved[0]).toMatchObject({ status: "PASS", previousStatus: "FAIL", firstSeen: t0, scanId: second.scanId });
    expect(second.transitions.filter((t) => t.transition !== "resolved")).toEqual([]);
    expect(first.findings.some((f) => f.fingerprint === resolved[0]?.fingerprint)).toBe(true);

    const t2 = new Date(Date.parse(t0) + 7_200_000).toISOString();
    const third = await recordScan(store, scan(broken(), t2));
    expect(third.transitions.map((t) => `${t.transition} ${t.controlId}`)).toEqual(["opened hsm_purge_protection_enabled"]);
    expect(third.findings.find((f) => f.fingerprint === resolved[0]?.fingerprint)?.firstSeen).toBe(t2);
  });

  it("never overwrites a stored scan, and finds the scan in force at any time", async () => {
    const drifted = loadSnapshot("contoso-drifted");
    const t0 = drifted.collectedAt;
    const t1 = new Date(Date.parse(t0) + 3_600_000).toISOString();
    const a = await recordScan(store, scan(drifted, t0));
    const b = await recordScan(store, scan(loadSnapshot("contoso-reference"), t1));
    // the same scan recorded again changes nothing
    const again = await recordScan(store, scan(loadSnapshot("contoso-reference"), t1));
    expect(again.findings).toEqual(b.findings);
    expect((await listScans(store)).map((s) => s.scanId)).toEqual([a.scanId, b.scanId]);
    expect((await scanAt(store, new Date(Date.parse(t0) - 1)))?.scanId).toBeUndefined();
    expect((await scanAt(store, new Date(t0)))?.scanId).toBe(a.scanId);
    expect((await scanAt(store, new Date(Date.parse(t1) - 1)))?.scanId).toBe(a.scanId);
    expect((await scanAt(store, new Date(Date.parse(t1) + 86_400_000)))?.scanId).toBe(b.scanId);
    expect((await readReport(store, a.scanId)).generatedAt).toBe(t0);
  });

  it("deletes scans past retention, findings record first, and always keeps the newest", async () => {
    const t0 = loadSnapshot("contoso-drifted").collectedAt;
    const day = 86_400_000;
    const at = (days: number) => new Date(Date.parse(t0) + days * day).toISOString();
    const old = await recordScan(store, scan(loadSnapshot("contoso-drifted"), at(0)));
    const middle = await recordScan(store, scan(loadSnapshot("contoso-drifted"), at(10)));
    const newest = await recordScan(store, scan(loadSnapshot("contoso-reference"), at(20)));
    // a crash half-way through an earlier prune left an old scan's report without its findings record
    await store.delete(`scans/${old.scanId}/findings.json`);
    expect((await store.list(`scans/${old.scanId}/`)).length).toBe(2);

    expect(await pruneScans(store, new Date(at(25)), 10)).toEqual([old.scanId, middle.scanId]);
    expect((await listScans(store)).map((s) => s.scanId)).toEqual([newest.scanId]);
    expect(await store.list(`scans/${old.scanId}/`)).toEqual([]);
    expect(await store.list(`scans/${middle.scanId}/`)).toEqual([]);

    // far past retention, the newest scan stays the evidence in force
    expect(await pruneScans(store, new Date(at(400)), 1)).toEqual([]);
    expect((await listScans(store)).map((s) => s.scanId)).toEqual([newest.scanId]);
    expect((await store.list(`scans/${newest.scanId}/`)).length).toBe(3);
  });

  it("fingerprints a (control, resource) pair whatever the id's case", () => {
    expect(findingFingerprint("c", "/Subscriptions/X")).toBe(findingFingerprint("c", "/subscriptions/x"));
    expect(findingFingerprint("c", "/a")).not.toBe(findingFingerprint("d", "/a"));
  });
});
