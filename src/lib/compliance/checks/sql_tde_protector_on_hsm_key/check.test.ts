import { describe, expect, it } from "vitest";
import { parseKeyReference } from "../../../estate/keyReference.js";
import { contextFor, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const mi = (snapshot: ReturnType<typeof loadSnapshot>) => snapshot.consumers.sqlManagedInstances![0]!;

describe("sql_tde_protector_on_hsm_key", () => {
  it("passes on the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS"]);
    expect(results[0]?.evidence.expected).toEqual({ serverKeyType: "AzureKeyVault", key: "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-SQLMI-CMK" });
  });

  it("passes on the drifted estate (no SQL drift planted)", () => {
    expect(check(contextFor(loadSnapshot("contoso-drifted"))).map((r) => r.status)).toEqual(["PASS"]);
  });

  it("fails when the protector is another key of the HSM", () => {
    const snapshot = loadSnapshot();
    const url = "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-STORAGE-CMK/fe8a4f0a6020111e8ce29364923746ef";
    Object.assign(mi(snapshot).encryptionProtector!, { uri: url, keyReference: parseKeyReference(url) });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.resourceId).toBe(mi(snapshot).resourceId);
    expect(result?.evidence.observed).toEqual({ serverKeyType: "AzureKeyVault", key: url });
  });

  it("fails when the protector is service-managed", () => {
    const snapshot = loadSnapshot();
    mi(snapshot).encryptionProtector = { serverKeyName: "ServiceManaged", serverKeyType: "ServiceManaged", keyReference: null };
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("ServiceManaged");
  });

  it("is UNKNOWN when the protector could not be read", () => {
    const snapshot = loadSnapshot();
    mi(snapshot).encryptionProtector = null;
    pushError(snapshot, { part: "consumers.sqlManagedInstance.encryptionProtector", resourceId: mi(snapshot).resourceId, operation: "managedInstanceEncryptionProtectors.get", statusCode: 403, code: "AuthorizationFailed", message: "denied" });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.code).toBe("AuthorizationFailed");
  });

  it("is one UNKNOWN for the subscription when the instances could not be listed", () => {
    const snapshot = loadSnapshot();
    snapshot.consumers.sqlManagedInstances = [];
    const scope = `/subscriptions/${snapshot.subscriptions[0]}`;
    pushError(snapshot, { part: "consumers.sqlManagedInstances", resourceId: scope, operation: "managedInstances.list", statusCode: 403, code: "AuthorizationFailed", message: "denied" });
    const results = check(contextFor(snapshot));
    expect(results.map((r) => [r.status, r.resourceId])).toEqual([["UNKNOWN", scope]]);
    expect(results[0]?.evidence.collectionErrors?.[0]?.operation).toBe("managedInstances.list");
  });
});
