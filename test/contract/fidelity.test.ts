/**
 * Fidelity suite: every operation the emulator serves, driven through the real Azure SDK clients (and our Managed
 * HSM RBAC client), with every recorded response body — successes and errors — validated against the official REST
 * specs, through their committed extraction (test/fixtures/azure-specs/extract.json, `npm run gen:specs`), so the suite
 * needs nothing beside the checkout. A newly served operation without a call here fails the coverage test.
 */
import https from "node:https";
import { ComputeManagementClient } from "@azure/arm-compute";
import { KeyVaultManagementClient } from "@azure/arm-keyvault";
import { MonitorClient } from "@azure/arm-monitor";
import { NetworkManagementClient } from "@azure/arm-network";
import { SqlManagementClient } from "@azure/arm-sql";
import { StorageManagementClient } from "@azure/arm-storage";
import type { TokenCredential } from "@azure/core-auth";
import { isRestError, type RestError } from "@azure/core-rest-pipeline";
import { AzureKeyCredential, EventGridPublisherClient } from "@azure/eventgrid";
import { KeyClient } from "@azure/keyvault-keys";
import { isAggregateLogsUploadError, LogsIngestionClient } from "@azure/monitor-ingestion";
import { MetricsClient } from "@azure/monitor-query-metrics";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Exchange } from "../../emulator/index.js";
import { loopbackLookup, SUBSCRIPTION_ID } from "../../emulator/test-support.js";
import { createAzureClients } from "../../src/lib/azure/clients.js";
import { createEmulatorCredential } from "../../src/lib/azure/emulatorCredential.js";
import { ManagedHsmRbacClient, RBAC_API_VERSION } from "../../src/lib/azure/keyvault/rbacClient.js";
import { ManagedHsmSettingsClient, SETTINGS_API_VERSION } from "../../src/lib/azure/keyvault/settingsClient.js";
import { startTestEmulator, KEYWARDEN_PRINCIPAL_ID, type TestEmulator } from "../support/emulator.js";
import {
  FidelityLedger,
  formatFailures,
  formatVersionTable,
  isAzureErrorEnvelope,
  type KnownDeviation,
  LRO_RESULT_MONITOR,
  LRO_STATUS_MONITOR,
  servedSpecOperations,
  specOperationFor,
} from "../support/fidelity.js";
import { contosoWithRisks, FAILOVER_GROUP, VM_REPLICATED } from "../support/riskFixture.js";
import { loadSpecs, type SpecIndex } from "../support/specValidator.js";

const HSM = "Contoso-PROD-HSM";
const HSM_RG = "rg-contoso-hsm";
/** Managed HSM Administrator at "/" in the reference fixture: may write role assignments. */
const HSM_ADMIN = "a1000000-0000-4000-8000-000000000001";
/** Holds no role anywhere. */
const NOBODY = "c3000000-0000-4000-8000-00000000dead";
const CRYPTO_SERVICE_ENCRYPTION_USER = "33413926-3206-4cdd-b39a-83574fe37a17";
const NEW_KEY = "Fidelity-CMK";

/**
 * Where the spec pack and the real wire disagree and the emulator follows the wire. Each entry is excused narrowly
 * (operation, validator error, offending value, body shape) and must still occur, or the summary fails.
 */
const KNOWN_DEVIATIONS: KnownDeviation[] = [
  {
    id: "rbac-per-key-scope",
    operationId: /^RoleAssignments_/,
    error: /\/properties\/scope: must be equal to one of the allowed values/,
    value: /^\/keys\/[0-9A-Za-z-]{1,127}$/,
    reason:
      'rbac.json RoleScope is an extensible enum (x-ms-enum modelAsString: true) listing only "/" and "/keys"; Managed HSM ' +
      'documents per-key scopes "/keys/<key name>" (managed-hsm/role-management.md) and KeyWarden audits them.',
  },
  {
    id: "rbac-data-actions",
    operationId: /^RoleDefinitions_/,
    error: /\/properties\/permissions\/\d+\/(not)?[dD]ataActions\/\d+: must be equal to one of the allowed values/,
    value: /^Microsoft\.KeyVault\/managedHsm\/(settings\/(read|write)\/action|keys\/(rotate|derive)\/action)$/,
    reason:
      "rbac.json DataAction is an extensible enum (modelAsString: true) without the settings/* (Managed HSM settings API), " +
      "keys/rotate/action and keys/derive/action data actions that built-in roles carry on the wire (azure-wire.md §1.4).",
  },
  {
    id: "network-error-envelope",
    operationId: /^PrivateEndpoints_/,
    error: /^PrivateEndpoints_\w+ 4\d\d \/: has property "error" that the spec does not declare$/,
    body: isAzureErrorEnvelope,
    reason:
      "privateEndpoint.json's default is network.json#/definitions/Error, a flat {code, message}; the emulator answers the " +
      '{"error": {code, message}} envelope ARM uses (not verified live for NRP; core-client reads body.error first, so the SDK gets the code either way).',
  },
  {
    id: "sql-error-without-schema",
    operationId: /^ManagedInstance/,
    error: /^ManagedInstance\w+ 4\d\d: the spec declares no response body for default/,
    body: isAzureErrorEnvelope,
    reason:
      "the Microsoft.Sql specs describe errors only in the default response's description (no schema); the emulator " +
      'answers the ARM {"error": {code, message}} envelope, which is what RestError.code comes from (not verified live).',
  },
  {
    id: "storage-errors-undeclared",
    operationId: /^StorageAccounts_/,
    error: /^StorageAccounts_\w+ 4\d\d: status 4\d\d is not declared and there is no default response/,
    body: isAzureErrorEnvelope,
    reason:
      "storage.json 2023-05-01 declares no error response (no default) for StorageAccounts_GetProperties; the emulator " +
      'answers a missing account with 404 ResourceNotFound in the ARM {"error": {code, message}} envelope (not verified live).',
  },
];

