import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, hsmUnreadable } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

describe("hsm_public_network_access_disabled", () => {
  it("passes on the reference and drifted estates", () => {
    for (const fixture of ["contoso-reference", "contoso-drifted"] as const) {
      const results = check(contextFor(loadSnapshot(fixture)));
      expect(results.map((r) => r.status)).toEqual(["PASS"]);
      expect(results[0]?.evidence.observed).toEqual({ publicNetworkAccess: "Disabled", networkAclsDefaultAction: "Deny", networkAclsServiceTags: [] });
    }
  });

  it("fails on publicNetworkAccess Enabled even though the firewall denies (which Azure Policy 19ea9d63 would pass)", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).properties!.publicNetworkAccess = "Enabled";
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("publicNetworkAccess is Enabled");
    expect(result?.message).not.toContain("firewall");
    expect(result?.evidence).toMatchObject({ observed: { publicNetworkAccess: "Enabled", networkAclsDefaultAction: "Deny" }, expected: { publicNetworkAccess: "Disabled", networkAclsDefaultAction: "Deny", networkAclsServiceTags: [] } });
  });

  it("fails on a firewall that allows by default, and names only that", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).properties!.networkAcls!.defaultAction = "Allow";
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("firewall default action is Allow");
    expect(result?.message).not.toContain("publicNetworkAccess");
  });

  it("fails when the firewall is not reported at all (Azure's default is Allow)", () => {
    const snapshot = loadSnapshot();
    delete contosoHsm(snapshot).properties!.networkAcls;
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.evidence.observed).toEqual({ publicNetworkAccess: "Disabled", networkAclsDefaultAction: null, networkAclsServiceTags: [] });
  });

  it("fails on a service-tag rule although the firewall denies by default: the tag's public ranges are admitted", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).properties!.networkAcls!.serviceTags = ["AzureCloud", "AzureDevOps"];
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("service tag(s) AzureCloud, AzureDevOps");
    expect(result?.message).not.toContain("firewall default action");
    expect(result?.evidence.observed).toMatchObject({ networkAclsServiceTags: ["AzureCloud", "AzureDevOps"] });
  });

  it("is UNKNOWN when the service-tag rules were not collected (an older snapshot), unless already open", () => {
    const snapshot = loadSnapshot();
    delete contosoHsm(snapshot).properties!.networkAcls!.serviceTags;
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.message).toContain("were not collected");
    expect(result?.evidence.observed).toMatchObject({ networkAclsServiceTags: null });

    contosoHsm(snapshot).properties!.publicNetworkAccess = "Enabled";
    expect(check(contextFor(snapshot))[0]?.status).toBe("FAIL");
  });

  it("is UNKNOWN when the HSM could not be read", () => {
    const snapshot = loadSnapshot();
    hsmUnreadable(snapshot);
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.code).toBe("AuthorizationFailed");
  });
});
