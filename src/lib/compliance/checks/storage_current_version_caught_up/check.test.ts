import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, contosoPolicy, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const OLD = "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-STORAGE-CMK/2db033a515437d38d0df690ae260affd";
// The latest version (fe8a…) was created 2026-11-08T00:00Z; the snapshot was taken 2026-11-28.

function lagging() {
  const snapshot = loadSnapshot();
  snapshot.consumers.storageAccounts![0]!.currentVersionedKeyIdentifier = OLD;
  return snapshot;
}

describe("storage_current_version_caught_up", () => {
  it("passes on the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS"]);
    expect(results[0]?.evidence.expected).toEqual({
      currentVersionedKeyIdentifier: "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-STORAGE-CMK/fe8a4f0a6020111e8ce29364923746ef",
      orLatestCreatedWithinHours: 24,
    });
  });

  it("passes on the drifted estate", () => {
    expect(check(contextFor(loadSnapshot("contoso-drifted"))).map((r) => r.status)).toEqual(["PASS"]);
  });

  it("passes while the latest version is younger than the catch-up window", () => {
    const [result] = check(contextFor(lagging(), { now: "2026-11-08T23:00:00.000Z" }));
    expect(result?.status).toBe("PASS");
    expect(result?.message).toContain("23 h");
  });

  it("fails when the account still uses an older version after the window", () => {
    const snapshot = lagging();
    const [result] = check(contextFor(snapshot, { now: "2026-11-09T01:00:00.000Z" }));
    expect(result?.status).toBe("FAIL");
    expect(result?.resourceId).toBe(snapshot.consumers.storageAccounts![0]!.resourceId);
    expect(result?.evidence.observed).toMatchObject({ currentVersionedKeyIdentifier: OLD });
  });

  it("takes the window from thresholds.storageCatchUpHours", () => {
    const policy = contosoPolicy();
    policy.thresholds.storageCatchUpHours = 48;
    expect(check(contextFor(lagging(), { policy, now: "2026-11-09T01:00:00.000Z" }))[0]?.status).toBe("PASS");
  });

  it("is UNKNOWN when the key could not be read", () => {
    const snapshot = lagging();
    contosoHsm(snapshot).keys = null;
    pushError(snapshot, { part: "keys", resourceId: "https://contoso-prod-hsm.managedhsm.azure.net/keys", operation: "keys.listPropertiesOfKeys", statusCode: 403, code: "Forbidden", message: "denied" });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.code).toBe("Forbidden");
  });

  it("is UNKNOWN when the latest version's creation time is unknown", () => {
    const snapshot = lagging();
    const key = contosoHsm(snapshot).keys!.find((k) => k.name === "Contoso-STORAGE-CMK")!;
    key.versions = null;
    delete key.createdOn;
    pushError(snapshot, { part: "key.versions", resourceId: key.id, operation: "keys.listPropertiesOfKeyVersions", statusCode: 500, message: "boom" });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.operation).toBe("keys.listPropertiesOfKeyVersions");
  });
});