let t: TestEmulator;
let spec: SpecIndex;
/** The second pack (azure-specs-more): SQL instance failover groups. */
let specMore: SpecIndex;
let ledger: FidelityLedger;
let agent: https.Agent;
const started = performance.now();

const cred = (oid = KEYWARDEN_PRINCIPAL_ID): TokenCredential => createEmulatorCredential(oid);
const hsmUri = (): string => t.emulator.hsmUri(HSM);
const keyClient = (oid?: string): KeyClient => new KeyClient(hsmUri(), cred(oid), { agent, retryOptions: { maxRetries: 0 } });
const rbacClient = (oid?: string): ManagedHsmRbacClient => new ManagedHsmRbacClient(hsmUri(), cred(oid), { retryOptions: { maxRetries: 0, retryDelayInMs: 0, maxRetryDelayInMs: 0 }, agent });
const settingsClient = (oid?: string): ManagedHsmSettingsClient =>
  new ManagedHsmSettingsClient(hsmUri(), cred(oid), { retryOptions: { maxRetries: 0, retryDelayInMs: 0, maxRetryDelayInMs: 0 }, agent });

/** Built as src/lib/azure/clients.ts builds them: core-client SDKs take credentialScopes, modular ones credentials.scopes. */
const scopes = ["https://management.azure.com/.default"];
const common = () => ({ endpoint: t.emulator.endpoint, tlsOptions: { ca: t.emulator.caPem }, retryOptions: { maxRetries: 0 } });
const coreClient = () => ({ ...common(), credentialScopes: scopes });
const modular = () => ({ ...common(), credentials: { scopes } });
const makeArmClients = () => ({
  keyVault: new KeyVaultManagementClient(cred(), SUBSCRIPTION_ID, modular()),
  compute: new ComputeManagementClient(cred(), SUBSCRIPTION_ID, modular()),
  storage: new StorageManagementClient(cred(), SUBSCRIPTION_ID, modular()),
  sql: new SqlManagementClient(cred(), SUBSCRIPTION_ID, coreClient()),
  network: new NetworkManagementClient(cred(), SUBSCRIPTION_ID, coreClient()),
  monitor: new MonitorClient(cred(), SUBSCRIPTION_ID, coreClient()),
});
let armClients: ReturnType<typeof makeArmClients> | undefined;
/** One set of ARM clients for the whole suite. */
const arm = (): ReturnType<typeof makeArmClients> => (armClients ??= makeArmClients());
const poll = { updateIntervalInMs: 0 };

async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

/** "/subscriptions/s/resourceGroups/<rg>/providers/..." → rg */
const rgOf = (id: string | undefined): string => /\/resourceGroups\/([^/]+)\//i.exec(id ?? "")?.[1] ?? "";

/** The SDK call must fail with this RestError status and code. */
async function expectRestError(p: Promise<unknown>, statusCode: number, code: string): Promise<RestError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  // isRestError, not instanceof: arm-sql/network/monitor (core-client, CJS) may carry another copy of the class.
  expect(isRestError(e), `expected a RestError ${statusCode} ${code}, got ${String(e)}`).toBe(true);
  expect(e).toMatchObject({ statusCode, code });
  return e as RestError;
}

/** Validates the exchanges recorded since the last call; the test fails on any response the spec rejects. */
function expectFidelity(): void {
  const failures = ledger.check(t.exchanges.splice(0));
  // Compared as text so that a failure prints each rejected response readably.
  expect(formatFailures(failures), "responses the spec rejects").toBe("");
}

beforeAll(async () => {
  spec = loadSpecs();
  specMore = loadSpecs("azure-specs-more");
  t = await startTestEmulator("contoso-reference");
  ledger = new FidelityLedger([spec, specMore], t.emulator.operations, KNOWN_DEVIATIONS);
  agent = new https.Agent({ ca: t.emulator.caPem, lookup: loopbackLookup, keepAlive: true });
});

afterEach(async () => {
  // Whatever a failed test left behind is still validated (and reported by the summary test).
  ledger.check(t.exchanges.splice(0));
  await t.control("POST", "/_emulator/config", { pageSize: 25, lroPolls: 2 });
  t.exchanges.length = 0;
});

afterAll(async () => {
  agent?.destroy();
  await t?.close();
  if (ledger) {
    console.log(
      [
        `fidelity: ${ledger.validatedCount} responses validated against the specs, ${ledger.exercised.size} operations answered 2xx, ` +
          `${ledger.statusMonitorBodies.length} LRO status polls; specs loaded in ${Math.round(spec.loadMs + specMore.loadMs)} ms; suite ${Math.round(performance.now() - started)} ms`,
        ...[spec, specMore].map((x) => `specs: ${x.source.kind === "extraction" ? x.source.comment : x.source.root}`),
        "api-versions (SDK → spec pack; fallback = the pack lacks the SDK's version):",
        formatVersionTable(ledger.versions.values()),
        "known spec/wire deviations excused (validator errors):",
        ...KNOWN_DEVIATIONS.map((d) => `  ${d.id} (${ledger.deviationHits.get(d.id) ?? 0}): ${d.reason}`),
      ].join("\n"),
    );
  }
});

