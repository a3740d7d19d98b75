import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, contosoPolicy, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import type { EstateSnapshot } from "../../../estate/snapshot.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

function diskKey(snapshot: EstateSnapshot) {
  const key = contosoHsm(snapshot).keys?.find((k) => k.name === "Contoso-DISK-CMK");
  if (!key) throw new Error("no disk key");
  return key;
}

function diskResult(snapshot: EstateSnapshot, options: Parameters<typeof contextFor>[1] = {}) {
  return check(contextFor(snapshot, options)).find((r) => r.resourceName === "Contoso-DISK-CMK");
}

describe("keys_rotation_forecast", () => {
  it("passes on the reference estate, with the forecast as evidence", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS", "PASS", "PASS"]);
    expect(results[1]?.evidence.observed).toMatchObject({ nextRotationDue: "2027-05-07T00:00:00.000Z", versionCount: 2, consumersExpiringBeforeNextRotation: [] });
  });

  it("fails when a consumer is on a version that expires before the next rotation", () => {
    const snapshot = loadSnapshot();
    const key = diskKey(snapshot);
    const old = key.versions?.[0];
    const des = snapshot.consumers.diskEncryptionSets[0];
    if (!old || !des?.keyReference) throw new Error("fixture changed");
    old.expiresOn = "2027-02-01T00:00:00.000Z";
    des.keyReference = { ...des.keyReference, url: `${key.id}/${old.version}`, version: old.version };
    const result = diskResult(snapshot);
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain(`${des.name} (version ${old.version}, expires 2027-02-01T00:00:00.000Z)`);
  });

  it("fails when the version cap is reached within the horizon, and passes when the horizon is shorter", () => {
    const snapshot = loadSnapshot();
    const key = diskKey(snapshot);
    const template = key.versions?.[1];
    if (!template) throw new Error("fixture changed");
    // 98 versions: two rotations left, the last 180 days after the next (2027-05-07).
    key.versions = [...Array.from({ length: 97 }, (_, i) => ({ ...template, version: `v${i}`, id: `${key.id}/v${i}` })), template];
    const result = diskResult(snapshot);
    expect(result).toMatchObject({ status: "FAIL", evidence: { observed: { versionCount: 98, versionCapReachedOn: "2027-11-03T00:00:00.000Z" } } });
    expect(result?.message).toMatch(/reaches the 100-version cap on 2027-11-03/);

    const policy = contosoPolicy();
    policy.thresholds.versionCapForecastDays = 300;
    expect(diskResult(snapshot, { policy })?.status).toBe("PASS");
  });

  it("is UNKNOWN when the versions could not be listed", () => {
    const snapshot = loadSnapshot();
    diskKey(snapshot).versions = null;
    pushError(snapshot, {
      part: "key.versions",
      resourceId: "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-DISK-CMK",
      operation: "keys.listPropertiesOfKeyVersions",
      statusCode: 403,
      code: "Forbidden",
      message: "denied",
    });
    const result = diskResult(snapshot);
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.code).toBe("Forbidden");
  });

  it("is UNKNOWN when a consumer list could not be read, and when the key could not be read", () => {
    const snapshot = loadSnapshot();
    pushError(snapshot, {
      part: "consumers.diskEncryptionSets",
      resourceId: "/subscriptions/5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10",
      operation: "diskEncryptionSets.list",
      statusCode: 403,
      code: "AuthorizationFailed",
      message: "denied",
    });
    expect(diskResult(snapshot)?.status).toBe("UNKNOWN");

    const unread = loadSnapshot();
    contosoHsm(unread).keys = null;
    pushError(unread, { part: "keys", resourceId: "https://contoso-prod-hsm.managedhsm.azure.net/keys", operation: "keys.listPropertiesOfKeys", statusCode: 403, code: "Forbidden", message: "denied" });
    expect(check(contextFor(unread)).map((r) => r.status)).toEqual(["UNKNOWN", "UNKNOWN", "UNKNOWN"]);
  });
});
