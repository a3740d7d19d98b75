import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

describe("keys_configured_key_exists", () => {
  it("passes on the reference estate, one result per configured key", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => [r.resourceName, r.status])).toEqual([
      ["Contoso-SQLMI-CMK", "PASS"],
      ["Contoso-DISK-CMK", "PASS"],
      ["Contoso-STORAGE-CMK", "PASS"],
    ]);
    expect(results[0]?.resourceId).toBe("https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-SQLMI-CMK");
  });

  it("passes on the drifted estate (no key is missing there)", () => {
    expect(check(contextFor(loadSnapshot("contoso-drifted"))).map((r) => r.status)).toEqual(["PASS", "PASS", "PASS"]);
  });

  it("fails when a configured key is not in the HSM's key list", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.keys = hsm.keys!.filter((k) => k.name !== "Contoso-DISK-CMK");
    const result = check(contextFor(snapshot)).find((r) => r.resourceName === "Contoso-DISK-CMK");
    expect(result?.status).toBe("FAIL");
    expect(result?.evidence).toMatchObject({ observed: { exists: false }, expected: { exists: true, enabled: true } });
  });

  it("fails when the key's current version is disabled", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).keys!.find((k) => k.name === "Contoso-SQLMI-CMK")!.enabled = false;
    const result = check(contextFor(snapshot)).find((r) => r.resourceName === "Contoso-SQLMI-CMK");
    expect(result?.status).toBe("FAIL");
    expect(result?.evidence.observed).toEqual({ exists: true, enabled: false });
  });

  it("is UNKNOWN when the HSM's keys could not be listed", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.keys = null;
    pushError(snapshot, { part: "keys", resourceId: `${hsm.hsmUri!.replace(/\/$/, "")}/keys`, operation: "keys.listPropertiesOfKeys", statusCode: 403, code: "Forbidden", message: "denied" });
    const results = check(contextFor(snapshot));
    expect(results.map((r) => r.status)).toEqual(["UNKNOWN", "UNKNOWN", "UNKNOWN"]);
    expect(results[0]?.evidence.collectionErrors?.[0]?.code).toBe("Forbidden");
  });
});