describe("fidelity: Managed HSM keys through KeyClient", () => {
  it("lists, reads, creates, updates, sets a rotation policy and rotates", async () => {
    // As the key-management team (Crypto User at "/"): KeyWarden holds Crypto User per managed key only, so it cannot create one.
    const client = keyClient("a1000000-0000-4000-8000-000000000002");
    const names = (await all(client.listPropertiesOfKeys())).map((p) => p.name);
    expect(names.sort()).toEqual(["Contoso-DISK-CMK", "Contoso-SQLMI-CMK", "Contoso-STORAGE-CMK"]);

    const versions = await all(client.listPropertiesOfKeyVersions("Contoso-SQLMI-CMK"));
    expect(versions).toHaveLength(2);
    const latest = await client.getKey("Contoso-SQLMI-CMK");
    const oldest = versions.find((v) => v.version !== latest.properties.version)!;
    const versioned = await client.getKey("Contoso-SQLMI-CMK", { version: oldest.version! });
    expect(versioned.properties.version).toBe(oldest.version);

    const expiresOn = new Date(Math.floor(Date.now() / 1000 + 365 * 86_400) * 1000);
    const created = await client.createKey(NEW_KEY, "RSA-HSM", { keySize: 2048, keyOps: ["wrapKey", "unwrapKey"], expiresOn });
    expect(created).toMatchObject({ name: NEW_KEY, keyType: "RSA-HSM", keyOperations: ["wrapKey", "unwrapKey"] });
    expect(created.properties.expiresOn).toEqual(expiresOn);

    const updatedLatest = await client.updateKeyProperties(NEW_KEY, { tags: { owner: "fidelity" } });
    expect(updatedLatest.properties.tags).toEqual({ owner: "fidelity" });
    const updatedVersion = await client.updateKeyProperties(NEW_KEY, created.properties.version!, { enabled: true, tags: { owner: "fidelity", pass: "2" } });
    expect(updatedVersion.properties.tags).toEqual({ owner: "fidelity", pass: "2" });

    const unset = await client.getKeyRotationPolicy(NEW_KEY);
    expect(unset.lifetimeActions ?? []).toEqual([]);
    const policy = await client.updateKeyRotationPolicy(NEW_KEY, {
      expiresIn: "P1Y",
      lifetimeActions: [
        { action: "Rotate", timeAfterCreate: "P90D" },
        { action: "Notify", timeBeforeExpiry: "P30D" },
      ],
    });
    expect(policy.lifetimeActions).toEqual([
      { action: "Rotate", timeAfterCreate: "P90D" },
      { action: "Notify", timeBeforeExpiry: "P30D" },
    ]);
    expect((await client.getKeyRotationPolicy(NEW_KEY)).expiresIn).toBe("P1Y");

    const rotated = await client.rotateKey(NEW_KEY);
    expect(rotated.properties.version).not.toBe(created.properties.version);
    expect(await all(client.listPropertiesOfKeyVersions(NEW_KEY))).toHaveLength(2);
    expectFidelity();
  });
});

