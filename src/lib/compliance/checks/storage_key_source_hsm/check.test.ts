import { describe, expect, it } from "vitest";
import { parseKeyReference } from "../../../estate/keyReference.js";
import { contextFor, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const account = (snapshot: ReturnType<typeof loadSnapshot>) => snapshot.consumers.storageAccounts![0]!;

describe("storage_key_source_hsm", () => {
  it("passes on the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS"]);
    expect(results[0]?.evidence).toMatchObject({
      observed: { keySource: "Microsoft.Keyvault", key: "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-STORAGE-CMK" },
      expected: { keySource: "Microsoft.Keyvault", key: "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-STORAGE-CMK" },
    });
  });

  it("passes on the drifted estate (its storage drift is RBAC and key expiry, other controls)", () => {
    expect(check(contextFor(loadSnapshot("contoso-drifted"))).map((r) => r.status)).toEqual(["PASS"]);
  });

  it("fails when the account uses another key of the HSM", () => {
    const snapshot = loadSnapshot();
    const url = "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-DISK-CMK";
    Object.assign(account(snapshot), { keyName: "Contoso-DISK-CMK", keyReference: parseKeyReference(url) });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.resourceId).toBe(account(snapshot).resourceId);
  });

  it("fails when the account is on Microsoft-managed keys", () => {
    const snapshot = loadSnapshot();
    Object.assign(account(snapshot), { keySource: "Microsoft.Storage", keyReference: null });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("Microsoft.Storage");
  });

  it("is UNKNOWN when the storage accounts could not be listed", () => {
    const snapshot = loadSnapshot();
    snapshot.consumers.storageAccounts = [];
    pushError(snapshot, { part: "consumers.storageAccounts", resourceId: `/subscriptions/${snapshot.subscriptions[0]}`, operation: "storageAccounts.list", statusCode: 403, code: "AuthorizationFailed", message: "denied" });
    const results = check(contextFor(snapshot));
    expect(results.map((r) => r.status)).toEqual(["UNKNOWN"]);
    expect(results[0]?.evidence.collectionErrors?.[0]?.code).toBe("AuthorizationFailed");
  });
});
