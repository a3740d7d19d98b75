import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

describe("keys_type_and_size", () => {
  it("passes on the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS", "PASS", "PASS"]);
    expect(results[0]?.evidence).toMatchObject({ observed: { keyType: "RSA-HSM", keySize: 3072 }, expected: { keyType: "RSA-HSM", minKeySize: 3072 } });
  });

  it("fails a key below the policy's minimum size", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).keys!.find((k) => k.name === "Contoso-STORAGE-CMK")!.keySize = 2048;
    const results = check(contextFor(snapshot));
    expect(results.filter((r) => r.status === "FAIL").map((r) => r.resourceName)).toEqual(["Contoso-STORAGE-CMK"]);
    expect(results[2]?.message).toContain("2048 bits, below 3072");
  });

  it("fails a key of another type", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).keys!.find((k) => k.name === "Contoso-SQLMI-CMK")!.keyType = "EC-HSM";
    expect(check(contextFor(snapshot))[0]?.status).toBe("FAIL");
  });

  it("is UNKNOWN when the key could not be read", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.keys = hsm.keys!.filter((k) => k.name !== "Contoso-DISK-CMK");
    pushError(snapshot, { part: "key", resourceId: `${hsm.hsmUri!.replace(/\/$/, "")}/keys/Contoso-DISK-CMK`, operation: "keys.getKey", statusCode: 500, code: "InternalError", message: "boom" });
    const result = check(contextFor(snapshot))[1];
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.operation).toBe("keys.getKey");
  });

  it("is UNKNOWN when the key did not report its size", () => {
    const snapshot = loadSnapshot();
    delete contosoHsm(snapshot).keys!.find((k) => k.name === "Contoso-SQLMI-CMK")!.keySize;
    expect(check(contextFor(snapshot))[0]?.status).toBe("UNKNOWN");
  });
});
