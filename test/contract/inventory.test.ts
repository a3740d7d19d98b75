import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAzureClients } from "../../src/lib/azure/clients.js";
import { AzureRequestError } from "../../src/lib/azure/errors.js";
import type { EstateSnapshot } from "../../src/lib/estate/snapshot.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";

/** The estate snapshot read through the real SDK clients from the emulator. */
describe("inventory against the emulator (real SDK clients)", () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator("contoso-reference");
  });
  afterAll(() => t.close());
  afterEach(async () => {
    await t.control("DELETE", "/_emulator/faults");
    await t.control("POST", "/_emulator/config", { pageSize: 25 });
    t.exchanges.length = 0;
  });

  it("reads the whole Contoso reference estate", async () => {
    const s = await t.collect();
    expect(s.errors).toEqual([]);
    const hsm = s.managedHsms[0]!;
    expect(hsm.properties).toMatchObject({ enablePurgeProtection: true, enableSoftDelete: true, publicNetworkAccess: "Disabled", securityDomainActivationStatus: "Active" });
    expect(hsm.regions?.map((r) => [r.name, r.isPrimary])).toEqual([["southindia", true], ["centralindia", false]]);
    expect(hsm.privateEndpointConnections?.map((c) => [c.status, c.privateEndpointLocation]).sort()).toEqual([["Approved", "centralindia"], ["Approved", "southindia"]]);
    expect(hsm.diagnosticSettings?.[0]?.logs).toContainEqual({ category: "AuditEvent", enabled: true });
    expect(hsm.keys?.map((k) => [k.name, k.keyType, k.keySize, k.versions?.length]).sort()).toEqual([
      ["Contoso-DISK-CMK", "RSA-HSM", 3072, 2],
      ["Contoso-SQLMI-CMK", "RSA-HSM", 3072, 2],
      ["Contoso-STORAGE-CMK", "RSA-HSM", 3072, 2],
    ]);
    expect(hsm.keys?.map((k) => [k.name, k.rotationPolicy?.lifetimeActions.some((a) => a.action === "Rotate")]).sort()).toEqual([
      ["Contoso-DISK-CMK", true],
      ["Contoso-SQLMI-CMK", true],
      ["Contoso-STORAGE-CMK", true],
    ]);
    expect(hsm.roleAssignments).toHaveLength(11); // KeyWarden holds Crypto User on each of the three keys
    expect(hsm.settings).toEqual([{ name: "AllowKeyManagementOperationsThroughARM", value: "false", type: "boolean" }]);
    expect(hsm.properties?.networkAcls?.serviceTags).toEqual([]);
    expect(hsm.roleAssignments?.filter((a) => a.scope === "/keys/Contoso-SQLMI-CMK").map((a) => a.roleName).sort()).toEqual(["Managed HSM Crypto Service Encryption User", "Managed HSM Crypto User"]);

    const c = s.consumers;
    expect(c.sqlManagedInstances?.map((m) => m.name)).toEqual(["contoso-sqlmi-01"]);
    expect(c.sqlManagedInstances?.[0]?.encryptionProtector?.keyReference?.keyName).toBe("Contoso-SQLMI-CMK");
    expect(c.diskEncryptionSets?.map((d) => d.location).sort()).toEqual(["centralindia", "southindia"]);
    expect(c.virtualMachines).toHaveLength(2);
    expect(c.disks).toHaveLength(4);
    // contosologsst01 uses Microsoft-managed keys: discovered, then left out as not a consumer of our HSM.
    expect(c.storageAccounts?.map((a) => [a.name, a.keyVersion ?? "versionless"])).toEqual([["contosoprodcmkst01", "versionless"]]);
  });

  it("goes through the Key Vault challenge: an unauthenticated first request, a 401, then the bearer retry", async () => {
    await t.collect();
    const dataPlane = t.exchanges.filter((e) => e.host.includes(".managedhsm.azure.net"));
    const challenged = dataPlane.filter((e) => e.status === 401);
    expect(challenged.length).toBeGreaterThan(0);
    expect(String(challenged[0]!.responseHeaders["www-authenticate"])).toMatch(/^Bearer authorization="https:\/\/login\.microsoftonline\.com\/[^"]+", resource="https:\/\/managedhsm\.azure\.net"$/);
    expect(dataPlane.filter((e) => e.status === 200).length).toBeGreaterThan(challenged.length);
  });

  it("pages through every list when the service answers one item per page", async () => {
    const whole = await t.collect();
    await t.control("POST", "/_emulator/config", { pageSize: 1 });
    t.exchanges.length = 0;
    const paged = await t.collect();
    expect(comparable(paged)).toEqual(comparable(whole));
    const followUps = t.exchanges.filter((e) => e.query["page"] !== undefined || e.query["$skiptoken"] !== undefined || /[?&](page|\$skiptoken|skip)/i.test(e.path));
    expect(followUps.length).toBeGreaterThan(5);
  });

  it("records a 403 from the HSM's local RBAC as collection errors, and still reads ARM", async () => {
    // A principal with Reader on the subscription (ARM is authorised by Azure RBAC) and no role on the HSM.
    const nobody = "c3000000-0000-4000-8000-00000000dead";
    const fixture = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "emulator", "fixtures", "contoso-reference.json"), "utf8")) as { subscriptionId: string; armRoleAssignments: object[] };
    fixture.armRoleAssignments.push({ principalId: nobody, role: "Reader", scope: `/subscriptions/${fixture.subscriptionId}` });
    await t.control("POST", "/_emulator/fixture", fixture);
    const s = await t.collect({ KEYWARDEN_EMULATOR_PRINCIPAL_ID: nobody }).finally(() => t.control("POST", "/_emulator/fixture", { name: "contoso-reference" }));
    const hsm = s.managedHsms[0]!;
    expect(hsm.keys).toBeNull();
    expect(hsm.roleAssignments).toBeNull();
    expect(hsm.properties).not.toBeNull();
    const keyList = s.errors.find((e) => e.part === "keys");
    expect(keyList).toMatchObject({ statusCode: 403, code: "Forbidden", operation: "keys.listPropertiesOfKeys" });
    const rbacErrors = s.errors.filter((e) => e.part === "rbac.roleAssignments");
    expect(rbacErrors.length).toBeGreaterThan(0);
    expect(rbacErrors.filter((e) => e.statusCode !== 403)).toEqual([]);
  });

  it("answers a missing key with 404 KeyNotFound, as Azure does", async () => {
    const config = await t.config();
    const clients = createAzureClients(config.settings);
    const error = await clients.hsmKeys(t.emulator.hsmUri("Contoso-PROD-HSM")).getKey("No-Such-Key").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AzureRequestError);
    expect(error).toMatchObject({ statusCode: 404, code: "KeyNotFound", operation: "keys.getKey" });
  });

  it("reads the HSM's data plane even when ARM cannot describe the HSM", async () => {
    await t.control("POST", "/_emulator/faults", { operationId: "ManagedHsms_Get", status: 503, code: "ServiceUnavailable", message: "injected" });
    const s = await t.collect();
    const hsm = s.managedHsms[0]!;
    expect(hsm.properties).toBeNull();
    expect(s.errors).toEqual([expect.objectContaining({ part: "managedHsm", statusCode: 503, code: "ServiceUnavailable", operation: "managedHsms.get" })]);
    // The data-plane URI is derived from the HSM's name, so keys and roles are still read.
    expect(hsm.hsmUri).toBe(t.emulator.hsmUri("Contoso-PROD-HSM"));
    expect(hsm.keys).toHaveLength(3);
    expect(hsm.roleAssignments).toHaveLength(11); // KeyWarden holds Crypto User on each of the three keys
  });

  it("records a failed consumer listing instead of reporting no consumers", async () => {
    await t.control("POST", "/_emulator/faults", { operationId: "DiskEncryptionSets_List", status: 500, code: "InternalServerError", message: "injected" });
    const s = await t.collect();
    // Without the DES list, which VMs and disks are ours is unknown: none are listed, and the error says why.
    expect(s.consumers.diskEncryptionSets).toEqual([]);
    expect(s.consumers.disks).toEqual([]);
    expect(s.errors).toContainEqual(
      expect.objectContaining({
        part: "consumers.diskEncryptionSets",
        about: { kind: "subscription", subscription: s.subscriptions[0] },
        statusCode: 500,
        code: "InternalServerError",
        operation: "diskEncryptionSets.list",
      }),
    );
    expect(s.consumers.storageAccounts).toHaveLength(1);
    expect(s.managedHsms[0]!.keys).toHaveLength(3);
  });
});

