import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, hsmUnreadable } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

describe("hsm_security_domain_activated", () => {
  it("passes on the reference and drifted estates", () => {
    for (const fixture of ["contoso-reference", "contoso-drifted"] as const) {
      const results = check(contextFor(loadSnapshot(fixture)));
      expect(results.map((r) => r.status)).toEqual(["PASS"]);
      expect(results[0]?.evidence.observed).toEqual({ securityDomainActivationStatus: "Active" });
    }
  });

  it("fails when the security domain is not activated", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).properties!.securityDomainActivationStatus = "NotActivated";
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("NotActivated");
    expect(result?.evidence).toMatchObject({ observed: { securityDomainActivationStatus: "NotActivated" }, expected: { securityDomainActivationStatus: "Active" } });
  });

  it("is UNKNOWN when Azure itself reports the status as Unknown", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).properties!.securityDomainActivationStatus = "Unknown";
    expect(check(contextFor(snapshot))[0]?.status).toBe("UNKNOWN");
  });

  it("is UNKNOWN when the HSM could not be read", () => {
    const snapshot = loadSnapshot();
    hsmUnreadable(snapshot);
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.code).toBe("AuthorizationFailed");
  });
});
