/** Fixture validation and time offsets (no network). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { addDuration, parseDuration, resolveTime } from "./duration.js";
import { FIXTURE_DIR, FixtureError, loadFixture, parseFixture } from "./fixture.js";
import { materialise } from "./backend/materialise.js";

const reference = (): Record<string, unknown> => JSON.parse(readFileSync(join(FIXTURE_DIR, "contoso-reference.json"), "utf8"));

describe("fixture validation", () => {
  it("accepts both built-in fixtures", async () => {
    expect((await loadFixture("contoso-reference")).drift).toEqual([]);
    expect((await loadFixture("contoso-drifted")).drift.map((d) => d.id)).toEqual([
      "rbac-keymgmt-crypto-officer",
      "rbac-storage-identity-at-root",
      "des-centralindia-pinned-old-version",
      "storage-cmk-expires-soon",
      "hsm-private-endpoint-rejected",
      "sqlmi-provisioning-failed",
      "des-southindia-auto-rotation-error",
      "hsm-arm-key-management-allowed",
    ]);
  });

  it("names the offending field", () => {
    const bad = reference();
    (bad.managedHsms as { keys: { versions: { created: string }[] }[] }[])[0]!.keys[0]!.versions[0]!.created = "yesterday";
    expect(() => parseFixture(bad)).toThrow(/managedHsms\.0\.keys\.0\.versions\.0\.created/);
    const unknownKey = reference();
    (unknownKey.diskEncryptionSets as { activeKey: string }[])[0]!.activeKey = "Contoso-PROD-HSM/Nope@latest";
    expect(() => parseFixture(unknownKey)).toThrow(FixtureError);
    expect(() => parseFixture(unknownKey)).toThrow(/diskEncryptionSets\.0\.activeKey/);
    expect(() => parseFixture({ ...reference(), extra: 1 })).toThrow(/extra/);
  });

  it("rejects an unknown built-in name", async () => {
    await expect(loadFixture("no-such-fixture")).rejects.toThrow(/no built-in fixture/);
  });
});

describe("time expressions", () => {
  const now = new Date("2026-11-28T12:00:00Z");
  it("resolves offsets from the clock and ISO instants", () => {
    expect(resolveTime("-P200D", now)?.toISOString()).toBe("2026-05-12T12:00:00.000Z");
    expect(resolveTime("+P5D", now)?.toISOString()).toBe("2026-12-03T12:00:00.000Z");
    expect(resolveTime("2025-01-01T00:00:00Z", now)?.toISOString()).toBe("2025-01-01T00:00:00.000Z");
    expect(resolveTime("P5D", now)).toBeUndefined();
    expect(addDuration(now, "P1Y").toISOString()).toBe("2027-11-28T12:00:00.000Z");
    expect(parseDuration("PT")).toBeUndefined();
  });

  it("materialises versions relative to the clock with exp = created + validity", async () => {
    const state = materialise({ port: 1234 }, await loadFixture("contoso-drifted"), now);
    const key = state.hsms.get("contoso-prod-hsm")!.keys.get("contoso-storage-cmk")!;
    expect(key.versions.map((v) => v.created.toISOString())).toEqual(["2026-05-12T12:00:00.000Z", "2026-11-08T12:00:00.000Z"]);
    expect(key.versions[0]!.expires?.toISOString()).toBe("2027-05-12T12:00:00.000Z");
    expect(key.versions[1]!.expires?.toISOString()).toBe("2026-12-03T12:00:00.000Z");
  });
});
