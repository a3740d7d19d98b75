import { describe, expect, it } from "vitest";
import { contextFor, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const UAMI = "/subscriptions/5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10/resourceGroups/rg-contoso-sql/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami-sqlmi";

function withUserAssignedIdentity(primary: string | undefined) {
  const snapshot = loadSnapshot();
  const mi = snapshot.consumers.sqlManagedInstances![0]!;
  mi.identity = { type: "UserAssigned", userAssignedIdentities: [{ resourceId: UAMI, principalId: "b2000000-0000-4000-8000-0000000000aa" }] };
  if (primary) mi.primaryUserAssignedIdentityId = primary;
  return snapshot;
}

describe("sql_managed_instance_identity", () => {
  it("passes on the reference estate (system-assigned)", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS"]);
    expect(results[0]?.evidence.observed).toMatchObject({ type: "SystemAssigned", principalId: "b2000000-0000-4000-8000-000000000001" });
  });

  it("passes with a user-assigned identity set as primary", () => {
    expect(check(contextFor(withUserAssignedIdentity(UAMI.toLowerCase())))[0]?.status).toBe("PASS");
  });

  it("fails with a user-assigned identity but no primaryUserAssignedIdentityId", () => {
    const [result] = check(contextFor(withUserAssignedIdentity(undefined)));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("primaryUserAssignedIdentityId");
  });

  it("fails when the instance has no identity (ARM omits it)", () => {
    const snapshot = loadSnapshot();
    const mi = snapshot.consumers.sqlManagedInstances![0]!;
    mi.identity = null;
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.resourceId).toBe(mi.resourceId);
    expect(result?.evidence.observed).toMatchObject({ type: "None" });
  });

  it("is UNKNOWN when the instances could not be listed", () => {
    const snapshot = loadSnapshot();
    snapshot.consumers.sqlManagedInstances = [];
    pushError(snapshot, { part: "consumers.sqlManagedInstances", resourceId: `/subscriptions/${snapshot.subscriptions[0]}`, operation: "managedInstances.list", statusCode: 429, code: "TooManyRequests", message: "throttled" });
    const results = check(contextFor(snapshot));
    expect(results.map((r) => r.status)).toEqual(["UNKNOWN"]);
    expect(results[0]?.evidence.collectionErrors?.[0]?.code).toBe("TooManyRequests");
  });
});
