/** Contract smoke tests through the real Azure SDK clients (trusting the CA via agent / tlsOptions). */
import https from "node:https";
import { ComputeManagementClient } from "@azure/arm-compute";
import { KeyVaultManagementClient } from "@azure/arm-keyvault";
import { MonitorClient } from "@azure/arm-monitor";
import { NetworkManagementClient } from "@azure/arm-network";
import { SqlManagementClient } from "@azure/arm-sql";
import { StorageManagementClient } from "@azure/arm-storage";
import { KeyClient } from "@azure/keyvault-keys";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmulatorHandle } from "./index.js";
import { startEmulator } from "./index.js";
import { call, hsmHost, loopbackLookup, staticCredential, SUBSCRIPTION_ID, unsignedJwt } from "./test-support.js";

let emu: EmulatorHandle;
let agent: https.Agent;

beforeAll(async () => {
  emu = await startEmulator({ fixture: "contoso-drifted", lroPolls: 1 });
  agent = new https.Agent({ ca: emu.caPem, lookup: loopbackLookup, keepAlive: true });
});
afterAll(async () => {
  agent?.destroy();
  await emu?.close();
});

const arm = () => ({ endpoint: emu.endpoint, tlsOptions: { ca: emu.caPem }, retryOptions: { maxRetries: 0 } });

describe("KeyClient (challenge auth, real host name)", () => {
  it("lists, reads, rotates and maps errors", async () => {
    const client = new KeyClient(emu.hsmUri("Contoso-PROD-HSM"), staticCredential(), { agent, retryOptions: { maxRetries: 0 } });
    const names: string[] = [];
    for await (const p of client.listPropertiesOfKeys()) names.push(p.name);
    expect(names.sort()).toEqual(["Contoso-DISK-CMK", "Contoso-SQLMI-CMK", "Contoso-STORAGE-CMK"]);
    const key = await client.getKey("Contoso-STORAGE-CMK");
    expect(key.keyType).toBe("RSA-HSM");
    expect(key.properties.expiresOn!.getTime() - Date.now()).toBeLessThan(6 * 86_400_000); // drift: expires in 5 days
    const policy = await client.getKeyRotationPolicy("Contoso-STORAGE-CMK");
    expect(policy.expiresIn).toBe("P1Y");
    const rotated = await client.rotateKey("Contoso-STORAGE-CMK");
    expect(rotated.properties.version).not.toBe(key.properties.version);
    const versions: string[] = [];
    for await (const v of client.listPropertiesOfKeyVersions("Contoso-STORAGE-CMK")) versions.push(v.version!);
    expect(versions).toHaveLength(3);
    await expect(client.getKey("missing")).rejects.toMatchObject({ statusCode: 404, code: "KeyNotFound" });
    await expect(client.updateKeyRotationPolicy("Contoso-STORAGE-CMK", { expiresIn: "P7D" })).rejects.toMatchObject({ statusCode: 400, code: "BadParameter" });
  });

  it("creates a key (the first, unauthenticated request carries no body)", async () => {
    // KeyWarden holds Crypto User per key only and cannot create keys; the security officers grant a creator at "/keys".
    const CREATOR = "c3000000-0000-4000-8000-0000000c0de5";
    const grant = await call(emu, "PUT", "/keys/providers/Microsoft.Authorization/roleAssignments/5b0c3f1e-7a2d-4e9b-8c6f-1d2e3f4a5b6c?api-version=7.6", {
      host: hsmHost(emu),
      token: unsignedJwt("a1000000-0000-4000-8000-000000000001"),
      body: { properties: { roleDefinitionId: "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/21dbd100-6940-42c2-9190-5d6cb909625b", principalId: CREATOR } },
    });
    expect(grant.status).toBe(201);
    const client = new KeyClient(emu.hsmUri("Contoso-PROD-HSM"), staticCredential(CREATOR), { agent, retryOptions: { maxRetries: 0 } });
    const created = await client.createRsaKey("KeyWarden-Test", { hsm: true, keySize: 2048, keyOps: ["wrapKey", "unwrapKey"] });
    expect(created.keyOperations).toEqual(["wrapKey", "unwrapKey"]);
    const denied = new KeyClient(emu.hsmUri("Contoso-PROD-HSM"), staticCredential("b2000000-0000-4000-8000-000000000004"), { agent, retryOptions: { maxRetries: 0 } });
    await expect(denied.createRsaKey("Nope", { hsm: true })).rejects.toMatchObject({ statusCode: 403, code: "Forbidden" });
  });
});

