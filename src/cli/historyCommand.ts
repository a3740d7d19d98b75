import { SEVERITIES } from "../lib/compliance/types.js";
import type { FindingRecord } from "../lib/history/findings.js";
import { parseAt } from "../lib/history/parseAt.js";
import { listScans, readFindings, scanAt, type StoredScan } from "../lib/history/scanHistory.js";
import { findingTransitions } from "../lib/history/transitions.js";
import type { ParsedArgs } from "./args.js";
import type { RotationIo, RotationServices } from "./rotationCommands.js";
import { UsageError } from "./usageError.js";

const DEFAULT_LIMIT = 20;

export interface ScanListing extends StoredScan {
  open: number;
  bySeverity: Record<string, number>;
  opened: number;
  resolved: number;
  changed: number;
}

/** `keywarden history`: the stored scans, newest first, with what changed in each; `--at`: the scan in force then. */
export async function historyCommand(args: ParsedArgs, io: RotationIo, deps: { services(): Promise<RotationServices> }): Promise<number> {
  const json = args.options.has("json");
  const limit = limitOf(args);
  const atValue = args.options.get("at");
  const { store } = await deps.services();

  if (typeof atValue === "string") {
    const at = parseAt(atValue);
    if ("error" in at) throw new UsageError(`--at: ${at.error}`);
    const scan = await scanAt(store, at);
    if (!scan) {
      io.stderr(`No stored scan in ${store.description} was made at or before ${at.toISOString()}.\n`);
      return 1;
    }
    const findings = await readFindings(store, scan.scanId);
    io.stdout(json ? `${JSON.stringify({ ...scan, findings }, null, 2)}\n` : renderScanInForce(scan, findings, at));
    return 0;
  }

  const all = await listScans(store);
  const shown = all.slice(-limit).reverse();
  const listings: ScanListing[] = [];
  // Each scan is compared with the one stored before it, as the timer compared them when it alerted.
  const cache = new Map<string, FindingRecord[]>();
  const findingsOf = async (scanId: string) => cache.get(scanId) ?? cache.set(scanId, await readFindings(store, scanId)).get(scanId) ?? [];
  // `shown` is the tail of `all`, newest first: the scan at shown[i] is all[all.length - 1 - i].
  for (const [i, scan] of shown.entries()) {
    const index = all.length - 1 - i;
    const before = index > 0 ? await findingsOf((all[index - 1] as StoredScan).scanId) : undefined;
    const findings = await findingsOf(scan.scanId);
    const changes = findingTransitions(before, findings, scan);
    const bySeverity: Record<string, number> = {};
    for (const f of findings) bySeverity[f.severity] = (bySeverity[f.severity] ?? 0) + 1;
    listings.push({
      ...scan,
      open: findings.length,
      bySeverity,
      opened: changes.filter((c) => c.transition === "opened").length,
      resolved: changes.filter((c) => c.transition === "resolved").length,
      changed: changes.filter((c) => c.transition === "severityChanged" || c.transition === "statusChanged").length,
    });
  }
  if (json) {
    io.stdout(`${JSON.stringify(listings, null, 2)}\n`);
    return 0;
  }
  if (all.length === 0) {
    io.stdout(`No stored scans in ${store.description} (the scan timer, "scan --emit" and the report's refresh=true store them).\n`);
    return 0;
  }
  const lines = listings.map((l) => {
    const severities = SEVERITIES.filter((s) => l.bySeverity[s]).map((s) => `${l.bySeverity[s]} ${s}`).join(", ");
    const changes = [l.opened ? `${l.opened} opened` : "", l.resolved ? `${l.resolved} resolved` : "", l.changed ? `${l.changed} changed` : ""].filter(Boolean).join(", ") || "no change";
    return `  ${l.scanId}  ${l.scannedAt}  ${String(l.open).padStart(4)} open${severities ? ` (${severities})` : ""}; ${changes}`;
  });
  io.stdout(`Stored scans in ${store.description}: ${shown.length} of ${all.length}, newest first:\n${lines.join("\n")}\n`);
  return 0;
}

function limitOf(args: ParsedArgs): number {
  const value = args.options.get("limit");
  if (value === undefined) return DEFAULT_LIMIT;
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--limit: "${String(value)}" is not a whole number of scans (1 or more)`);
  return n;
}

function renderScanInForce(scan: StoredScan, findings: readonly FindingRecord[], at: Date): string {
  const rank = (f: FindingRecord) => SEVERITIES.indexOf(f.severity);
  const rows = [...findings].sort((a, b) => rank(a) - rank(b) || a.controlId.localeCompare(b.controlId) || a.resourceName.localeCompare(b.resourceName));
  const head = `Scan in force at ${at.toISOString()}: ${scan.scanId} (${scan.scannedAt}), ${findings.length} open finding(s).\n`;
  if (rows.length === 0) return head;
  return `${head}${rows.map((f) => `  ${f.severity.padEnd(8)} ${f.status.padEnd(7)} ${f.controlId}  ${f.resourceName}  first seen ${f.firstSeen}`).join("\n")}\n`;
}
