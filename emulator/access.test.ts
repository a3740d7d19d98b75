/**
 * The consumer access model and native auto-rotation on the emulator clock, driven through the real SDK clients
 * (RBAC by hand, as azure-wire.md §1.6: there is no installable SDK for Managed HSM local RBAC).
 */
import { ComputeManagementClient } from "@azure/arm-compute";
import { SqlManagementClient } from "@azure/arm-sql";
import { StorageManagementClient } from "@azure/arm-storage";
import { isRestError } from "@azure/core-rest-pipeline";
import { KeyClient } from "@azure/keyvault-keys";
import { describe, expect, it } from "vitest";
import { emulatorPerFile } from "./emulatorPerFile.js";
import { holdsWrapAndUnwrap, indexHsm, UNWRAP_ACTION, WRAP_ACTION } from "./backend/access.js";
import type { HsmState } from "./backend/state.js";
import { call, hsmHost, staticCredential, SUBSCRIPTION_ID, unsignedJwt } from "./test-support.js";

const NOW = new Date("2026-11-28T12:00:00.000Z");
const HSM = "Contoso-PROD-HSM";
const DES_RG = "rg-contoso-identity";
const DES = "des-contoso-southindia";
const SQL_RG = "rg-contoso-sql";
const MI = "contoso-sqlmi-01";
const SQL_IDENTITY = "b2000000-0000-4000-8000-000000000001";
/** Managed HSM Administrator at "/": may delete role assignments. */
const HSM_ADMIN = "a1000000-0000-4000-8000-000000000001";

interface AccessView {
  now: string;
  consumers: { resourceId: string; kind: string; accessible: boolean; code?: string; reason?: string; keyUrl: string; version: string | null; principalId: string | null; since: string; disks?: string[] }[];
  transitions: { at: string; resourceId: string; kind: string; accessible: boolean; code?: string; reason?: string }[];
}


const t = emulatorPerFile(() => ({ fixture: "contoso-reference", now: NOW, lroPolls: 1 }));

const arm = () => ({ endpoint: t.emu.endpoint, tlsOptions: { ca: t.emu.caPem }, retryOptions: { maxRetries: 0 } });
const poll = { updateIntervalInMs: 0 };
const keys = () => new KeyClient(t.emu.hsmUri(HSM), staticCredential(), { agent: t.agent, retryOptions: { maxRetries: 0 } });
/** The newest version's properties (no key material, which the emulator would have to generate). */
const latestVersion = async (name: string) => {
  const all = [];
  for await (const v of keys().listPropertiesOfKeyVersions(name)) all.push(v);
  return all.sort((a, b) => a.createdOn!.getTime() - b.createdOn!.getTime()).pop()!;
};
const access = async (): Promise<AccessView> => (await call(t.emu, "GET", "/_emulator/access", { token: null })).body as AccessView;
const lost = async (): Promise<{ count: number; transitions: AccessView["transitions"] }> => (await call(t.emu, "GET", "/_emulator/access/lost", { token: null })).body;
const advance = (d: string) => call(t.emu, "POST", "/_emulator/clock", { token: null, body: { advance: d } });
const consumer = (view: AccessView, name: string) => {
  const c = view.consumers.find((x) => x.resourceId.toLowerCase().endsWith(`/${name.toLowerCase()}`));
  if (!c) throw new Error(`no consumer named ${name} in the access view`);
  return c;
};

