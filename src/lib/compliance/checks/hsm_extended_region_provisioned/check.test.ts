import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

describe("hsm_extended_region_provisioned", () => {
  it("passes on the reference and drifted estates (primary southindia, centralindia Succeeded)", () => {
    for (const fixture of ["contoso-reference", "contoso-drifted"] as const) {
      const results = check(contextFor(loadSnapshot(fixture)));
      expect(results.map((r) => r.status)).toEqual(["PASS"]);
      expect(results[0]?.evidence).toMatchObject({ observed: { primary: "southindia" }, expected: { primary: "southindia", extended: [{ name: "centralindia", provisioningState: "Succeeded" }] } });
    }
  });

  it("fails when the extended region is missing", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.regions = hsm.regions!.filter((r) => r.name !== "centralindia");
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("centralindia is not one of its regions");
  });

  it("fails when the extended region is not Succeeded, naming its state", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).regions!.find((r) => r.name === "centralindia")!.provisioningState = "Failed";
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("centralindia is Failed, not Succeeded");
  });

  it("fails when the primary is not the policy's primary", () => {
    const snapshot = loadSnapshot();
    for (const region of contosoHsm(snapshot).regions!) region.isPrimary = region.name === "centralindia";
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("its primary region is centralindia, not southindia");
  });

  it("is UNKNOWN when the regions could not be listed", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.regions = null;
    pushError(snapshot, { part: "managedHsm.regions", resourceId: hsm.resourceId, operation: "mhsmRegions.listByResource", statusCode: 500, code: "InternalServerError", message: "boom" });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.operation).toBe("mhsmRegions.listByResource");
  });
});
