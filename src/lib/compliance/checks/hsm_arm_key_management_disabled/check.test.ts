import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, contosoPolicy, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

describe("hsm_arm_key_management_disabled", () => {
  it("passes on the reference estate, where the setting is false", () => {
    const [result, ...more] = check(contextFor(loadSnapshot()));
    expect(more).toEqual([]);
    expect(result).toMatchObject({ status: "PASS", evidence: { observed: { AllowKeyManagementOperationsThroughARM: "false" } } });
  });

  it("fails on the drifted estate, where the setting is true", () => {
    const [result] = check(contextFor(loadSnapshot("contoso-drifted")));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("outside its local RBAC");
  });

  it("passes the setting on when the policy allows it, and an HSM that does not list the setting", () => {
    const policy = contosoPolicy();
    policy.managedHsms[0]!.allowKeyManagementThroughArm = true;
    const [allowed] = check(contextFor(loadSnapshot("contoso-drifted"), { policy }));
    expect(allowed?.status).toBe("PASS");
    expect(allowed?.evidence.expected).toEqual({ AllowKeyManagementOperationsThroughARM: "true or false (the policy allows ARM key management)" });

    const snapshot = loadSnapshot();
    contosoHsm(snapshot).settings = [];
    expect(check(contextFor(snapshot))[0]).toMatchObject({ status: "PASS", evidence: { observed: { AllowKeyManagementOperationsThroughARM: null } } });
  });

  it("is UNKNOWN when the settings could not be read, or were not collected", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.settings = null;
    pushError(snapshot, { part: "managedHsm.settings", resourceId: `${hsm.hsmUri!.replace(/\/$/, "")}/settings`, operation: "settings.list", statusCode: 403, code: "Forbidden", message: "denied" });
    const [unread] = check(contextFor(snapshot));
    expect(unread?.status).toBe("UNKNOWN");
    expect(unread?.evidence.collectionErrors?.[0]).toMatchObject({ code: "Forbidden", about: { kind: "managedHsm", hsm: hsm.resourceId } });

    const older = loadSnapshot();
    delete contosoHsm(older).settings;
    expect(check(contextFor(older))[0]?.message).toContain("were not collected");
  });
});