describe("access model: the reference estate", () => {
  it("starts with every consumer accessible and no transition", async () => {
    const view = await access();
    expect(view.now).toBe(NOW.toISOString());
    expect(view.consumers.map((c) => c.kind).sort()).toEqual(["diskEncryptionSet", "diskEncryptionSet", "sqlManagedInstance", "storageAccount"]);
    expect(view.consumers.filter((c) => !c.accessible || c.principalId === null || c.version === null)).toEqual([]);
    expect(consumer(view, DES).disks).toHaveLength(2);
    expect(view.transitions).toEqual([]);
    expect(await lost()).toEqual({ count: 0, transitions: [] });
  });

  it("the drifted estate starts accessible too, and its storage account loses access when its key version expires", async () => {
    await call(t.emu, "POST", "/_emulator/fixture", { token: null, body: { name: "contoso-drifted" } });
    try {
      const start = await access();
      expect(start.consumers).toHaveLength(4);
      expect(start.consumers.filter((c) => !c.accessible)).toEqual([]);
      await advance("P4D");
      expect((await lost()).count).toBe(0);
      await advance("P2D");
      const after = await lost();
      expect(after.count).toBe(1);
      expect(after.transitions[0]).toMatchObject({ at: "2026-12-04T12:00:00.000Z", kind: "storageAccount", accessible: false, code: "KeyVersionExpired" });
    } finally {
      // A fixture load keeps the clock where it is; the other tests expect NOW.
      await call(t.emu, "POST", "/_emulator/clock", { token: null, body: { set: NOW.toISOString() } });
      await call(t.emu, "POST", "/_emulator/fixture", { token: null, body: { name: "contoso-reference" } });
    }
  });
});

describe("access model: a consumer switched to a key version its identity cannot unwrap", () => {
  it("makes the DES and its disks inaccessible, and DiskRP reports autoKeyRotationError", async () => {
    const compute = new ComputeManagementClient(staticCredential(), SUBSCRIPTION_ID, arm());
    // The DES's identity holds Crypto Service Encryption User on Contoso-DISK-CMK only.
    const foreign = await latestVersion("Contoso-SQLMI-CMK");
    await advance("PT5M");
    const updated = await compute.diskEncryptionSets.update(DES_RG, DES, { activeKey: { keyUrl: foreign.id! } }, poll);
    expect(updated.activeKey?.keyUrl).toBe(foreign.id);
    expect(updated.autoKeyRotationError).toMatchObject({ code: "KeyVaultAccessForbidden" });
    expect(updated.autoKeyRotationError?.message).toContain("lacks wrap and unwrap on '/keys/Contoso-SQLMI-CMK'");

    const view = await access();
    const des = consumer(view, DES);
    expect(des).toMatchObject({ accessible: false, code: "MissingWrapUnwrap", version: foreign.version, since: "2026-11-28T12:05:00.000Z" });
    expect(des.disks?.map((d) => d.split("/").pop()).sort()).toEqual(["contoso-dc-si-01-datadisk-0", "contoso-dc-si-01-osdisk"]);
    expect(consumer(view, "des-contoso-centralindia").accessible).toBe(true);
    const gone = await lost();
    expect(gone.count).toBe(1);
    expect(gone.transitions[0]).toMatchObject({ at: "2026-11-28T12:05:00.000Z", resourceId: des.resourceId, accessible: false });

    // Back on its own key: access returns, and the history keeps the outage.
    const own = await latestVersion("Contoso-DISK-CMK");
    const back = await compute.diskEncryptionSets.update(DES_RG, DES, { activeKey: { keyUrl: own.id! } }, poll);
    expect(back.autoKeyRotationError).toBeUndefined();
    const after = await access();
    expect(consumer(after, DES).accessible).toBe(true);
    expect(after.transitions.map((t) => t.accessible)).toEqual([false, true]);
    expect((await lost()).count).toBe(1);
  });

  it("makes a SQL MI Inaccessible when its identity loses wrap and unwrap on the protector's key", async () => {
    const sql = new SqlManagementClient(staticCredential(), SUBSCRIPTION_ID, arm());
    expect((await sql.managedInstances.get(SQL_RG, MI)).state).toBe("Ready");
    const scope = "/keys/Contoso-SQLMI-CMK";
    const assignments = await call(t.emu, "GET", `${scope}/providers/Microsoft.Authorization/roleAssignments?api-version=7.6&$filter=${encodeURIComponent(`principalId eq '${SQL_IDENTITY}'`)}`, { host: hsmHost(t.emu) });
    expect(assignments.body.value).toHaveLength(1);
    const del = await call(t.emu, "DELETE", `${scope}/providers/Microsoft.Authorization/roleAssignments/${assignments.body.value[0].name}?api-version=7.6`, { host: hsmHost(t.emu), token: unsignedJwt(HSM_ADMIN) });
    expect(del.status).toBe(200);
    expect((await sql.managedInstances.get(SQL_RG, MI)).state).toBe("Inaccessible");
    expect(consumer(await access(), MI)).toMatchObject({ accessible: false, code: "MissingWrapUnwrap", principalId: SQL_IDENTITY });
  });
});

