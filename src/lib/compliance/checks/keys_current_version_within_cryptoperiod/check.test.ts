import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

describe("keys_current_version_within_cryptoperiod", () => {
  it("passes on the reference estate, with the version's age", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS", "PASS", "PASS"]);
    expect(results[0]?.evidence).toMatchObject({ observed: { ageDays: 20 }, expected: { maxAgeDays: 180 } });
  });

  it("passes on the drifted estate (every current version is recent)", () => {
    expect(check(contextFor(loadSnapshot("contoso-drifted"))).map((r) => r.status)).toEqual(["PASS", "PASS", "PASS"]);
  });

  it("fails high when overdue for rotation and critical beyond the cryptoperiod", () => {
    const snapshot = loadSnapshot();
    expect(check(contextFor(snapshot, { now: "2027-06-01T00:00:00.000Z" }))[0]).toMatchObject({ status: "FAIL", severity: "high" });
    expect(check(contextFor(snapshot, { now: "2027-12-01T00:00:00.000Z" }))[0]).toMatchObject({ status: "FAIL", severity: "critical" });
  });

  it("is UNKNOWN when the key did not report its creation time", () => {
    const snapshot = loadSnapshot();
    delete contosoHsm(snapshot).keys!.find((k) => k.name === "Contoso-DISK-CMK")!.createdOn;
    expect(check(contextFor(snapshot))[1]?.status).toBe("UNKNOWN");
  });

  it("is UNKNOWN when the HSM's keys could not be listed", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.keys = null;
    pushError(snapshot, { part: "keys", resourceId: `${hsm.hsmUri!.replace(/\/$/, "")}/keys`, operation: "keys.listPropertiesOfKeys", statusCode: 403, code: "Forbidden", message: "denied" });
    expect(check(contextFor(snapshot)).map((r) => r.status)).toEqual(["UNKNOWN", "UNKNOWN", "UNKNOWN"]);
  });
});
