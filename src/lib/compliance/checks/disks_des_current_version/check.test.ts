import { describe, expect, it } from "vitest";
import { contextFor, contosoHsm, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

describe("disks_des_current_version", () => {
  it("passes on the reference estate", () => {
    expect(check(contextFor(loadSnapshot())).map((r) => r.status)).toEqual(["PASS", "PASS"]);
  });

  it("fails on the drifted estate for exactly des-contoso-centralindia (pinned, auto-rotation off)", () => {
    const snapshot = loadSnapshot("contoso-drifted");
    const failed = check(contextFor(snapshot)).filter((r) => r.status !== "PASS");
    expect(failed.map((r) => [r.status, r.resourceName])).toEqual([["FAIL", "des-contoso-centralindia"]]);
    expect(failed[0]?.evidence.observed).toMatchObject({
      keyVersion: "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-DISK-CMK/f6ffed80276011da401b0c6e393df4f8",
      rotationToLatestKeyVersionEnabled: false,
    });
    expect(failed[0]?.evidence.expected).toMatchObject({ keyVersion: "https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-DISK-CMK/94997bdafc619c1e407363537debd449" });
  });

  it("passes an older version when auto-rotation is on without error, and fails it when auto-rotation reports an error", () => {
    const snapshot = loadSnapshot("contoso-drifted");
    const des = snapshot.consumers.diskEncryptionSets!.find((d) => d.name === "des-contoso-centralindia")!;
    des.rotationToLatestKeyVersionEnabled = true;
    expect(check(contextFor(snapshot)).map((r) => r.status)).toEqual(["PASS", "PASS"]);
    des.autoKeyRotationError = { code: "KeyVaultAccessForbidden", message: "grant get, wrap and unwrap" };
    const result = check(contextFor(snapshot)).find((r) => r.resourceId === des.resourceId);
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("KeyVaultAccessForbidden");
  });

  it("is UNKNOWN when the disk key could not be read", () => {
    const snapshot = loadSnapshot("contoso-drifted");
    const hsm = contosoHsm(snapshot);
    hsm.keys = null;
    pushError(snapshot, { part: "keys", resourceId: "https://contoso-prod-hsm.managedhsm.azure.net/keys", operation: "keys.listPropertiesOfKeys", statusCode: 403, code: "Forbidden", message: "denied" });
    const result = check(contextFor(snapshot)).find((r) => r.resourceName === "des-contoso-centralindia");
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.[0]?.code).toBe("Forbidden");
  });

  it("is UNKNOWN when the DES list could not be read", () => {
    const snapshot = loadSnapshot();
    snapshot.consumers.diskEncryptionSets = [];
    pushError(snapshot, { part: "consumers.diskEncryptionSets", resourceId: `/subscriptions/${snapshot.subscriptions[0]}`, operation: "diskEncryptionSets.list", statusCode: 500, message: "boom" });
    expect(check(contextFor(snapshot)).map((r) => r.status)).toEqual(["UNKNOWN"]);
  });
});