describe("ARM clients", () => {
  it("reads the HSM, its regions, PE connections, private endpoint and diagnostic settings", async () => {
    const kv = new KeyVaultManagementClient(staticCredential(), SUBSCRIPTION_ID, arm());
    const hsm = await kv.managedHsms.get("rg-contoso-hsm", "Contoso-PROD-HSM");
    expect(hsm.properties?.hsmUri).toBe(emu.hsmUri("Contoso-PROD-HSM"));
    const regions = [];
    for await (const r of kv.mhsmRegions.listByResource("rg-contoso-hsm", "Contoso-PROD-HSM")) regions.push(r.name);
    expect(regions).toEqual(["southindia", "centralindia"]);
    const pecs = [];
    for await (const p of kv.mhsmPrivateEndpointConnections.listByResource("rg-contoso-hsm", "Contoso-PROD-HSM")) pecs.push(p);
    // The drifted estate's third connection (westindia) is Rejected.
    expect(pecs.map((p) => p.privateLinkServiceConnectionState?.status)).toEqual(["Approved", "Approved", "Rejected"]);
    const network = new NetworkManagementClient(staticCredential(), SUBSCRIPTION_ID, arm());
    const pe = await network.privateEndpoints.get("rg-contoso-network", "pe-contoso-hsm-centralindia");
    expect(pe.location).toBe("centralindia");
    const monitor = new MonitorClient(staticCredential(), SUBSCRIPTION_ID, arm());
    const ds = await monitor.diagnosticSettings.list(hsm.id!);
    expect(ds.value?.[0]?.workspaceId).toMatch(/law-contoso-security$/);
  });

  it("compute: lists DES and updates one through the LRO", async () => {
    const compute = new ComputeManagementClient(staticCredential(), SUBSCRIPTION_ID, arm());
    const all = [];
    for await (const d of compute.diskEncryptionSets.list()) all.push(d);
    const ci = all.find((d) => d.name === "des-contoso-centralindia")!;
    expect(ci.rotationToLatestKeyVersionEnabled).toBe(false);
    const si = all.find((d) => d.name === "des-contoso-southindia")!;
    const updated = await compute.diskEncryptionSets.update(
      "rg-contoso-identity",
      "des-contoso-centralindia",
      { activeKey: { keyUrl: si.activeKey!.keyUrl }, rotationToLatestKeyVersionEnabled: true },
      { updateIntervalInMs: 0 },
    );
    expect(updated.activeKey?.keyUrl).toBe(si.activeKey!.keyUrl);
    expect(updated.previousKeys).toHaveLength(1);
    const vm = await compute.virtualMachines.get("rg-contoso-identity", "contoso-dc-ci-01");
    expect(vm.storageProfile?.osDisk?.managedDisk?.diskEncryptionSet?.id).toBe(ci.id);
  });

  it("sql: switches the encryption protector through MI key + protector LROs", async () => {
    const sql = new SqlManagementClient(staticCredential(), SUBSCRIPTION_ID, arm());
    const ep = await sql.managedInstanceEncryptionProtectors.get("rg-contoso-sql", "contoso-sqlmi-01", "current");
    expect(ep.serverKeyType).toBe("AzureKeyVault");
    const keys = [];
    for await (const k of sql.managedInstanceKeys.listByInstance("rg-contoso-sql", "contoso-sqlmi-01")) keys.push(k);
    const older = keys.find((k) => k.name !== ep.serverKeyName)!;
    const result = await sql.managedInstanceEncryptionProtectors.beginCreateOrUpdateAndWait(
      "rg-contoso-sql",
      "contoso-sqlmi-01",
      "current",
      { serverKeyName: older.name, serverKeyType: "AzureKeyVault", autoRotationEnabled: false },
      { updateIntervalInMs: 0 },
    );
    expect(result.serverKeyName).toBe(older.name);
    expect(result.uri).toBe(older.uri);
  });

  it("storage: lists accounts and updates encryption synchronously", async () => {
    const storage = new StorageManagementClient(staticCredential(), SUBSCRIPTION_ID, arm());
    const accounts = [];
    for await (const a of storage.storageAccounts.list()) accounts.push(a);
    expect(accounts.map((a) => a.encryption?.keySource).sort()).toEqual(["Microsoft.Keyvault", "Microsoft.Storage"]);
    const updated = await storage.storageAccounts.update("rg-contoso-storage", "contosoprodcmkst01", {
      encryption: { keySource: "Microsoft.Keyvault", keyVaultProperties: { keyName: "Contoso-STORAGE-CMK", keyVaultUri: emu.hsmUri("Contoso-PROD-HSM") } },
    });
    expect(updated.encryption?.keyVaultProperties?.currentVersionedKeyIdentifier).toMatch(/\/keys\/Contoso-STORAGE-CMK\/[0-9a-f]{32}$/);
  });
});
