import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadReportHistory, ScanNotFoundError } from "../../src/lib/history/reportHistory.js";
import { readFindings } from "../../src/lib/history/scanHistory.js";
import type { StateStore, StoredItem } from "../../src/lib/state/stateStore.js";
import { recordEstateStory, type EstateStory } from "../support/reportHistoryFixture.js";

let story: EstateStory;
beforeAll(async () => {
  story = await recordEstateStory();
});
afterAll(() => story?.close());

const ids = (): string[] => story.scans.map((s) => s.scan.scanId);
const summary = (h: { transitions: readonly { transition: string; controlId: string; scanId: string }[] }) =>
  h.transitions.map((t) => `${ids().indexOf(t.scanId)} ${t.transition} ${t.controlId}`);

/** A store that counts what is read through it. */
function counting(store: StateStore): { store: StateStore; gets: string[] } {
  const gets: string[] = [];
  return {
    gets,
    store: { ...store, description: store.description, get: async (name: string): Promise<StoredItem | undefined> => (gets.push(name), store.get(name)) },
  };
}

describe("loadReportHistory", () => {
  it("gives the shown scan's first-seen times and every transition up to it, oldest first", async () => {
    const last = ids().at(-1) as string;
    const history = await loadReportHistory(story.store, last);
    expect(history.scans.map((s) => s.scanId)).toEqual(ids());
    // in scan order; the key nearing expiry grows more severe as the days pass
    expect([...summary(history)].sort()).toEqual([
      "1 opened disks_des_current_version",
      "1 opened hsm_arm_key_management_disabled",
      "1 opened keys_days_to_expiry",
      "1 opened keys_estate_error_state",
      "1 opened keys_estate_error_state",
      "1 opened keys_estate_error_state",
      "1 opened rbac_key_management_crypto_user",
      "1 opened rbac_service_identity_key_scoped",
      "1 opened rbac_unexpected_principals",
      "3 opened hsm_purge_protection_enabled",
      "3 resolved disks_des_current_version",
      "3 severityChanged keys_days_to_expiry",
    ]);
    expect(history.transitions.map((t) => ids().indexOf(t.scanId))).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3]);
    expect(summary(history).filter((t) => t.startsWith("1 opened"))).toHaveLength(9);

    const findings = await readFindings(story.store, last);
    expect(history.firstSeen.size).toBe(findings.length);
    const t1 = story.scans[1]!.scan.scannedAt;
    const t3 = story.scans[3]!.scan.scannedAt;
    const seen = findings.map((f) => `${f.controlId} ${history.firstSeen.get(f.fingerprint) ?? "-"}`).sort();
    expect(seen).toContain(`hsm_purge_protection_enabled ${t3}`);
    expect(seen).toContain(`keys_days_to_expiry ${t1}`);
    expect(seen.some((s) => s.startsWith("disks_des_current_version"))).toBe(false);
  });

  it("stops at the scan asked for, and a window compares its first scan with the one before it", async () => {
    const history = await loadReportHistory(story.store, ids()[2] as string, { limit: 1 });
    expect(history.scans.map((s) => s.scanId)).toEqual([ids()[2]]);
    // scan 2 repeats scan 1: nothing changed, and nothing is shown as newly opened
    expect(history.transitions).toEqual([]);
    expect(history.firstSeen.size).toBe(9);

    const two = await loadReportHistory(story.store, ids()[1] as string, { limit: 2 });
    expect(two.scans.map((s) => s.scanId)).toEqual(ids().slice(0, 2));
    expect(two.transitions).toHaveLength(9);
    expect(summary(two).filter((t) => !t.startsWith("1 opened"))).toEqual([]);
  });

  it("reads findings files only: limit + 1 of them, never a report or a snapshot", async () => {
    const { store, gets } = counting(story.store);
    await loadReportHistory(store, ids().at(-1) as string, { limit: 2 });
    expect(gets.sort()).toEqual([ids()[1], ids()[2], ids()[3]].map((id) => `scans/${id}/findings.json`));
  });

  it("refuses a scan that is not stored and a limit that is not a positive integer", async () => {
    await expect(loadReportHistory(story.store, "20990101T000000000Z-000000000000")).rejects.toThrow(ScanNotFoundError);
    await expect(loadReportHistory(story.store, ids()[0] as string, { limit: 0 })).rejects.toThrow("limit must be a positive integer");
  });
});
