import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

describe("keys_not_exportable", () => {
  it("passes on the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS", "PASS", "PASS"]);
    expect(results[0]?.evidence.observed).toEqual({ exportable: false, hasReleasePolicy: false });
  });

  it("fails an exportable key with a release policy", () => {
    const snapshot = loadSnapshot();
    const key = contosoHsm(snapshot).keys!.find((k) => k.name === "Contoso-DISK-CMK")!;
    key.exportable = true;
    key.hasReleasePolicy = true;
    const results = check(contextFor(snapshot));
    expect(results.map((r) => r.status)).toEqual(["PASS", "FAIL", "PASS"]);
    expect(results[1]?.message).toContain("is exportable and has a release policy");
  });

  it("is UNKNOWN when the HSM's keys could not be listed", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.keys = null;
    pushError(snapshot, { part: "keys", resourceId: `${hsm.hsmUri!.replace(/\/$/, "")}/keys`, operation: "keys.listPropertiesOfKeys", statusCode: 403, code: "Forbidden", message: "denied" });
    expect(check(contextFor(snapshot)).map((r) => [r.status, r.evidence.collectionErrors?.map((e) => e.code)])).toEqual([
      ["UNKNOWN", ["Forbidden"]],
      ["UNKNOWN", ["Forbidden"]],
      ["UNKNOWN", ["Forbidden"]],
    ]);
  });
});