describe("fidelity: Managed HSM local RBAC through our RBAC client", () => {
  const scopes = ["/", "/keys", "/keys/Contoso-SQLMI-CMK"] as const;

  it("lists and reads role definitions", async () => {
    const client = rbacClient();
    const definitions = await client.listRoleDefinitions("/");
    expect(definitions.map((d) => d.properties?.roleName)).toContain("Managed HSM Crypto Service Encryption User");
    const def = await client.getRoleDefinition(CRYPTO_SERVICE_ENCRYPTION_USER);
    expect(def).toMatchObject({ name: CRYPTO_SERVICE_ENCRYPTION_USER, type: "Microsoft.Authorization/roleDefinitions", properties: { roleName: "Managed HSM Crypto Service Encryption User" } });
    expect(def).toEqual(definitions.find((d) => d.name === CRYPTO_SERVICE_ENCRYPTION_USER));
    await expectRestError(client.getRoleDefinition("00000000-0000-4000-8000-000000000000"), 404, "RoleDefinitionNotFound");
    expectFidelity();
  });

  it.each(scopes.map((scope, i) => [scope, `f1de11e0-0000-4000-8000-00000000000${i + 1}`] as const))(
    "lists, creates, reads and deletes a role assignment at %s",
    async (scope, name) => {
      const client = rbacClient(HSM_ADMIN);
      const before = await client.listRoleAssignments(scope);
      expect(before.length).toBeGreaterThan(0);
      const roleDefinitionId = `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${CRYPTO_SERVICE_ENCRYPTION_USER}`;
      const principalId = "b2000000-0000-4000-8000-0000000000f1";
      const created = await client.createRoleAssignment(scope, name, { roleDefinitionId, principalId });
      const expected = {
        id: `${scope === "/" ? "" : scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
        name,
        type: "Microsoft.Authorization/roleAssignments",
        properties: { scope, roleDefinitionId, principalId },
      };
      expect(created).toEqual(expected);
      expect(await client.getRoleAssignment(scope, name)).toEqual(expected);
      expect(await client.listRoleAssignments(scope, `principalId eq '${principalId}'`)).toEqual([expected]);
      expect(await client.deleteRoleAssignment(scope, name)).toEqual(expected);
      await expectRestError(client.getRoleAssignment(scope, name), 404, "RoleAssignmentNotFound");
      expect(await client.listRoleAssignments(scope)).toEqual(before);
      expectFidelity();
    },
  );

  it("creates and replaces a custom role definition (Administrator), refused to a reader", async () => {
    const name = "f1de11e0-0000-4000-8000-0000000000d1";
    const properties = (dataActions: string[]) => ({
      roleName: "Fidelity Settings Reader",
      description: "fidelity",
      permissions: [{ actions: [], notActions: [], dataActions, notDataActions: [] }],
      assignableScopes: ["/"],
    });
    await expectRestError(rbacClient().createOrUpdateRoleDefinition(name, properties(["Microsoft.KeyVault/managedHsm/settings/read/action"])), 403, "Forbidden");
    const admin = rbacClient(HSM_ADMIN);
    const created = await admin.createOrUpdateRoleDefinition(name, properties(["Microsoft.KeyVault/managedHsm/settings/read/action"]));
    expect(created).toMatchObject({ name, type: "Microsoft.Authorization/roleDefinitions", properties: { roleName: "Fidelity Settings Reader", type: "CustomRole" } });
    const replaced = await admin.createOrUpdateRoleDefinition(name, properties(["Microsoft.KeyVault/managedHsm/keys/read/action"]));
    expect(replaced.properties?.permissions?.[0]?.dataActions).toEqual(["Microsoft.KeyVault/managedHsm/keys/read/action"]);
    expect(await admin.getRoleDefinition(name)).toEqual(replaced);
    await expectRestError(admin.createOrUpdateRoleDefinition(CRYPTO_SERVICE_ENCRYPTION_USER, properties([])), 400, "BadParameter");
    expectFidelity();
  });

  it("is what KeyWarden's client factory builds (challenge, api-version, read-only principal)", async () => {
    const config = await t.config();
    const rbac = createAzureClients(config.settings).hsmRbac(hsmUri());
    const atRoot = await rbac.listRoleAssignments("/", "atScope()");
    expect(atRoot.length).toBeGreaterThan(0);
    expect(atRoot.filter((a) => a.properties?.scope !== "/")).toEqual([]);
    expect(t.exchanges.some((e) => e.status === 401)).toBe(true);
    expect(t.exchanges.filter((e) => e.query["api-version"] !== RBAC_API_VERSION)).toEqual([]);
    // Crypto Auditor may read but not write.
    await expectRestError(
      rbac.createRoleAssignment("/keys", "f1de11e0-0000-4000-8000-0000000000ff", { roleDefinitionId: CRYPTO_SERVICE_ENCRYPTION_USER, principalId: NOBODY }),
      403,
      "Forbidden",
    );
    expectFidelity();
  });
});

describe("fidelity: Managed HSM account settings through our settings client", () => {
  const SETTING = "AllowKeyManagementOperationsThroughARM";

  it("lists, reads and updates a setting as the Administrator, and refuses what the spec does not allow", async () => {
    const admin = settingsClient(HSM_ADMIN);
    expect(await admin.listSettings()).toEqual([{ name: SETTING, value: "false", type: "boolean" }]);
    expect(await admin.updateSetting(SETTING, "true")).toEqual({ name: SETTING, value: "true", type: "boolean" });
    expect(await admin.getSetting(SETTING)).toEqual({ name: SETTING, value: "true", type: "boolean" });
    expect(await admin.updateSetting(SETTING, "false")).toMatchObject({ value: "false" });
    await expectRestError(admin.updateSetting(SETTING, "maybe"), 400, "BadParameter");
    await expectRestError(admin.getSetting("NoSuchSetting"), 404, "SettingNotFound");
    expectFidelity();
  });

  it("is what KeyWarden's client factory builds: its custom reader role may read, not write; a principal without a role may not read", async () => {
    const config = await t.config();
    const settings = createAzureClients(config.settings).hsmSettings(hsmUri());
    expect((await settings.listSettings()).map((x) => x.name)).toEqual([SETTING]);
    expect(t.exchanges.filter((e) => e.path.includes("/settings") && e.query["api-version"] !== SETTINGS_API_VERSION)).toEqual([]);
    await expectRestError(settings.updateSetting(SETTING, "true"), 403, "Forbidden");
    await expectRestError(settingsClient(NOBODY).listSettings(), 403, "Forbidden");
    expectFidelity();
  });
});

describe("fidelity: ARM through the management SDK clients", () => {
  it("Microsoft.KeyVault, Microsoft.Network and Microsoft.Insights reads", async () => {
    const c = arm();
    const hsm = await c.keyVault.managedHsms.get(HSM_RG, HSM);
    expect(hsm.properties?.hsmUri).toBe(hsmUri());
    expect((await all(c.keyVault.managedHsms.listByResourceGroup(HSM_RG))).map((h) => h.name)).toEqual([HSM]);
    expect((await all(c.keyVault.managedHsms.listBySubscription())).map((h) => h.name)).toEqual([HSM]);
    expect((await all(c.keyVault.mhsmRegions.listByResource(HSM_RG, HSM))).map((r) => r.name)).toEqual(["southindia", "centralindia"]);
    const pecs = await all(c.keyVault.mhsmPrivateEndpointConnections.listByResource(HSM_RG, HSM));
    expect(pecs).toHaveLength(2);
    for (const pec of pecs) {
      const peId = pec.privateEndpoint!.id!;
      const pe = await c.network.privateEndpoints.get(rgOf(peId), peId.split("/").pop()!);
      expect(pe.id?.toLowerCase()).toBe(peId.toLowerCase());
    }
    const ds = await c.monitor.diagnosticSettings.list(hsm.id!);
    expect(ds.value?.map((s) => s.name)).toEqual(["hsm-audit"]);
    expectFidelity();
  });

  it("Microsoft.Sql: managed instances, keys and the encryption protector (PUT LROs)", async () => {
    const c = arm();
    const [mi] = await all(c.sql.managedInstances.list());
    expect(mi?.name).toBe("contoso-sqlmi-01");
    const rg = rgOf(mi!.id);
    expect((await all(c.sql.managedInstances.listByResourceGroup(rg))).map((m) => m.name)).toEqual([mi!.name]);
    expect((await c.sql.managedInstances.get(rg, mi!.name!)).id).toBe(mi!.id);

    const keys = await all(c.sql.managedInstanceKeys.listByInstance(rg, mi!.name!));
    expect(keys).toHaveLength(2);
    expect((await c.sql.managedInstanceKeys.get(rg, mi!.name!, keys[0]!.name!)).uri).toBe(keys[0]!.uri);

    // Add a key for a version the instance does not know yet, then make it the TDE protector.
    const disk = await keyClient().getKey("Contoso-DISK-CMK");
    const keyName = `${HSM}_Contoso-DISK-CMK_${disk.properties.version}`;
    const added = await c.sql.managedInstanceKeys.beginCreateOrUpdateAndWait(rg, mi!.name!, keyName, { serverKeyType: "AzureKeyVault", uri: disk.id! }, poll);
    expect(added).toMatchObject({ name: keyName, uri: disk.id });
    expect(await c.sql.managedInstanceKeys.get(rg, mi!.name!, keyName)).toMatchObject({ name: keyName });

    const before = await c.sql.managedInstanceEncryptionProtectors.get(rg, mi!.name!, "current");
    expect(before.serverKeyType).toBe("AzureKeyVault");
    const after = await c.sql.managedInstanceEncryptionProtectors.beginCreateOrUpdateAndWait(
      rg,
      mi!.name!,
      "current",
      { serverKeyName: keyName, serverKeyType: "AzureKeyVault", autoRotationEnabled: false },
      poll,
    );
    expect(after).toMatchObject({ serverKeyName: keyName, uri: disk.id, autoRotationEnabled: false });
    expectFidelity();
  });

  it("Microsoft.Compute: disk encryption sets (PATCH LRO), disks and VMs", async () => {
    const c = arm();
    const sets = await all(c.compute.diskEncryptionSets.list());
    expect(sets.map((d) => d.name).sort()).toEqual(["des-contoso-centralindia", "des-contoso-southindia"]);
    const rg = rgOf(sets[0]!.id);
    expect(await all(c.compute.diskEncryptionSets.listByResourceGroup(rg))).toHaveLength(2);
    const des = await c.compute.diskEncryptionSets.get(rg, "des-contoso-southindia");
    const latest = await keyClient().getKey("Contoso-DISK-CMK");
    const updated = await c.compute.diskEncryptionSets.update(rg, des.name!, { activeKey: { keyUrl: latest.id! }, rotationToLatestKeyVersionEnabled: true, tags: { fidelity: "1" } }, poll);
    expect(updated).toMatchObject({ name: des.name, activeKey: { keyUrl: latest.id }, rotationToLatestKeyVersionEnabled: true, tags: { fidelity: "1" } });

    const disks = await all(c.compute.disks.list());
    expect(disks).toHaveLength(4);
    expect(await all(c.compute.disks.listByResourceGroup(rgOf(disks[0]!.id)))).not.toHaveLength(0);
    expect((await c.compute.disks.get(rgOf(disks[0]!.id), disks[0]!.name!)).id).toBe(disks[0]!.id);

    const vms = await all(c.compute.virtualMachines.listAll());
    expect(vms).toHaveLength(2);
    const vm = await c.compute.virtualMachines.get(rgOf(vms[0]!.id), vms[0]!.name!);
    expect(vm.storageProfile?.osDisk?.managedDisk?.diskEncryptionSet?.id).toBeTruthy();
    // VirtualMachine is the one consumer-side resource whose spec declares an etag (DES, disk, storage and SQL have none).
    expect(vm.etag).toBe('"1"');
    expectFidelity();
  });

  it("Microsoft.Storage: accounts and their encryption (synchronous PATCH)", async () => {
    const c = arm();
    const accounts = await all(c.storage.storageAccounts.list());
    expect(accounts.map((a) => a.name).sort()).toEqual(["contosologsst01", "contosoprodcmkst01"]);
    const rg = rgOf(accounts[0]!.id);
    expect(await all(c.storage.storageAccounts.listByResourceGroup(rg))).toHaveLength(2);
    const sa = await c.storage.storageAccounts.getProperties(rg, "contosoprodcmkst01");
    expect(sa.encryption?.keySource).toBe("Microsoft.Keyvault");
    const updated = await c.storage.storageAccounts.update(rg, "contosoprodcmkst01", {
      encryption: { keySource: "Microsoft.Keyvault", keyVaultProperties: { keyName: "Contoso-STORAGE-CMK", keyVaultUri: hsmUri() } },
    });
    expect(updated.encryption?.keyVaultProperties?.currentVersionedKeyIdentifier).toMatch(/\/keys\/Contoso-STORAGE-CMK\/[0-9a-f]{32}$/);
    expectFidelity();
  });
});

describe("fidelity: SQL instance failover groups (azure-specs-more) and VM extensions, on the risks estate", () => {
  it("lists each side's failover groups; a VM's extensions are ids in the list and whole in GET", async () => {
    const risks = await startTestEmulator(contosoWithRisks() as unknown as string);
    try {
      const options = { endpoint: risks.emulator.endpoint, tlsOptions: { ca: risks.emulator.caPem }, retryOptions: { maxRetries: 0 } };
      const sql = new SqlManagementClient(cred(), SUBSCRIPTION_ID, { ...options, credentialScopes: scopes });
      const compute = new ComputeManagementClient(cred(), SUBSCRIPTION_ID, { ...options, credentials: { scopes } });
      const primary = await all(sql.instanceFailoverGroups.listByLocation("rg-contoso-sql", "southindia"));
      const secondary = await all(sql.instanceFailoverGroups.listByLocation("rg-contoso-sql-dr", "centralindia"));
      expect([...primary, ...secondary].map((g) => [g.name, g.replicationRole, g.partnerRegions?.[0]?.replicationRole])).toEqual([
        [FAILOVER_GROUP, "Primary", "Secondary"],
        [FAILOVER_GROUP, "Secondary", "Primary"],
      ]);
      expect(primary[0]?.readWriteEndpoint).toEqual({ failoverPolicy: "Automatic", failoverWithDataLossGracePeriodMinutes: 60 });

      const vms = await all(compute.virtualMachines.listAll());
      const listed = vms.find((vm) => vm.name === VM_REPLICATED);
      expect(listed?.resources?.map((r) => [r.id?.split("/").pop(), r.publisher])).toEqual([["SiteRecovery-Windows", undefined]]);
      const got = await compute.virtualMachines.get(rgOf(listed!.id), VM_REPLICATED);
      expect(got.resources?.map((r) => [r.name, r.publisher, r.typePropertiesType])).toEqual([["SiteRecovery-Windows", "Microsoft.Azure.RecoveryServices.SiteRecovery", "Windows"]]);

      const failures = ledger.check(risks.exchanges.splice(0));
      expect(formatFailures(failures), "responses the spec rejects").toBe("");
    } finally {
      await risks.close();
    }
  });
});

describe("fidelity: Event Grid custom topic through EventGridPublisherClient", () => {
  it("publishes EventGridSchema events with an access key and with a token (200, no body)", async () => {
    const topics = (await t.control("GET", "/_emulator/eventgrid/topics")) as { topics: { name: string; key1: string }[] };
    const topic = topics.topics.find((x) => x.name === "contoso-keywarden-events")!;
    const endpoint = t.emulator.topicEndpoint(topic.name);
    const event = { eventType: "KeyWarden.Fidelity", subject: "Contoso-SQLMI-CMK", dataVersion: "1", data: { ok: true } };
    await new EventGridPublisherClient(endpoint, "EventGrid", new AzureKeyCredential(topic.key1), { agent, retryOptions: { maxRetries: 0 } }).send([event]);
    await new EventGridPublisherClient(endpoint, "EventGrid", cred(), { agent, retryOptions: { maxRetries: 0 } }).send([event]);
    expect(t.exchanges.filter((e) => e.operationId === "PublishEvents").map((e) => e.status)).toEqual([200, 200]);
    expectFidelity();
  });
});

describe("fidelity: Logs Ingestion through LogsIngestionClient", () => {
  it("uploads rows to KeyWarden's rule (204, no body); an unknown rule answers 404 under the spec's ErrorResponse", async () => {
    const { rules } = (await t.control("GET", "/_emulator/monitor/rules")) as { rules: { name: string; immutableId: string }[] };
    const rule = rules.find((r) => r.name === "dcr-keywarden")!;
    const client = new LogsIngestionClient(t.emulator.ingestionEndpoint(rule.name), cred(), { agent, retryOptions: { maxRetries: 0 } });
    await client.upload(rule.immutableId, "Custom-KeyWardenFindings_CL", [{ TimeGenerated: new Date().toISOString(), Fingerprint: "fidelity", Evidence: { ok: true } }]);
    const failed = await client.upload("dcr-00000000000000000000000000000000", "Custom-KeyWardenFindings_CL", [{ Fingerprint: "x" }]).then(
      () => [],
      (e: unknown) => (isAggregateLogsUploadError(e) ? e.errors.map((x) => (x.cause as RestError).statusCode) : [e]),
    );
    expect(failed).toEqual([404]);
    expect(t.exchanges.filter((e) => e.operationId === "Upload").map((e) => e.status)).toEqual([204, 404]);
    expectFidelity();
  });
});

describe("fidelity: metrics batch through MetricsClient", () => {
  it("answers the HSM's Availability and ServiceApiLatency (200); an unknown metric answers 400 under the spec's ErrorResponse", async () => {
    const client = new MetricsClient(`https://southindia.metrics.monitor.azure.com:${t.emulator.port}`, cred(), { agent, retryOptions: { maxRetries: 0 } });
    const hsmId = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${HSM_RG}/providers/Microsoft.KeyVault/managedHSMs/${HSM}`;
    const window = { startTime: new Date(Date.now() - 3 * 3_600_000), endTime: new Date(), interval: "PT1H", aggregation: "average,minimum" };
    const [result] = await client.queryResources([hsmId], ["Availability", "ServiceApiLatency"], "Microsoft.KeyVault/managedHSMs", window);
    expect(result?.metrics.map((m) => m.unit)).toEqual(["Percent", "MilliSeconds"]);
    await expectRestError(client.queryResources([hsmId], ["NoSuchMetric"], "Microsoft.KeyVault/managedHSMs", window), 400, "BadRequest");
    expect(t.exchanges.filter((e) => e.operationId === "MetricsBatch_Batch").map((e) => e.status)).toEqual([200, 400]);
    expectFidelity();
  });
});

describe("fidelity: error responses (validated against the spec's default response)", () => {
  it("404: KeyNotFound on the data plane, ResourceNotFound from every ARM provider", async () => {
    await expectRestError(keyClient().getKey("No-Such-Key"), 404, "KeyNotFound");
    const c = arm();
    await expectRestError(c.keyVault.managedHsms.get(HSM_RG, "No-Such-HSM"), 404, "ResourceNotFound");
    await expectRestError(c.network.privateEndpoints.get("rg-contoso-network", "no-such-pe"), 404, "ResourceNotFound");
    await expectRestError(c.sql.managedInstances.get("rg-contoso-sql", "no-such-mi"), 404, "ResourceNotFound");
    await expectRestError(c.compute.diskEncryptionSets.get("rg-contoso-identity", "no-such-des"), 404, "ResourceNotFound");
    await expectRestError(c.compute.virtualMachines.get("rg-contoso-identity", "no-such-vm"), 404, "ResourceNotFound");
    await expectRestError(c.storage.storageAccounts.getProperties("rg-contoso-storage", "nosuchaccount"), 404, "ResourceNotFound");
    expectFidelity();
  });

  it("403: a principal without any role on the HSM", async () => {
    await expectRestError(all(keyClient(NOBODY).listPropertiesOfKeys()), 403, "Forbidden");
    await expectRestError(rbacClient(NOBODY).listRoleAssignments("/keys"), 403, "Forbidden");
    expectFidelity();
  });

  it("400: a rotation policy shorter than the Managed HSM minimum of P28D", async () => {
    const client = keyClient();
    await expectRestError(client.updateKeyRotationPolicy("Contoso-STORAGE-CMK", { expiresIn: "P7D" }), 400, "BadParameter");
    await expectRestError(client.updateKeyRotationPolicy("Contoso-STORAGE-CMK", { lifetimeActions: [{ action: "Rotate", timeAfterCreate: "P7D" }] }), 400, "BadParameter");
    expectFidelity();
  });
});

describe("fidelity: LRO and paging mechanics through the SDK", () => {
  it("a DES update whose status monitor answers InProgress three times", async () => {
    await t.control("POST", "/_emulator/config", { lroPolls: 3 });
    t.exchanges.length = 0;
    const c = arm();
    const des = await c.compute.diskEncryptionSets.get("rg-contoso-identity", "des-contoso-centralindia");
    const result = await c.compute.diskEncryptionSets.update("rg-contoso-identity", des.name!, { tags: { polls: "3" } }, poll);
    expect(result.tags).toEqual({ polls: "3" });

    const seq = t.exchanges.map((e) => e.operationId);
    const statuses = t.exchanges.filter((e) => e.operationId === LRO_STATUS_MONITOR).map((e) => (e.responseBody as { status?: string }).status);
    expect(statuses).toEqual(["InProgress", "InProgress", "InProgress", "Succeeded"]);
    // PATCH → 202, status polls, then the final GET (Location) that the SDK returned.
    const firstPatch = seq.indexOf("DiskEncryptionSets_Update");
    const lastPoll = seq.lastIndexOf(LRO_STATUS_MONITOR);
    expect(firstPatch).toBeGreaterThanOrEqual(0);
    expect(seq.slice(firstPatch + 1, lastPoll + 1)).toEqual(statuses.map(() => LRO_STATUS_MONITOR));
    const final = t.exchanges[t.exchanges.length - 1]!;
    expect(final).toMatchObject({ operationId: LRO_RESULT_MONITOR, method: "GET", status: 200 });
    expect((final.responseBody as { tags?: unknown }).tags).toEqual({ polls: "3" });
    expectFidelity();
  });

  it("pageSize 1: KeyClient, our RBAC client and the ARM SDKs follow every nextLink", async () => {
    const client = keyClient();
    const c = arm();
    const rbac = rbacClient();
    const whole = {
      keys: (await all(client.listPropertiesOfKeys())).map((k) => k.id),
      versions: (await all(client.listPropertiesOfKeyVersions("Contoso-DISK-CMK"))).map((k) => k.id),
      disks: (await all(c.compute.disks.list())).map((d) => d.id),
      miKeys: (await all(c.sql.managedInstanceKeys.listByInstance("rg-contoso-sql", "contoso-sqlmi-01"))).map((k) => k.id),
      assignments: (await rbac.listRoleAssignments("/")).map((a) => a.id),
    };
    expectFidelity();

    await t.control("POST", "/_emulator/config", { pageSize: 1 });
    t.exchanges.length = 0;
    const paged = {
      keys: (await all(client.listPropertiesOfKeys())).map((k) => k.id),
      versions: (await all(client.listPropertiesOfKeyVersions("Contoso-DISK-CMK"))).map((k) => k.id),
      disks: (await all(c.compute.disks.list())).map((d) => d.id),
      miKeys: (await all(c.sql.managedInstanceKeys.listByInstance("rg-contoso-sql", "contoso-sqlmi-01"))).map((k) => k.id),
      assignments: (await rbac.listRoleAssignments("/")).map((a) => a.id),
    };
    expect(paged).toEqual(whole);
    const pages = (operationId: string) => t.exchanges.filter((e) => e.operationId === operationId && e.status === 200);
    for (const [operationId, n] of [
      ["GetKeys", whole.keys.length],
      ["GetKeyVersions", whole.versions.length],
      ["Disks_List", whole.disks.length],
      ["ManagedInstanceKeys_ListByInstance", whole.miKeys.length],
      ["RoleAssignments_ListForScope", whole.assignments.length],
    ] as const) {
      expect(n, operationId).toBeGreaterThan(1);
      const p = pages(operationId);
      expect(p.map((e) => (e.responseBody as { value: unknown[] }).value.length), operationId).toEqual(Array(n).fill(1));
      // p has n > 1 pages (above): every page after the first follows a skip token.
      expect(p.slice(1).filter((e) => e.query["$skiptoken"] === undefined || e.query["api-version"] === undefined), operationId).toEqual([]);
    }
    expectFidelity();
  });
});

describe("fidelity: the access model's Azure view and failed long-running operations", () => {
  it("a DES that cannot use its key reports autoKeyRotationError, a SQL MI turns Inaccessible, a failed LRO answers ARM's status body", async () => {
    const c = arm();
    const rg = "rg-contoso-identity";
    const des = await c.compute.diskEncryptionSets.get(rg, "des-contoso-southindia");
    // Its identity may wrap and unwrap with Contoso-DISK-CMK only.
    const [foreign] = await all(keyClient().listPropertiesOfKeyVersions("Contoso-SQLMI-CMK"));
    const switched = await c.compute.diskEncryptionSets.update(rg, des.name!, { activeKey: { keyUrl: foreign!.id! } }, poll);
    expect(switched.autoKeyRotationError?.code).toBe("KeyVaultAccessForbidden");
    expect((await all(c.compute.diskEncryptionSets.list())).filter((d) => d.autoKeyRotationError)).toHaveLength(1);

    // The SQL MI: on a key of its own (Ready), then without its identity's grant on that key (Inaccessible).
    const sqlState = async () => (await c.sql.managedInstances.get("rg-contoso-sql", "contoso-sqlmi-01")).state;
    const [ownKey] = (await all(c.sql.managedInstanceKeys.listByInstance("rg-contoso-sql", "contoso-sqlmi-01"))).filter((k) => k.name!.includes("_Contoso-SQLMI-CMK_"));
    await c.sql.managedInstanceEncryptionProtectors.beginCreateOrUpdateAndWait("rg-contoso-sql", "contoso-sqlmi-01", "current", { serverKeyName: ownKey!.name, serverKeyType: "AzureKeyVault" }, poll);
    expect(await sqlState()).toBe("Ready");
    const rbac = rbacClient(HSM_ADMIN);
    const grants = await rbac.listRoleAssignments("/keys/Contoso-SQLMI-CMK", "principalId eq 'b2000000-0000-4000-8000-000000000001'");
    expect(grants).toHaveLength(1);
    for (const g of grants) await rbac.deleteRoleAssignment(g.properties!.scope!, g.name!);
    expect(await sqlState()).toBe("Inaccessible");
    for (const g of grants) await rbac.createRoleAssignment(g.properties!.scope!, g.name!, { roleDefinitionId: g.properties!.roleDefinitionId!, principalId: g.properties!.principalId! });
    expect(await sqlState()).toBe("Ready");

    await t.control("POST", "/_emulator/lro-failures", { operationId: "DiskEncryptionSets_Update", code: "KeyVaultAccessForbidden", message: "Please grant get, wrap and unwrap key permissions." });
    await expect(c.compute.diskEncryptionSets.update(rg, des.name!, { activeKey: { keyUrl: des.activeKey!.keyUrl } }, poll)).rejects.toThrow(/KeyVaultAccessForbidden/);
    const failed = t.exchanges.filter((e) => e.operationId === LRO_STATUS_MONITOR && (e.responseBody as { status?: string }).status === "Failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.responseBody).toMatchObject({ error: { code: "KeyVaultAccessForbidden" } });
    const back = await c.compute.diskEncryptionSets.update(rg, des.name!, { activeKey: { keyUrl: des.activeKey!.keyUrl } }, poll);
    expect(back.autoKeyRotationError).toBeUndefined();
    expectFidelity();
  });
});

describe("fidelity: the ledger itself", () => {
  // A fresh ledger over synthetic exchanges: the checks above are only worth something if these fail.
  const exchange = (over: Partial<Exchange>): Exchange => ({
    operationId: "GetKeyRotationPolicy",
    method: "GET",
    host: "contoso-prod-hsm.managedhsm.azure.net:1",
    path: "/keys/k/rotationpolicy",
    query: { "api-version": "2025-07-01" },
    requestBody: undefined,
    status: 200,
    responseHeaders: {},
    responseBody: { id: "https://h/keys/k/rotationpolicy", lifetimeActions: [], attributes: {} },
    ...over,
  });

  it("rejects invented properties, undeclared statuses and out-of-enum values a deviation does not cover", () => {
    const l = new FidelityLedger(spec, t.emulator.operations, KNOWN_DEVIATIONS);
    expect(l.check([exchange({})])).toEqual([]);
    const bad = l.check([
      exchange({ responseBody: { id: "x", lifetimeActions: [], attributes: {}, invented: true } }),
      exchange({ status: 204, responseBody: undefined }),
      exchange({
        operationId: "RoleAssignments_Get",
        path: "/secrets/providers/Microsoft.Authorization/roleAssignments/a",
        responseBody: { id: "a", name: "a", type: "Microsoft.Authorization/roleAssignments", properties: { scope: "/secrets", roleDefinitionId: "r", principalId: "p" } },
      }),
      exchange({ operationId: "PrivateEndpoints_Get", method: "GET", host: "127.0.0.1:1", path: "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/privateEndpoints/p", query: { "api-version": "2025-05-01" }, status: 404, responseBody: { error: { code: "NotFound" } } }),
    ]);
    expect(bad.map((f) => f.errors.join(" | "))).toEqual([
      expect.stringContaining('has property "invented" that the spec does not declare'),
      expect.stringContaining("status 204 is not declared"),
      expect.stringMatching(/\/properties\/scope: must be equal to one of the allowed values.* — got "\/secrets"/),
      expect.stringContaining('has property "error" that the spec does not declare'), // no message: not the excused envelope
    ]);
    expect(l.statusMonitorBodies).toEqual([]);
  });

  it("flags a status monitor body without a status", () => {
    const l = new FidelityLedger(spec, t.emulator.operations);
    l.check([exchange({ operationId: LRO_STATUS_MONITOR, path: "/subscriptions/s/providers/Microsoft.Emulator/locations/l/operationStatuses/1", responseBody: { state: "Done" } })]);
    expect(l.badStatusMonitorBodies()).toHaveLength(1);
  });
});

describe("fidelity: summary", () => {
  it("every recorded response of a served spec operation validates against the spec", () => {
    ledger.check(t.exchanges.splice(0));
    expect(formatFailures(ledger.failures), `${ledger.failures.length} responses the spec rejects`).toBe("");
    expect(ledger.validatedCount).toBeGreaterThan(100);
    expect(ledger.staleDeviations(), "known deviations that no longer occur (remove them)").toEqual([]);
  });

  it("LRO status monitors answer { status: ... }; final results match the initiating operation", () => {
    expect(ledger.statusMonitorBodies.length).toBeGreaterThanOrEqual(4);
    expect(ledger.badStatusMonitorBodies()).toEqual([]);
    expect(ledger.lroResultsValidated, "DES PATCH final GETs (Location) validated as DiskEncryptionSets_Update 200").toBeGreaterThanOrEqual(2);
  });

  it("every served spec route was driven to a 2xx through an SDK, and errors were exercised", () => {
    const served = servedSpecOperations(t.emulator.operations);
    expect([...ledger.exercised].sort()).toEqual([...new Set(served.map((o) => o.operationId))].sort());
    expect(ledger.unexercisedRoutes()).toEqual([]);
    for (const status of [400, 403, 404]) expect([...ledger.exercisedErrors.values()].flat(), `an error ${status} was validated`).toContain(status);
  });

  it("every served operation exists in the spec pack (operationId, method, spec file and path)", () => {
    const missing = servedSpecOperations(t.emulator.operations)
      .filter((o) => !specOperationFor([spec, specMore], o))
      .map((o) => `${o.operationId} ${o.method} ${o.template} (${o.specFile})`);
    expect(missing).toEqual([]);
    // And nothing the emulator serves outside the pack pretends to be a spec operation, but for the operations named
    // here, whose spec is in neither pack: the Log Analytics query API (operationalinsights data-plane
    // OperationalInsights.json); its contract is pinned by emulator/logAnalytics.test.ts through LogsQueryClient instead.
    const OUTSIDE_THE_PACKS = ["Query_ResourceExecute"];
    const emulatorOnly = t.emulator.operations.filter((o) => o.specFile === undefined).map((o) => o.operationId);
    expect(emulatorOnly.length).toBeGreaterThan(0);
    expect(emulatorOnly.filter((id) => !id.startsWith("emulator."))).toEqual(OUTSIDE_THE_PACKS);
  });
});
