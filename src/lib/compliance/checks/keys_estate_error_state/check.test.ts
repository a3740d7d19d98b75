import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, hsmUnreadable, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import type { EstateSnapshot } from "../../../estate/snapshot.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const failures = (snapshot: EstateSnapshot) => check(contextFor(snapshot)).filter((r) => r.status === "FAIL");

describe("keys_estate_error_state", () => {
  it("passes every resource of the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    // The HSM, its two private endpoint connections, the SQL MI, two DES and the storage account.
    expect(results.map((r) => r.status)).toEqual(["PASS", "PASS", "PASS", "PASS", "PASS", "PASS", "PASS"]);
    expect(results.find((r) => r.resourceName === "contosoprodcmkst01")?.evidence.observed).toMatchObject({ provisioningState: "Succeeded" });
  });

  it("fails a DES reporting autoKeyRotationError although its key version is current", () => {
    const snapshot = loadSnapshot();
    const des = snapshot.consumers.diskEncryptionSets[0]!;
    des.autoKeyRotationError = { code: "KeyVaultAccessForbidden", message: "The identity cannot reach the key." };
    const [failed, ...more] = failures(snapshot);
    expect(more).toEqual([]);
    expect(failed).toMatchObject({ resourceId: des.resourceId, evidence: { observed: { autoKeyRotationError: { code: "KeyVaultAccessForbidden" } } } });
    expect(failed?.message).toContain("autoKeyRotationError KeyVaultAccessForbidden");
  });

  it("fails a failed provisioning state on the HSM, a SQL MI and a DES, and an Inaccessible SQL MI", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).properties!.provisioningState = "Failed";
    snapshot.consumers.sqlManagedInstances[0]!.state = "Inaccessible";
    snapshot.consumers.diskEncryptionSets[1]!.provisioningState = "failed";
    const failed = failures(snapshot);
    expect(failed.map((f) => f.resourceName)).toEqual(["Contoso-PROD-HSM", "contoso-sqlmi-01", snapshot.consumers.diskEncryptionSets[1]!.name]);
    expect(failed[1]?.message).toContain("Inaccessible");
    expect(failed[2]?.message).toContain("provisioningState is Failed");
  });

  it("fails a rejected or disconnected private endpoint connection", () => {
    const snapshot = loadSnapshot();
    const [first, second] = contosoHsm(snapshot).privateEndpointConnections!;
    first!.status = "Rejected";
    second!.status = "Disconnected";
    const failed = failures(snapshot);
    expect(failed.map((f) => f.evidence.observed)).toEqual([
      { status: "Rejected", provisioningState: "Succeeded" },
      { status: "Disconnected", provisioningState: "Succeeded" },
    ]);
    expect(failed[0]?.resourceName).toMatch(/ -> Contoso-PROD-HSM$/);
  });

  it("fails a storage account whose key version has expired, and not one whose version is still valid", () => {
    const snapshot = loadSnapshot();
    const sa = snapshot.consumers.storageAccounts[0]!;
    sa.currentVersionedKeyExpirationTimestamp = "2026-11-27T00:00:00.000Z";
    expect(failures(snapshot)[0]?.message).toContain("expired on 2026-11-27T00:00:00.000Z");
    sa.currentVersionedKeyExpirationTimestamp = "2026-11-29T00:00:00.000Z";
    expect(failures(snapshot)).toEqual([]);
  });

  it("is UNKNOWN where the HSM, its connections or a consumer list could not be read", () => {
    const snapshot = loadSnapshot();
    hsmUnreadable(snapshot);
    const hsm = contosoHsm(snapshot);
    hsm.privateEndpointConnections = null;
    pushError(snapshot, { part: "managedHsm.privateEndpointConnections", resourceId: hsm.resourceId, operation: "mhsmPrivateEndpointConnections.listByResource", statusCode: 429, code: "Throttled", message: "slow down" });
    snapshot.consumers.storageAccounts = [];
    pushError(snapshot, { part: "consumers.storageAccounts", resourceId: "/subscriptions/5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10", operation: "storageAccounts.list", statusCode: 403, code: "AuthorizationFailed", message: "denied" });
    const unknown = check(contextFor(snapshot)).filter((r) => r.status === "UNKNOWN");
    expect(unknown.map((u) => u.evidence.collectionErrors?.[0]?.code)).toEqual(["AuthorizationFailed", "Throttled", "AuthorizationFailed"]);
    expect(unknown[2]?.resourceName).toBe("subscription 5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10");
  });
});
