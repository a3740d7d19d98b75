import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import type { EstateSnapshot } from "../../../estate/snapshot.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

function withDiskVersions(count: number): EstateSnapshot {
  const snapshot = loadSnapshot();
  const key = contosoHsm(snapshot).keys!.find((k) => k.name === "Contoso-DISK-CMK")!;
  const template = key.versions![0]!;
  key.versions = Array.from({ length: count }, (_, i) => ({ ...template, version: `v${i}`, id: `${key.id}/v${i}` }));
  return snapshot;
}

describe("keys_version_headroom", () => {
  it("passes on the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS", "PASS", "PASS"]);
    expect(results[0]?.evidence).toMatchObject({ observed: { versions: 2, remaining: 98 }, expected: { versionsBelow: 90, maxKeyVersions: 100 } });
  });

  it("fails within the headroom, and critical at the cap", () => {
    expect(check(contextFor(withDiskVersions(89)))[1]?.status).toBe("PASS");
    expect(check(contextFor(withDiskVersions(90)))[1]).toMatchObject({ status: "FAIL", severity: "high" });
    expect(check(contextFor(withDiskVersions(100)))[1]).toMatchObject({ status: "FAIL", severity: "critical" });
  });

  it("is UNKNOWN when the versions could not be listed", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).keys!.find((k) => k.name === "Contoso-DISK-CMK")!.versions = null;
    pushError(snapshot, {
      part: "key.versions",
      resourceId: "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-DISK-CMK",
      operation: "keys.listPropertiesOfKeyVersions",
      statusCode: 429,
      code: "Throttled",
      message: "slow down",
    });
    const result = check(contextFor(snapshot))[1];
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.code).toBe("Throttled");
  });
});
