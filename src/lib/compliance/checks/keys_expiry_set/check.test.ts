import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

describe("keys_expiry_set", () => {
  it("passes on the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS", "PASS", "PASS"]);
    expect(results[0]?.evidence.observed).toMatchObject({ expiresOn: "2027-11-08T00:00:00.000Z" });
  });

  it("fails when the current version has no expiry", () => {
    const snapshot = loadSnapshot();
    delete contosoHsm(snapshot).keys!.find((k) => k.name === "Contoso-SQLMI-CMK")!.expiresOn;
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.evidence.observed).toMatchObject({ expiresOn: null });
  });

  it("is UNKNOWN when the HSM's keys could not be listed", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.keys = null;
    pushError(snapshot, { part: "keys", resourceId: `${hsm.hsmUri!.replace(/\/$/, "")}/keys`, operation: "keys.listPropertiesOfKeys", statusCode: 403, code: "Forbidden", message: "denied" });
    expect(check(contextFor(snapshot)).map((r) => r.status)).toEqual(["UNKNOWN", "UNKNOWN", "UNKNOWN"]);
  });
});
