import { describe, expect, it } from "vitest";
import { parseKeyReference } from "../../../estate/keyReference.js";
import { contextFor, contosoHsm, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const OLD = "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-SQLMI-CMK/f9ef3e015edc5e00df9e41d0db77989a";
const LATEST = "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-SQLMI-CMK/59bc4f251b72b5a2c64e7a8d52b583dc";

function pinnedToOldVersion(autoRotationEnabled: boolean) {
  const snapshot = loadSnapshot();
  const mi = snapshot.consumers.sqlManagedInstances![0]!;
  Object.assign(mi.encryptionProtector!, { uri: OLD, keyReference: parseKeyReference(OLD), autoRotationEnabled });
  return { snapshot, mi };
}

describe("sql_tde_protector_current_version", () => {
  it("passes on the reference estate", () => {
    const results = check(contextFor(loadSnapshot()));
    expect(results.map((r) => r.status)).toEqual(["PASS"]);
    expect(results[0]?.evidence.expected).toEqual({ keyVersion: LATEST, or: { autoRotationEnabled: true } });
  });

  it("passes on the drifted estate (no SQL drift planted)", () => {
    expect(check(contextFor(loadSnapshot("contoso-drifted"))).map((r) => r.status)).toEqual(["PASS"]);
  });

  it("fails when pinned to an older version with auto-rotation off", () => {
    const { snapshot, mi } = pinnedToOldVersion(false);
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.resourceId).toBe(mi.resourceId);
    expect(result?.evidence.observed).toEqual({ keyVersion: OLD, autoRotationEnabled: false });
  });

  it("passes on an older version when auto-rotation is on", () => {
    const { snapshot } = pinnedToOldVersion(true);
    expect(check(contextFor(snapshot))[0]?.status).toBe("PASS");
  });

  it("is UNKNOWN when the key could not be read and auto-rotation is off", () => {
    const { snapshot } = pinnedToOldVersion(false);
    const hsm = contosoHsm(snapshot);
    hsm.keys = null;
    pushError(snapshot, { part: "keys", resourceId: "https://contoso-prod-hsm.managedhsm.azure.net/keys", operation: "keys.listPropertiesOfKeys", statusCode: 403, code: "Forbidden", message: "denied" });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.code).toBe("Forbidden");
  });

  it("is UNKNOWN when the protector could not be read", () => {
    const snapshot = loadSnapshot();
    const mi = snapshot.consumers.sqlManagedInstances![0]!;
    mi.encryptionProtector = null;
    pushError(snapshot, { part: "consumers.sqlManagedInstance.encryptionProtector", resourceId: mi.resourceId, operation: "managedInstanceEncryptionProtectors.get", statusCode: 500, message: "boom" });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors).toHaveLength(1);
  });
});
