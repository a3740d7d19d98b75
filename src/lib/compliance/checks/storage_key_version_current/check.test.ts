import { describe, expect, it } from "vitest";
import { parseKeyReference } from "../../../estate/keyReference.js";
import { contextFor, contosoHsm, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const BASE = "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-STORAGE-CMK";

function pinnedTo(version: string) {
  const snapshot = loadSnapshot();
  Object.assign(snapshot.consumers.storageAccounts![0]!, { keyVersion: version, keyReference: parseKeyReference(`${BASE}/${version}`) });
  return snapshot;
}

describe("storage_key_version_current", () => {
  it("passes the versionless account of the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS"]);
    expect(results[0]?.evidence.observed).toEqual({ keyVersion: null, key: BASE });
  });

  it("passes on the drifted estate", () => {
    expect(check(contextFor(loadSnapshot("contoso-drifted"))).map((r) => r.status)).toEqual(["PASS"]);
  });

  it("passes an account pinned to the latest version", () => {
    expect(check(contextFor(pinnedTo("fe8a4f0a6020111e8ce29364923746ef")))[0]?.status).toBe("PASS");
  });

  it("fails an account pinned to an older version", () => {
    const snapshot = pinnedTo("2db033a515437d38d0df690ae260affd");
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.resourceId).toBe(snapshot.consumers.storageAccounts![0]!.resourceId);
    expect(result?.evidence.expected).toEqual({ keyVersion: "versionless (empty)", or: `${BASE}/fe8a4f0a6020111e8ce29364923746ef` });
  });

  it("is UNKNOWN when the account is pinned and the key could not be read", () => {
    const snapshot = pinnedTo("2db033a515437d38d0df690ae260affd");
    contosoHsm(snapshot).keys = null;
    pushError(snapshot, { part: "keys", resourceId: "https://contoso-prod-hsm.managedhsm.azure.net/keys", operation: "keys.listPropertiesOfKeys", statusCode: 403, code: "Forbidden", message: "denied" });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.code).toBe("Forbidden");
  });

  it("is UNKNOWN when the storage accounts could not be listed", () => {
    const snapshot = loadSnapshot();
    snapshot.consumers.storageAccounts = [];
    pushError(snapshot, { part: "consumers.storageAccounts", resourceId: `/subscriptions/${snapshot.subscriptions[0]}`, operation: "storageAccounts.list", statusCode: 500, message: "boom" });
    expect(check(contextFor(snapshot)).map((r) => r.status)).toEqual(["UNKNOWN"]);
  });
});