describe("native auto-rotation on the emulator clock", () => {
  it("after a rotation, a versionless storage account catches up only once the clock has advanced", async () => {
    const storage = new StorageManagementClient(staticCredential(), SUBSCRIPTION_ID, arm());
    const before = await storage.storageAccounts.getProperties("rg-contoso-storage", "contosoprodcmkst01");
    const rotated = await keys().rotateKey("Contoso-STORAGE-CMK");
    expect(rotated.id).not.toBe(before.encryption?.keyVaultProperties?.currentVersionedKeyIdentifier);
    await advance("PT23H59M");
    const stillOld = await storage.storageAccounts.getProperties("rg-contoso-storage", "contosoprodcmkst01");
    expect(stillOld.encryption?.keyVaultProperties?.currentVersionedKeyIdentifier).toBe(before.encryption?.keyVaultProperties?.currentVersionedKeyIdentifier);
    await advance("PT1M");
    const caughtUp = await storage.storageAccounts.getProperties("rg-contoso-storage", "contosoprodcmkst01");
    expect(caughtUp.encryption?.keyVaultProperties?.currentVersionedKeyIdentifier).toBe(rotated.id);
    expect(caughtUp.encryption?.keyVaultProperties?.lastKeyRotationTimestamp).toEqual(new Date("2026-11-29T12:00:00.000Z"));
    expect(consumer(await access(), "contosoprodcmkst01")).toMatchObject({ accessible: true, version: rotated.properties.version });
    expect((await lost()).count).toBe(0);
  });

  it("SQL MI with autoRotationEnabled follows within its configured delay; the config names bad fields", async () => {
    const bad = await call(t.emu, "POST", "/_emulator/config", { token: null, body: { autoRotationDelays: { sqlManagedInstance: "soon" } } });
    expect([bad.status, bad.body.error.message]).toEqual([400, expect.stringMatching(/^autoRotationDelays\.sqlManagedInstance:/)]);
    const unknownKind = await call(t.emu, "POST", "/_emulator/config", { token: null, body: { autoRotationDelays: { vm: "PT1M" } } });
    expect(unknownKind.body.error.message).toMatch(/^autoRotationDelays\.vm:/);
    const set = await call(t.emu, "POST", "/_emulator/config", { token: null, body: { autoRotationDelays: { sqlManagedInstance: "PT10M" }, lroPolls: 0 } });
    expect(set.body).toMatchObject({ lroPolls: 0, autoRotationDelays: { sqlManagedInstance: "PT10M" } });

    const sql = new SqlManagementClient(staticCredential(), SUBSCRIPTION_ID, arm());
    const ep = await sql.managedInstanceEncryptionProtectors.get(SQL_RG, MI, "current");
    await sql.managedInstanceEncryptionProtectors.beginCreateOrUpdateAndWait(SQL_RG, MI, "current", { serverKeyName: ep.serverKeyName, serverKeyType: "AzureKeyVault", autoRotationEnabled: true }, poll);
    const rotated = await keys().rotateKey("Contoso-SQLMI-CMK");
    await advance("PT9M");
    expect((await sql.managedInstanceEncryptionProtectors.get(SQL_RG, MI, "current")).uri).toBe(ep.uri);
    await advance("PT1M");
    const followed = await sql.managedInstanceEncryptionProtectors.get(SQL_RG, MI, "current");
    expect(followed).toMatchObject({ uri: rotated.id, serverKeyName: `${HSM}_Contoso-SQLMI-CMK_${rotated.properties.version}`, autoRotationEnabled: true });
    expect((await lost()).count).toBe(0);
  });
});

