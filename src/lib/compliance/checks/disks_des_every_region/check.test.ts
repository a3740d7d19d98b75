import { describe, expect, it } from "vitest";
import { parseKeyReference } from "../../../estate/keyReference.js";
import { contextFor, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const centralIndia = (snapshot: ReturnType<typeof loadSnapshot>) => snapshot.consumers.diskEncryptionSets!.find((d) => d.location === "centralindia")!;

describe("disks_des_every_region", () => {
  it("passes for the primary and the extended region on the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => [r.status, r.resourceName])).toEqual([
      ["PASS", "Contoso-DISK-CMK in southindia"],
      ["PASS", "Contoso-DISK-CMK in centralindia"],
    ]);
  });

  it("still passes on the drifted estate: the pinned DES is bound to the key (its version is another control)", () => {
    expect(check(contextFor(loadSnapshot("contoso-drifted"))).map((r) => r.status)).toEqual(["PASS", "PASS"]);
  });

  it("fails for the extended region when its DES is missing, naming the region", () => {
    const snapshot = loadSnapshot();
    snapshot.consumers.diskEncryptionSets = snapshot.consumers.diskEncryptionSets!.filter((d) => d.location !== "centralindia");
    const results = check(contextFor(snapshot));
    expect(results.map((r) => r.status)).toEqual(["PASS", "FAIL"]);
    expect(results[1]?.message).toContain("centralindia");
    expect(results[1]?.evidence.observed).toEqual({ region: "centralindia", diskEncryptionSets: [] });
  });

  it("fails when the DES in the region is bound to another key", () => {
    const snapshot = loadSnapshot();
    const url = "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-STORAGE-CMK/fe8a4f0a6020111e8ce29364923746ef";
    Object.assign(centralIndia(snapshot), { activeKeyUrl: url, keyReference: parseKeyReference(url) });
    expect(check(contextFor(snapshot)).map((r) => r.status)).toEqual(["PASS", "FAIL"]);
  });

  it("is UNKNOWN for every region when the DES list could not be read", () => {
    const snapshot = loadSnapshot();
    snapshot.consumers.diskEncryptionSets = [];
    pushError(snapshot, { part: "consumers.diskEncryptionSets", resourceId: `/subscriptions/${snapshot.subscriptions[0]}`, operation: "diskEncryptionSets.list", statusCode: 403, code: "AuthorizationFailed", message: "denied" });
    const results = check(contextFor(snapshot));
    expect(results.map((r) => r.status)).toEqual(["UNKNOWN", "UNKNOWN"]);
    expect(results[0]?.evidence.collectionErrors?.[0]?.code).toBe("AuthorizationFailed");
  });
});
