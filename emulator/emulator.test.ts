/** Integration tests over HTTPS (node's https client trusting the generated CA). */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { EmulatorHandle, Exchange } from "./index.js";
import { startEmulator } from "./index.js";
import { call, hsmHost, SUBSCRIPTION_ID, unsignedJwt } from "./test-support.js";

const NOW = new Date("2026-11-28T12:00:00.000Z");
const S = `/subscriptions/${SUBSCRIPTION_ID}`;
const KV = "api-version=2025-07-01";
const DAY = 86_400;

let emu: EmulatorHandle;
const exchanges: Exchange[] = [];

beforeAll(async () => {
  emu = await startEmulator({ fixture: "contoso-reference", now: NOW, onExchange: (e) => exchanges.push(e) });
});
afterAll(async () => {
  await emu?.close();
});
beforeEach(async () => {
  exchanges.length = 0;
  await call(emu, "POST", "/_emulator/reset", { token: null });
});

describe("control endpoints", () => {
  it("reads, advances and sets the clock", async () => {
    expect((await call(emu, "GET", "/_emulator/clock", { token: null })).body).toEqual({ now: NOW.toISOString() });
    const adv = await call(emu, "POST", "/_emulator/clock", { token: null, body: { advance: "P30D" } });
    expect(adv.body.now).toBe("2026-12-28T12:00:00.000Z");
    const set = await call(emu, "POST", "/_emulator/clock", { token: null, body: { set: "2027-01-01T00:00:00Z" } });
    expect(set.body.now).toBe("2027-01-01T00:00:00.000Z");
    const bad = await call(emu, "POST", "/_emulator/clock", { token: null, body: { advance: "30 days" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^advance:/);
    await call(emu, "POST", "/_emulator/reset", { token: null });
    expect((await call(emu, "GET", "/_emulator/clock", { token: null })).body.now).toBe(NOW.toISOString());
  });

  it("counts requests per operationId and validates config", async () => {
    await call(emu, "GET", `${S}/providers/Microsoft.Compute/disks?api-version=2025-01-02`);
    await call(emu, "GET", `${S}/providers/Microsoft.Compute/disks?api-version=2025-01-02`);
    const counts = await call(emu, "GET", "/_emulator/requests", { token: null });
    expect(counts.body.counts.Disks_List).toBe(2);
    const bad = await call(emu, "POST", "/_emulator/config", { token: null, body: { pageSize: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^pageSize:/);
  });

  it("loads a fixture by name and rejects a bad one naming the field", async () => {
    const ok = await call(emu, "POST", "/_emulator/fixture", { token: null, body: { name: "contoso-drifted" } });
    expect(ok.status).toBe(200);
    expect(ok.body.drift.map((d: { id: string }) => d.id)).toContain("storage-cmk-expires-soon");
    const bad = await call(emu, "POST", "/_emulator/fixture", { token: null, body: { name: "x", tenantId: "not-a-guid", subscriptionId: SUBSCRIPTION_ID } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("tenantId");
    await call(emu, "POST", "/_emulator/fixture", { token: null, body: { name: "contoso-reference" } });
  });

  it("reports every exchange with its operationId", async () => {
    await call(emu, "GET", `/keys?${KV}`, { host: hsmHost(emu) });
    const e = exchanges.find((x) => x.operationId === "GetKeys");
    expect(e).toMatchObject({ method: "GET", path: "/keys", status: 200 });
    expect(e?.query["api-version"]).toBe("2025-07-01");
  });
});

describe("request normalisation and errors", () => {
  it("answers 501 NotImplemented for an unknown route, 405 for a wrong method", async () => {
    const r = await call(emu, "GET", `${S}/providers/Microsoft.Web/sites?api-version=2023-01-01`);
    expect(r.status).toBe(501);
    expect(r.body.error.code).toBe("NotImplemented");
    const m = await call(emu, "DELETE", `${S}/providers/Microsoft.Compute/disks?api-version=2025-01-02`);
    expect(m.status).toBe(405);
  });

  it("collapses repeated slashes and decodes api%2Dversion", async () => {
    const r = await call(emu, "GET", `/${S}/resourceGroups/rg-contoso-hsm/providers/Microsoft.KeyVault/managedHSMs/Contoso-PROD-HSM/providers/Microsoft.Insights/diagnosticSettings?api%2Dversion=2017-05-01-preview`);
    expect(r.status).toBe(200);
    expect(r.body.value[0].properties.logs[0].category).toBe("AuditEvent");
  });

  it("rejects unknown api-versions with the service's code", async () => {
    const arm = await call(emu, "GET", `${S}/providers/Microsoft.Compute/disks?api-version=1999-01-01`);
    expect([arm.status, arm.body.error.code]).toEqual([400, "InvalidApiVersionParameter"]);
    const dp = await call(emu, "GET", "/keys?api-version=1.0", { host: hsmHost(emu) });
    expect([dp.status, dp.body.error.code]).toEqual([400, "BadParameter"]);
  });

  it("ARM without a bearer → 401 AuthenticationFailed", async () => {
    const r = await call(emu, "GET", `${S}/providers/Microsoft.Compute/disks?api-version=2025-01-02`, { token: null });
    expect([r.status, r.body.error.code]).toEqual([401, "AuthenticationFailed"]);
  });

  it("data plane without a bearer → 401 challenge, even on unknown paths", async () => {
    for (const path of [`/keys?${KV}`, "/nothing/here"]) {
      const r = await call(emu, "GET", path, { host: hsmHost(emu), token: null });
      expect(r.status).toBe(401);
      expect(r.headers["www-authenticate"]).toBe(
        'Bearer authorization="https://login.microsoftonline.com/8f3d2c1b-6a5e-4d7c-9b8a-1e2f3a4b5c6d", resource="https://managedhsm.azure.net"',
      );
    }
  });

  it("404 codes: KeyNotFound, ResourceNotFound, ResourceGroupNotFound", async () => {
    const k = await call(emu, "GET", `/keys/nope/?${KV}`, { host: hsmHost(emu) });
    expect([k.status, k.body.error.code]).toEqual([404, "KeyNotFound"]);
    const r = await call(emu, "GET", `${S}/resourceGroups/rg-contoso-identity/providers/Microsoft.Compute/disks/nope?api-version=2025-01-02`);
    expect([r.status, r.body.error.code]).toEqual([404, "ResourceNotFound"]);
    const g = await call(emu, "GET", `${S}/resourceGroups/rg-nope/providers/Microsoft.Compute/disks?api-version=2025-01-02`);
    expect([g.status, g.body.error.code]).toEqual([404, "ResourceGroupNotFound"]);
  });
});

describe("Managed HSM data plane", () => {
  it("serves keys with versionless list kids and versioned bundles", async () => {
    const list = await call(emu, "GET", `/keys?${KV}`, { host: hsmHost(emu) });
    expect(list.body.value.map((k: { kid: string }) => k.kid)).toContain(`https://${hsmHost(emu)}/keys/Contoso-SQLMI-CMK`);
    const key = await call(emu, "GET", `/keys/Contoso-SQLMI-CMK/?${KV}`, { host: hsmHost(emu) });
    expect(key.body.key.kty).toBe("RSA-HSM");
    expect(Buffer.from(key.body.key.n, "base64url").length).toBe(384); // 3072 bits
    expect(key.body.attributes.exp - key.body.attributes.created).toBeGreaterThanOrEqual(365 * DAY);
    expect(key.body.attributes.created).toBe(Math.floor(NOW.getTime() / 1000) - 20 * DAY);
  });

  it("enforces local RBAC (403 Forbidden) by scope inheritance", async () => {
    const sqlIdentity = unsignedJwt("b2000000-0000-4000-8000-000000000001");
    const own = await call(emu, "GET", `/keys/Contoso-SQLMI-CMK/?${KV}`, { host: hsmHost(emu), token: sqlIdentity });
    expect(own.status).toBe(200);
    const other = await call(emu, "GET", `/keys/Contoso-DISK-CMK/?${KV}`, { host: hsmHost(emu), token: sqlIdentity });
    expect([other.status, other.body.error.code]).toEqual([403, "Forbidden"]);
  });

  it("validates rotation policies (≥ P28D) and rotates with exp = created + expiryTime", async () => {
    const bad = await call(emu, "PUT", `/keys/Contoso-DISK-CMK/rotationpolicy?${KV}`, {
      host: hsmHost(emu),
      body: { lifetimeActions: [{ trigger: { timeAfterCreate: "P7D" }, action: { type: "Rotate" } }], attributes: { expiryTime: "P1Y" } },
    });
    expect([bad.status, bad.body.error.code]).toEqual([400, "BadParameter"]);
    const rotated = await call(emu, "POST", `/keys/Contoso-DISK-CMK/rotate?${KV}`, { host: hsmHost(emu) });
    expect(rotated.status).toBe(200);
    expect(rotated.body.attributes.created).toBe(Math.floor(NOW.getTime() / 1000));
    expect(rotated.body.attributes.exp).toBe(Math.floor(new Date("2027-11-28T12:00:00Z").getTime() / 1000));
    // DES with rotationToLatestKeyVersionEnabled follows the new version within an hour of the emulator clock.
    const desPath = `${S}/resourceGroups/rg-contoso-identity/providers/Microsoft.Compute/diskEncryptionSets/des-contoso-southindia?api-version=2025-01-02`;
    const before = await call(emu, "GET", desPath);
    expect(before.body.properties.activeKey.keyUrl).not.toBe(rotated.body.key.kid);
    await call(emu, "POST", "/_emulator/clock", { token: null, body: { advance: "PT59M" } });
    expect((await call(emu, "GET", desPath)).body.properties.activeKey.keyUrl).toBe(before.body.properties.activeKey.keyUrl);
    await call(emu, "POST", "/_emulator/clock", { token: null, body: { advance: "PT1M" } });
    const des = await call(emu, "GET", desPath);
    expect(des.body.properties.activeKey.keyUrl).toBe(rotated.body.key.kid);
    expect(des.body.properties.previousKeys).toHaveLength(1);
  });

  it("lists role assignments by scope semantics and filters", async () => {
    const base = "/keys/Contoso-STORAGE-CMK/providers/Microsoft.Authorization/roleAssignments?api-version=7.6";
    const all = await call(emu, "GET", base, { host: hsmHost(emu) });
    const atScope = await call(emu, "GET", `${base}&$filter=${encodeURIComponent("atScope()")}`, { host: hsmHost(emu) });
    const byPrincipal = await call(emu, "GET", `/providers/Microsoft.Authorization/roleAssignments?api-version=7.6&$filter=${encodeURIComponent("principalId eq 'a1000000-0000-4000-8000-000000000003'")}`, { host: hsmHost(emu) });
    expect(all.body.value.length).toBe(6); // 4 at "/", 2 at the key (its service identity, KeyWarden)
    expect(atScope.body.value.length).toBe(6);
    expect(byPrincipal.body.value.map((a: { properties: { scope: string } }) => a.properties.scope).sort()).toEqual(["/", "/", "/keys/Contoso-DISK-CMK", "/keys/Contoso-SQLMI-CMK", "/keys/Contoso-STORAGE-CMK"]);
    const defs = await call(emu, "GET", "/providers/Microsoft.Authorization/roleDefinitions?api-version=7.6", { host: hsmHost(emu) });
    expect(defs.body.value.find((d: { name: string }) => d.name === "21dbd100-6940-42c2-9190-5d6cb909625b").properties.roleName).toBe("Managed HSM Crypto User");
  });
});

describe("ARM", () => {
  it("pages with absolute nextLinks that include api-version", async () => {
    await call(emu, "POST", "/_emulator/config", { token: null, body: { pageSize: 2 } });
    const names: string[] = [];
    let next: string | undefined = `${S}/providers/Microsoft.Compute/disks?api-version=2025-01-02`;
    let pages = 0;
    while (next) {
      const r = await call(emu, "GET", next);
      expect(r.status).toBe(200);
      names.push(...r.body.value.map((d: { name: string }) => d.name));
      next = r.body.nextLink;
      if (next) expect(next).toMatch(new RegExp(`^${emu.endpoint}/.*api-version=2025-01-02`));
      pages++;
    }
    expect(pages).toBe(2);
    expect(names.sort()).toEqual(["contoso-dc-ci-01-datadisk-0", "contoso-dc-ci-01-osdisk", "contoso-dc-si-01-datadisk-0", "contoso-dc-si-01-osdisk"]);
  });

  it("runs a DES update LRO through several polls and applies it on success", async () => {
    await call(emu, "POST", "/_emulator/config", { token: null, body: { lroPolls: 3 } });
    const desPath = `${S}/resourceGroups/rg-contoso-identity/providers/Microsoft.Compute/diskEncryptionSets/des-contoso-centralindia?api-version=2025-01-02`;
    const versions = await call(emu, "GET", `/keys/Contoso-DISK-CMK/versions?${KV}`, { host: hsmHost(emu) });
    const oldKid = versions.body.value[0].kid as string;
    const bad = await call(emu, "PATCH", desPath, { body: { properties: { activeKey: { keyUrl: `https://${hsmHost(emu)}/keys/Contoso-DISK-CMK/${"0".repeat(32)}` } } } });
    expect([bad.status, bad.body.error.code]).toEqual([400, "InvalidParameter"]);
    const accepted = await call(emu, "PATCH", desPath, { body: { properties: { activeKey: { keyUrl: oldKid }, rotationToLatestKeyVersionEnabled: false } } });
    expect(accepted.status).toBe(202);
    const statusUrl = accepted.headers["azure-asyncoperation"] as string;
    const statuses: string[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(emu, "GET", statusUrl)).body.status);
    expect(statuses).toEqual(["InProgress", "InProgress", "InProgress", "Succeeded"]);
    const final = await call(emu, "GET", accepted.headers.location as string);
    expect(final.status).toBe(200);
    expect(final.body.properties.activeKey.keyUrl).toBe(oldKid);
    expect(final.body.properties.rotationToLatestKeyVersionEnabled).toBe(false);
  });

  it("rejects an encryption protector naming a missing MI key", async () => {
    const r = await call(emu, "PUT", `${S}/resourceGroups/rg-contoso-sql/providers/Microsoft.Sql/managedInstances/contoso-sqlmi-01/encryptionProtector/current?api-version=2020-11-01-preview`, {
      body: { properties: { serverKeyType: "AzureKeyVault", serverKeyName: "Contoso-PROD-HSM_Contoso-SQLMI-CMK_ffffffffffffffffffffffffffffffff" } },
    });
    expect(r.status).toBe(400);
  });

  it("injects faults and latency for the next N calls of an operation", async () => {
    const bad = await call(emu, "POST", "/_emulator/faults", { token: null, body: { operationId: "NoSuchOp", status: 500 } });
    expect(bad.body.error.message).toMatch(/^operationId:/);
    await call(emu, "POST", "/_emulator/faults", { token: null, body: { operationId: "Disks_List", status: 503, count: 2 } });
    const url = `${S}/providers/Microsoft.Compute/disks?api-version=2025-01-02`;
    expect((await call(emu, "GET", url)).body.error.code).toBe("ServiceUnavailable");
    expect((await call(emu, "GET", url)).status).toBe(503);
    expect((await call(emu, "GET", url)).status).toBe(200);
    await call(emu, "POST", "/_emulator/faults", { token: null, body: { operationId: "GetKeys", latencyMs: 150 } });
    const t0 = Date.now();
    expect((await call(emu, "GET", `/keys?${KV}`, { host: hsmHost(emu) })).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it("storage: a versionless account follows the latest key version once a day has passed", async () => {
    await call(emu, "POST", `/keys/Contoso-STORAGE-CMK/rotate?${KV}`, { host: hsmHost(emu) });
    await call(emu, "POST", "/_emulator/clock", { token: null, body: { advance: "P1D" } });
    const latest = await call(emu, "GET", `/keys/Contoso-STORAGE-CMK/?${KV}`, { host: hsmHost(emu) });
    const sa = await call(emu, "GET", `${S}/resourceGroups/rg-contoso-storage/providers/Microsoft.Storage/storageAccounts/contosoprodcmkst01?api-version=2025-08-01`);
    expect(sa.body.properties.encryption.keyvaultproperties.currentVersionedKeyIdentifier).toBe(latest.body.key.kid);
    expect(sa.body.properties.encryption.keyvaultproperties.keyversion).toBe("");
  });
});
