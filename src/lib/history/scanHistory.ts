import type { ComplianceReport } from "../compliance/evaluate.js";
import type { EstateSnapshot } from "../estate/snapshot.js";
import type { StateStore } from "../state/stateStore.js";
import { findingsOf, type FindingRecord } from "./findings.js";
import { findingTransitions, type FindingTransition } from "./transitions.js";

/**
 * The evidence history in the state store: every scan under a time-ordered name, written once and never
 * overwritten — `scans/<yyyymmddThhmmssmmmZ>-<snapshot sha 12>/findings.json` (the open findings with their first
 * seen times: small, read to compute the next scan's transitions), `report.json` and `snapshot.json`.
 */
const PREFIX = "scans/";

export interface StoredScan {
  scanId: string;
  scannedAt: string;
}

export interface RecordedScan extends StoredScan {
  findings: FindingRecord[];
  /** Against the scan before it (every open finding is "opened" for the first scan). */
  transitions: FindingTransition[];
  /** The scan compared with, if any. */
  previous?: StoredScan;
}

export function scanIdOf(report: ComplianceReport): string {
  const t = new Date(report.generatedAt).toISOString().replace(/[-:.]/g, "");
  return `${t}-${report.snapshot.sha256.slice(0, 12)}`;
}

function scannedAtOf(scanId: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-/.exec(scanId);
  if (!m) throw new Error(`${scanId} is not a scan id`);
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`;
}

/** Stored scans, oldest first. */
export async function listScans(store: StateStore): Promise<StoredScan[]> {
  const ids = new Set<string>();
  for (const name of await store.list(PREFIX)) {
    const m = /^scans\/([^/]+)\/findings\.json$/.exec(name);
    if (m) ids.add(m[1] as string);
  }
  return [...ids].sort().map((scanId) => ({ scanId, scannedAt: scannedAtOf(scanId) }));
}

/** The scan in force at `at`: the last one made at or before it. */
export async function scanAt(store: StateStore, at: Date): Promise<StoredScan | undefined> {
  const scans = await listScans(store);
  let found: StoredScan | undefined;
  for (const s of scans) if (Date.parse(s.scannedAt) <= at.getTime()) found = s;
  return found;
}

export async function readFindings(store: StateStore, scanId: string): Promise<FindingRecord[]> {
  const item = await store.get(`${PREFIX}${scanId}/findings.json`);
  if (!item) throw new Error(`scan ${scanId} has no findings record`);
  return (JSON.parse(item.body) as { findings: FindingRecord[] }).findings;
}

export async function readReport(store: StateStore, scanId: string): Promise<ComplianceReport> {
  const item = await store.get(`${PREFIX}${scanId}/report.json`);
  if (!item) throw new Error(`scan ${scanId} has no report`);
  return JSON.parse(item.body) as ComplianceReport;
}

/**
 * Records a scan: its findings (first-seen carried from the latest earlier scan) and the transitions since that
 * scan. The report and snapshot are written first and the findings last, so a scan is listed only once whole.
 * Recording the same scan again writes nothing and returns what was recorded.
 */
export async function recordScan(store: StateStore, scan: { report: ComplianceReport; snapshot: EstateSnapshot }): Promise<RecordedScan> {
  const scanId = scanIdOf(scan.report);
  const scannedAt = scan.report.generatedAt;
  const earlier = (await listScans(store)).filter((s) => s.scanId < scanId);
  const previous = earlier.at(-1);
  const previousFindings = previous ? await readFindings(store, previous.scanId) : undefined;
  const findings = findingsOf(scan.report, previousFindings, scannedAt);
  const base = `${PREFIX}${scanId}/`;
  await store.create(`${base}snapshot.json`, JSON.stringify(scan.snapshot));
  await store.create(`${base}report.json`, JSON.stringify(scan.report));
  const created = await store.create(`${base}findings.json`, JSON.stringify({ scanId, scannedAt, previous: previous?.scanId ?? null, findings }));
  const kept = created ? findings : await readFindings(store, scanId);
  return { scanId, scannedAt, findings: kept, transitions: findingTransitions(previousFindings, kept, { scanId, scannedAt }), ...(previous ? { previous } : {}) };
}

/**
 * Deletes the stored scans made before `now - retentionDays`, always keeping the newest one (a quiet estate's last
 * scan stays the evidence in force). A scan's findings record goes first, so a scan half deleted by a crash is no
 * longer listed, and its leftovers are deleted by the next prune. Returns the scan ids deleted.
 */
export async function pruneScans(store: StateStore, now: Date, retentionDays: number): Promise<string[]> {
  const cutoff = now.getTime() - retentionDays * 86_400_000;
  const names = await store.list(PREFIX);
  const listed = await listScans(store);
  const newest = listed.at(-1)?.scanId;
  const byScan = new Map<string, string[]>();
  for (const name of names) {
    const scanId = /^scans\/([^/]+)\//.exec(name)?.[1];
    if (scanId === undefined || scanId === newest) continue;
    let scannedAt: number;
    try {
      scannedAt = Date.parse(scannedAtOf(scanId));
    } catch {
      continue; // not a name this history wrote: leave it alone
    }
    if (scannedAt >= cutoff) continue;
    byScan.set(scanId, [...(byScan.get(scanId) ?? []), name]);
  }
  const deleted: string[] = [];
  for (const [scanId, files] of byScan) {
    const ordered = [...files].sort((a, b) => Number(b.endsWith("/findings.json")) - Number(a.endsWith("/findings.json")));
    for (const name of ordered) await store.delete(name);
    deleted.push(scanId);
  }
  return deleted.sort();
}

export async function readScanSnapshot(store: StateStore, scanId: string): Promise<EstateSnapshot> {
  const item = await store.get(`${PREFIX}${scanId}/snapshot.json`);
  if (!item) throw new Error(`scan ${scanId} has no snapshot`);
  return JSON.parse(item.body) as EstateSnapshot;
}