describe("access model: RBAC evaluation", () => {
  const definition = (name: string, dataActions: string[], notDataActions: string[] = []) => ({
    name,
    roleName: name,
    description: "",
    type: "CustomRole" as const,
    assignableScopes: ["/"],
    permissions: [{ actions: [], notActions: [], dataActions, notDataActions }],
  });
  const hsm = (roles: ReturnType<typeof definition>[], scope: string): HsmState => ({
    name: "h",
    label: "h",
    resourceId: "/x",
    recoverableDays: 90,
    recoveryLevel: "Recoverable",
    keys: new Map(),
    settings: new Map(),
    roleDefinitions: roles,
    roleAssignments: roles.map((r, i) => ({ name: `a${i}`, scope, principalId: "P", roleDefinitionId: `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${r.name}` })),
  });

  it("honours wildcards, notDataActions and covering scopes", () => {
    const wildcard = definition("w", ["Microsoft.KeyVault/managedHsm/keys/*"]);
    expect(holdsWrapAndUnwrap(indexHsm(hsm([wildcard], "/keys")), "p", "k1")).toBe(true);
    expect(holdsWrapAndUnwrap(indexHsm(hsm([wildcard], "/keys/k2")), "P", "k1")).toBe(false);
    const noUnwrap = definition("n", ["Microsoft.KeyVault/managedHsm/keys/*"], [UNWRAP_ACTION]);
    expect(holdsWrapAndUnwrap(indexHsm(hsm([noUnwrap], "/")), "P", "k1")).toBe(false);
    // Two roles together grant what neither grants alone.
    expect(holdsWrapAndUnwrap(indexHsm(hsm([definition("a", [WRAP_ACTION]), definition("b", [UNWRAP_ACTION])], "/keys/K1")), "P", "k1")).toBe(true);
  });
});

