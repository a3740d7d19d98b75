import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixedClock } from "../../src/lib/clock.js";
import { REGISTERED_CONTROLS } from "../../src/lib/compliance/checks/index.js";
import { evaluate, type ComplianceReport } from "../../src/lib/compliance/evaluate.js";
import { loadControls } from "../../src/lib/compliance/registry.js";
import type { EstateSnapshot } from "../../src/lib/estate/snapshot.js";
import { recordScan, type RecordedScan } from "../../src/lib/history/scanHistory.js";
import { createLocalDirectoryStore } from "../../src/lib/state/localDirectoryStore.js";
import type { StateStore } from "../../src/lib/state/stateStore.js";
import { contosoPolicy, loadSnapshot } from "./snapshots.js";

const DAY = 86_400_000;

/** The Contoso estate's story over three weeks: clean, then drifted, then one drift fixed and another found. */
export interface EstateStory {
  store: StateStore;
  scans: { scan: RecordedScan; report: ComplianceReport; snapshot: EstateSnapshot }[];
  /** The last scan's. */
  report: ComplianceReport;
  snapshot: EstateSnapshot;
  close(): void;
}

/** The DES left on an old key version in contoso-drifted, moved on to auto-rotation: that finding resolves. */
function desFixed(snapshot: EstateSnapshot): EstateSnapshot {
  for (const des of snapshot.consumers.diskEncryptionSets) {
    des.rotationToLatestKeyVersionEnabled = true;
  }
  return snapshot;
}

/** Purge protection switched off: a finding opened late in the story. */
function purgeProtectionOff(snapshot: EstateSnapshot): EstateSnapshot {
  for (const hsm of snapshot.managedHsms) if (hsm.properties) hsm.properties.enablePurgeProtection = false;
  return snapshot;
}

/**
 * Records four scans in a fresh local state store: the reference estate 21 days before the snapshots' time, the
 * drifted estate 14 and 7 days before it, and at its time the drifted estate with its DES fixed and purge
 * protection switched off.
 */
export async function recordEstateStory(): Promise<EstateStory> {
  const dir = mkdtempSync(join(tmpdir(), "kw-report-history-"));
  const store = createLocalDirectoryStore(dir, { clock: fixedClock("2026-12-01T00:00:00Z") });
  const policy = contosoPolicy();
  const controls = loadControls(REGISTERED_CONTROLS);
  const at = Date.parse(loadSnapshot("contoso-reference").collectedAt);
  const steps: [number, () => EstateSnapshot][] = [
    [-21, () => loadSnapshot("contoso-reference")],
    [-14, () => loadSnapshot("contoso-drifted")],
    [-7, () => loadSnapshot("contoso-drifted")],
    [0, () => purgeProtectionOff(desFixed(loadSnapshot("contoso-drifted")))],
  ];
  const scans: EstateStory["scans"] = [];
  for (const [days, make] of steps) {
    const snapshot = make();
    const now = new Date(at + days * DAY);
    snapshot.collectedAt = now.toISOString();
    const report = evaluate(snapshot, policy, controls, { now });
    scans.push({ scan: await recordScan(store, { report, snapshot }), report, snapshot });
  }
  const last = scans.at(-1);
  if (!last) throw new Error("no scans recorded");
  return { store, scans, report: last.report, snapshot: last.snapshot, close: () => rmSync(dir, { recursive: true, force: true }) };
}