function comparable(s: EstateSnapshot): unknown {
  return { ...s, collectedAt: undefined };
}

describe("a consumer the policy expects, switched away from the HSM", () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator("contoso-reference");
  });
  afterAll(() => t.close());

  it("stays in the snapshot and fails its controls instead of silently leaving scope", async () => {
    const { StorageManagementClient } = await import("@azure/arm-storage");
    const { createEmulatorCredential } = await import("../../src/lib/azure/emulatorCredential.js");
    const storage = new StorageManagementClient(createEmulatorCredential("a1000000-0000-4000-8000-000000000002"), "5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10", {
      endpoint: t.emulator.endpoint,
      tlsOptions: { ca: t.emulator.caPem },
      retryOptions: { maxRetries: 0 },
    });
    await storage.storageAccounts.update("rg-contoso-storage", "contosoprodcmkst01", { encryption: { keySource: "Microsoft.Storage" } });

    const snapshot = await t.collect();
    const account = snapshot.consumers.storageAccounts?.find((a) => a.name === "contosoprodcmkst01");
    expect(account).toMatchObject({ keySource: "Microsoft.Storage", keyReference: null });

    const { evaluate } = await import("../../src/lib/compliance/evaluate.js");
    const { loadControls } = await import("../../src/lib/compliance/registry.js");
    const { REGISTERED_CONTROLS } = await import("../../src/lib/compliance/checks/index.js");
    const config = await t.config();
    const report = evaluate(snapshot, config.policy, loadControls(REGISTERED_CONTROLS), { now: new Date(snapshot.collectedAt) });
    const failed = report.controls.flatMap((c) => c.results).filter((r) => r.status === "FAIL").map((r) => `${r.controlId} ${r.resourceName}`);
    expect(failed).toEqual(expect.arrayContaining(["keys_expected_consumers_bound contosoprodcmkst01", "storage_key_source_hsm contosoprodcmkst01"]));
  });
});
