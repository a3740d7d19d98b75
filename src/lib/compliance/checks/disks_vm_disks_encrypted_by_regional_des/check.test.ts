import { describe, expect, it } from "vitest";
import { contextFor, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const disk = (snapshot: ReturnType<typeof loadSnapshot>, name: string) => snapshot.consumers.disks!.find((d) => d.name === name)!;
const desId = (snapshot: ReturnType<typeof loadSnapshot>, location: string) => snapshot.consumers.diskEncryptionSets!.find((d) => d.location === location)!.resourceId;

describe("disks_vm_disks_encrypted_by_regional_des", () => {
  it("passes every disk of every in-scope VM on the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS", "PASS", "PASS", "PASS"]);
  });

  it("passes on the drifted estate (the pinned DES is still regional and bound to the key)", () => {
    expect(check(contextFor(loadSnapshot("contoso-drifted"))).map((r) => r.status)).toEqual(["PASS", "PASS", "PASS", "PASS"]);
  });

  it("fails a disk encrypted through the DES of another region", () => {
    const snapshot = loadSnapshot();
    const d = disk(snapshot, "contoso-dc-ci-01-datadisk-0");
    d.diskEncryptionSetId = desId(snapshot, "southindia");
    const results = check(contextFor(snapshot));
    expect(results.filter((r) => r.status === "FAIL").map((r) => r.resourceId)).toEqual([d.resourceId]);
    expect(results.find((r) => r.resourceId === d.resourceId)?.evidence.observed).toMatchObject({ location: "centralindia", diskEncryptionSetLocation: "southindia" });
  });

  it("fails a disk on platform-managed keys", () => {
    const snapshot = loadSnapshot();
    const d = disk(snapshot, "contoso-dc-si-01-osdisk");
    d.encryptionType = "EncryptionAtRestWithPlatformKey";
    delete d.diskEncryptionSetId;
    const result = check(contextFor(snapshot)).find((r) => r.resourceId === d.resourceId);
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("EncryptionAtRestWithPlatformKey");
  });

  it("is UNKNOWN for the subscription when its disks could not be listed (which VMs are in scope is unknown)", () => {
    const snapshot = loadSnapshot();
    snapshot.consumers.disks = [];
    snapshot.consumers.virtualMachines = [];
    pushError(snapshot, { part: "consumers.disks", resourceId: `/subscriptions/${snapshot.subscriptions[0]}`, operation: "disks.list", statusCode: 403, code: "AuthorizationFailed", message: "denied" });
    const results = check(contextFor(snapshot));
    expect(results.map((r) => [r.status, r.resourceId])).toEqual([["UNKNOWN", `/subscriptions/${snapshot.subscriptions[0]}`]]);
    expect(results[0]?.evidence.collectionErrors?.[0]?.operation).toBe("disks.list");
  });

  it("is UNKNOWN for the subscription when the VMs could not be listed", () => {
    const snapshot = loadSnapshot();
    snapshot.consumers.virtualMachines = [];
    pushError(snapshot, { part: "consumers.virtualMachines", resourceId: `/subscriptions/${snapshot.subscriptions[0]}`, operation: "virtualMachines.listAll", statusCode: 500, message: "boom" });
    const results = check(contextFor(snapshot));
    expect(results.map((r) => [r.status, r.resourceId])).toEqual([["UNKNOWN", `/subscriptions/${snapshot.subscriptions[0]}`]]);
    expect(results[0]?.evidence.collectionErrors).toHaveLength(1);
  });
});