describe("long-running operations on the emulator clock", () => {
  const desUrl = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${DES_RG}/providers/Microsoft.Compute/diskEncryptionSets/${DES}?api-version=2025-01-02`;

  it("take their configured duration of emulator time, and a clock step completes them", async () => {
    const bad = await call(t.emu, "POST", "/_emulator/config", { token: null, body: { lroDurations: { "DiskEncryptionSets_*": "two minutes" } } });
    expect([bad.status, bad.body.error.message]).toEqual([400, expect.stringMatching(/^lroDurations\.DiskEncryptionSets_\*:/)]);
    await call(t.emu, "POST", "/_emulator/config", { token: null, body: { lroDurations: { "DiskEncryptionSets_*": "PT2M" }, lroPolls: 0 } });
    const accepted = await call(t.emu, "PATCH", desUrl, { body: { tags: { slow: "yes" } } });
    expect(accepted.status).toBe(202);
    expect(accepted.headers["retry-after"]).toBe("1");
    const statusUrl = accepted.headers["azure-asyncoperation"] as string;
    for (let i = 0; i < 3; i++) expect((await call(t.emu, "GET", statusUrl)).body.status).toBe("InProgress");
    const running = await call(t.emu, "GET", accepted.headers.location as string);
    expect([running.status, running.headers["retry-after"]]).toEqual([202, "1"]);
    await advance("PT1M59S");
    expect((await call(t.emu, "GET", desUrl)).body.tags).toEqual({});
    await advance("PT1S");
    // Completed by the clock step itself, before anyone polls again.
    expect((await call(t.emu, "GET", desUrl)).body.tags).toEqual({ slow: "yes" });
    const done = await call(t.emu, "GET", statusUrl);
    expect(done.body).toMatchObject({ status: "Succeeded", startTime: NOW.toISOString(), endTime: "2026-11-28T12:02:00.000Z" });
  });

  it("Retry-After is configurable (0 is sent as 0, which the SDK ignores)", async () => {
    await call(t.emu, "POST", "/_emulator/config", { token: null, body: { lroRetryAfterSeconds: 0 } });
    const accepted = await call(t.emu, "PATCH", desUrl, { body: { tags: { a: "b" } } });
    expect(accepted.headers["retry-after"]).toBe("0");
    const bad = await call(t.emu, "POST", "/_emulator/config", { token: null, body: { lroRetryAfterSeconds: -1 } });
    expect(bad.body.error.message).toMatch(/^lroRetryAfterSeconds:/);
  });

  it("end Failed with ARM's status body; the change is not applied and the SDK poller throws the code", async () => {
    const unknown = await call(t.emu, "POST", "/_emulator/lro-failures", { token: null, body: { operationId: "Disks_List", code: "X", message: "y" } });
    expect([unknown.status, unknown.body.error.message]).toEqual([400, expect.stringMatching(/^operationId:/)]);
    const added = await call(t.emu, "POST", "/_emulator/lro-failures", {
      token: null,
      body: { operationId: "DiskEncryptionSets_Update", code: "KeyVaultAccessForbidden", message: "Please grant get, wrap and unwrap key permissions." },
    });
    expect(added.status).toBe(201);

    const raw = await call(t.emu, "PATCH", desUrl, { body: { tags: { failed: "yes" } } });
    const polls = [];
    for (let i = 0; i < 2; i++) polls.push((await call(t.emu, "GET", raw.headers["azure-asyncoperation"] as string)).body); // lroPolls 1
    const status = polls[1];
    expect(polls[0].status).toBe("InProgress");
    expect(status).toEqual({
      name: expect.any(String),
      status: "Failed",
      startTime: NOW.toISOString(),
      endTime: NOW.toISOString(),
      error: { code: "KeyVaultAccessForbidden", message: "Please grant get, wrap and unwrap key permissions." },
    });
    expect((await call(t.emu, "GET", desUrl)).body.tags).toEqual({});

    // Through the SDK: a glob rule for the SQL LROs, used once.
    await call(t.emu, "POST", "/_emulator/lro-failures", { token: null, body: { operationId: "ManagedInstance*", code: "AzureKeyVaultMissingPermissions", message: "The server is missing permissions." } });
    const sql = new SqlManagementClient(staticCredential(), SUBSCRIPTION_ID, arm());
    const ep = await sql.managedInstanceEncryptionProtectors.get(SQL_RG, MI, "current");
    const attempt = sql.managedInstanceEncryptionProtectors.beginCreateOrUpdateAndWait(SQL_RG, MI, "current", { serverKeyName: ep.serverKeyName, serverKeyType: "AzureKeyVault", autoRotationEnabled: true }, poll);
    const err = await attempt.then(() => undefined, (e: unknown) => e);
    // core-lro throws a plain Error naming the code in its message, not a RestError with `code` (core-lro 2.7/3.3).
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe("The long-running operation has failed. AzureKeyVaultMissingPermissions. The server is missing permissions.");
    expect(isRestError(err)).toBe(false);
    expect((await sql.managedInstanceEncryptionProtectors.get(SQL_RG, MI, "current")).autoRotationEnabled).toBe(false);
    const retried = await sql.managedInstanceEncryptionProtectors.beginCreateOrUpdateAndWait(SQL_RG, MI, "current", { serverKeyName: ep.serverKeyName, serverKeyType: "AzureKeyVault", autoRotationEnabled: true }, poll);
    expect(retried.autoRotationEnabled).toBe(true);
  });
});
