import { describe, expect, it } from "vitest";
import type { EstateSnapshot } from "../../../estate/snapshot.js";
import { contextFor, contosoHsm, contosoPolicy, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

/** The Contoso HSM's private endpoint connection in `region` (each fixture region has one). */
function connectionIn(snapshot: EstateSnapshot, region: string) {
  const connection = contosoHsm(snapshot).privateEndpointConnections?.find((c) => c.privateEndpointLocation === region);
  if (!connection) throw new Error(`no private endpoint connection in ${region}`);
  return connection;
}

function locationUnreadable(snapshot: EstateSnapshot, region: string) {
  const connection = connectionIn(snapshot, region);
  connection.privateEndpointLocation = null;
  pushError(snapshot, {
    part: "managedHsm.privateEndpoint",
    resourceId: connection.privateEndpointId!,
    operation: "privateEndpoints.get",
    statusCode: 403,
    code: "AuthorizationFailed",
    message: "denied",
  });
}

describe("hsm_private_endpoint_every_region", () => {
  it("passes on the reference and drifted estates (southindia and centralindia both covered)", () => {
    for (const fixture of ["contoso-reference", "contoso-drifted"] as const) {
      const results = check(contextFor(loadSnapshot(fixture)));
      expect(results.map((r) => r.status)).toEqual(["PASS"]);
      expect(results[0]?.evidence.expected).toEqual({ approvedPrivateEndpointIn: ["southindia", "centralindia"] });
    }
  });

  it("fails naming the region left without an endpoint", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.privateEndpointConnections = hsm.privateEndpointConnections!.filter((c) => c.privateEndpointLocation !== "centralindia");
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toBe("Contoso-PROD-HSM has no approved private endpoint in centralindia.");
    expect(result?.evidence.observed).toMatchObject({ regionsWithoutApprovedEndpoint: ["centralindia"] });
  });

  it("does not count a connection that is not Approved, and says which one is waiting", () => {
    const snapshot = loadSnapshot();
    connectionIn(snapshot, "centralindia").status = "Pending";
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("pe-contoso-hsm-centralindia is Pending");
  });

  it("compares region names in either spelling", () => {
    const snapshot = loadSnapshot();
    connectionIn(snapshot, "centralindia").privateEndpointLocation = "Central India";
    expect(check(contextFor(snapshot))[0]?.status).toBe("PASS");
  });

  it("is UNKNOWN when the connections could not be listed", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.privateEndpointConnections = null;
    pushError(snapshot, {
      part: "managedHsm.privateEndpointConnections",
      resourceId: hsm.resourceId,
      operation: "mhsmPrivateEndpointConnections.listByResource",
      statusCode: 403,
      code: "AuthorizationFailed",
      message: "denied",
    });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.operation).toBe("mhsmPrivateEndpointConnections.listByResource");
  });

  it("is UNKNOWN when the only candidate for a missing region has an unreadable location", () => {
    const snapshot = loadSnapshot();
    locationUnreadable(snapshot, "centralindia");
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.message).toContain("centralindia");
    expect(result?.evidence.observed).toMatchObject({ regionsWithoutApprovedEndpoint: ["centralindia"], approvedEndpointsWithUnknownLocation: ["pe-contoso-hsm-centralindia"] });
    expect(result?.evidence.collectionErrors?.map((e) => e.operation)).toEqual(["privateEndpoints.get"]);
  });

  it("still passes when an unreadable endpoint cannot change the outcome", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    const privateEndpointId = "/subscriptions/5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10/resourceGroups/rg-contoso-network/providers/Microsoft.Network/privateEndpoints/pe-extra";
    hsm.privateEndpointConnections!.push({ id: `${hsm.resourceId}/privateEndpointConnections/pe-extra`, privateEndpointId, status: "Approved", provisioningState: "Succeeded", privateEndpointLocation: null });
    pushError(snapshot, { part: "managedHsm.privateEndpoint", resourceId: privateEndpointId, operation: "privateEndpoints.get", statusCode: 404, code: "ResourceNotFound", message: "gone" });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("PASS");
    expect(result?.message).toContain("pe-extra could not be read");
  });

  it("fails outright when fewer endpoints are unreadable than regions are missing", () => {
    const snapshot = loadSnapshot();
    const policy = contosoPolicy();
    policy.managedHsms[0]!.regions.extended.push("westindia");
    locationUnreadable(snapshot, "centralindia");
    const [result] = check(contextFor(snapshot, { policy }));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("at least 1 of centralindia, westindia");
  });
});
