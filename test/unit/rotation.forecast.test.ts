import { describe, expect, it } from "vitest";
import type { EstateSnapshot } from "../../src/lib/estate/snapshot.js";
import { keyForecastDetails, keyForecasts, type KeyForecast } from "../../src/lib/rotation/forecast.js";
import { contosoHsm, contosoPolicy, loadSnapshot } from "../support/snapshots.js";

const NOW = new Date("2026-11-28T00:00:00.000Z");
const DAY_MS = 86_400_000;
const policy = contosoPolicy();

function key(snapshot: EstateSnapshot, name: string) {
  const found = contosoHsm(snapshot).keys?.find((k) => k.name === name);
  if (!found) throw new Error(`no key ${name}`);
  return found;
}

function forecastOf(snapshot: EstateSnapshot, name: string, now = NOW): KeyForecast {
  const found = keyForecasts(snapshot, policy, now).find((f) => f.keyName === name);
  if (!found) throw new Error(`no forecast for ${name}`);
  return found;
}

function day(iso: string, plusDays: number): string {
  return new Date(Date.parse(iso) + plusDays * DAY_MS).toISOString();
}

describe("keyForecasts", () => {
  it("forecasts every configured key of the reference estate at the policy's cadence", () => {
    const forecasts = keyForecasts(loadSnapshot(), policy, NOW);
    expect(forecasts.map((f) => f.keyName)).toEqual(["Contoso-SQLMI-CMK", "Contoso-DISK-CMK", "Contoso-STORAGE-CMK"]);
    const disk = forecasts[1];
    // Created 2026-11-08, rotateAfter P180D (expiry 2027-11-08 less notifyBefore P30D is later).
    const due = day("2026-11-08T00:00:00.000Z", 180);
    expect(disk).toEqual({
      hsmId: policy.managedHsms[0]?.resourceId,
      keyName: "Contoso-DISK-CMK",
      currentVersion: "94997bdafc619c1e407363537debd449",
      nextRotationDue: due,
      versionCount: 2,
      // 98 versions to go: the first at the next rotation, then one every 180 days.
      versionCapReachedOn: day(due, 97 * 180),
      consumersExpiringBeforeNextRotation: [],
    });
  });

  it("takes the expiry less notifyBefore when that comes first, and now for an overdue key", () => {
    const snapshot = loadSnapshot();
    const k = key(snapshot, "Contoso-SQLMI-CMK");
    const current = k.versions?.find((v) => v.version === k.currentVersion);
    if (!current) throw new Error("no current version");
    current.expiresOn = k.expiresOn = "2027-01-27T00:00:00.000Z";
    expect(forecastOf(snapshot, "Contoso-SQLMI-CMK").nextRotationDue).toBe("2026-12-28T00:00:00.000Z");

    const later = new Date("2027-06-01T00:00:00.000Z");
    const overdue = forecastOf(loadSnapshot(), "Contoso-DISK-CMK", later);
    expect(overdue.nextRotationDue).toBe(day("2026-11-08T00:00:00.000Z", 180));
    // The cap is counted from the next run (now), not from a due date in the past.
    expect(overdue.versionCapReachedOn).toBe(day(later.toISOString(), 97 * 180));
  });

  it("lists the consumers on a version that expires before the next rotation, and not the others", () => {
    const snapshot = loadSnapshot();
    const k = key(snapshot, "Contoso-DISK-CMK");
    const old = k.versions?.[0];
    if (!old) throw new Error("no old version");
    old.expiresOn = "2027-03-01T00:00:00.000Z";
    const des = snapshot.consumers.diskEncryptionSets.find((d) => d.name === "des-contoso-southindia");
    if (!des?.keyReference) throw new Error("no DES");
    des.keyReference = { ...des.keyReference, url: `${k.id}/${old.version}`, version: old.version };
    expect(forecastOf(snapshot, "Contoso-DISK-CMK").consumersExpiringBeforeNextRotation).toEqual([
      { resourceId: des.resourceId, resourceName: "des-contoso-southindia", version: old.version, expires: "2027-03-01T00:00:00.000Z" },
    ]);
  });

  it("counts a versionless consumer as on the current version", () => {
    const snapshot = loadSnapshot();
    const k = key(snapshot, "Contoso-STORAGE-CMK");
    // A policy that rotates after the version expires: every consumer of the current version is caught out.
    const lax = structuredClone(policy);
    const storageKey = lax.managedHsms[0]?.keys.find((p) => p.name === "Contoso-STORAGE-CMK");
    if (!storageKey) throw new Error("no storage key policy");
    storageKey.rotation = { ...storageKey.rotation, rotateAfter: { iso: "P400D", days: 400 }, notifyBefore: { iso: "P0D", days: 0 } };
    const storage = keyForecasts(snapshot, lax, NOW).find((f) => f.keyName === "Contoso-STORAGE-CMK");
    expect(storage?.consumersExpiringBeforeNextRotation).toEqual([
      { resourceId: snapshot.consumers.storageAccounts[0]?.resourceId, resourceName: "contosoprodcmkst01", version: k.currentVersion, expires: "2027-11-08T00:00:00.000Z" },
    ]);
  });

  it("gives the creation of the newest version as the cap date once the key is at the cap", () => {
    const snapshot = loadSnapshot();
    const k = key(snapshot, "Contoso-DISK-CMK");
    const template = k.versions?.[0];
    if (!template) throw new Error("no version");
    k.versions = Array.from({ length: 100 }, (_, i) => ({ ...template, version: `v${i}`, id: `${k.id}/v${i}`, createdOn: day("2020-01-01T00:00:00.000Z", i * 28) }));
    expect(forecastOf(snapshot, "Contoso-DISK-CMK")).toMatchObject({ versionCount: 100, versionCapReachedOn: day("2020-01-01T00:00:00.000Z", 99 * 28) });
  });

  it("leaves what it cannot read null, and says which consumers' versions it could not see", () => {
    const snapshot = loadSnapshot();
    const k = key(snapshot, "Contoso-DISK-CMK");
    k.versions = null;
    const des = snapshot.consumers.diskEncryptionSets[0];
    if (!des?.keyReference) throw new Error("no DES");
    des.keyReference = { ...des.keyReference, version: "f6ffed80276011da401b0c6e393df4f8" };
    const detail = keyForecastDetails({ snapshot, policy, now: NOW }).find((d) => d.forecast.keyName === "Contoso-DISK-CMK");
    expect(detail?.forecast).toMatchObject({ versionCount: null, versionCapReachedOn: null, nextRotationDue: day("2026-11-08T00:00:00.000Z", 180) });
    expect(detail?.consumersUnknown).toEqual([{ resourceId: des.resourceId, resourceName: des.name, version: "f6ffed80276011da401b0c6e393df4f8" }]);

    const unread = loadSnapshot();
    contosoHsm(unread).keys = null;
    expect(keyForecasts(unread, policy, NOW).map((f) => [f.currentVersion, f.nextRotationDue, f.versionCount, f.versionCapReachedOn])).toEqual([
      [null, null, null, null],
      [null, null, null, null],
      [null, null, null, null],
    ]);

    const undated = loadSnapshot();
    const s = key(undated, "Contoso-SQLMI-CMK");
    s.createdOn = undefined;
    for (const v of s.versions ?? []) v.createdOn = undefined;
    expect(forecastOf(undated, "Contoso-SQLMI-CMK")).toMatchObject({ nextRotationDue: null, versionCount: 2, versionCapReachedOn: null });
  });
});
