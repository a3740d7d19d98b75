import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseFixture } from "../../emulator/fixture.js";
import { runCli, type CliIo } from "../../src/cli/runCli.js";
import { azureClients, collectFromAzure } from "../../src/cli/wiring.js";
import { createAzureClients } from "../../src/lib/azure/clients.js";
import { MANAGED_HSM_ROLES } from "../../src/lib/rbac/builtinRoles.js";
import { assignmentNameFor } from "../../src/lib/rbac/setupRolesPlan.js";
import { SETTINGS_READER_ROLE } from "../../src/lib/permissions.js";
import { isWrite, KEYWARDEN_PRINCIPAL_ID, startTestEmulator, type TestEmulator } from "../support/emulator.js";

/** `keywarden setup-roles` end to end: a security officer gives KeyWarden's identity its HSM roles on the emulator. */
const HSM = "Contoso-PROD-HSM";
const SECURITY_OFFICERS = "a1000000-0000-4000-8000-000000000001";
const KEY_TEAM = "a1000000-0000-4000-8000-000000000002";
const NOBODY = "c3000000-0000-4000-8000-00000000dead";
const KEYS = ["Contoso-SQLMI-CMK", "Contoso-DISK-CMK", "Contoso-STORAGE-CMK"];
const SETTINGS_READ = "Microsoft.KeyVault/managedHsm/settings/read/action";
const SUBSCRIPTION = "5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10";
const WORKSPACE = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-contoso-monitor/providers/Microsoft.OperationalInsights/workspaces/law-contoso-security`;
const CENTRAL_SUBSCRIPTION = "7c2e9d41-3b5a-4f6e-9a1d-8e0f2b4c6d88";
const CENTRAL_WORKSPACE = WORKSPACE.replace(SUBSCRIPTION, CENTRAL_SUBSCRIPTION);

interface FixtureCopy {
  subscriptions?: { subscriptionId: string }[];
  managedHsms: { diagnosticSettings: { workspaceId?: string }[] }[];
  armRoleAssignments: { principalId: string; role: string; scope: string }[];
}

/** Exactly the HSM rows of src/lib/permissions.ts for the Contoso policy, as (role GUID, scope). */
const DOCUMENTED = [
  [MANAGED_HSM_ROLES.cryptoAuditor.guid, "/"],
  [SETTINGS_READER_ROLE.roleGuid, "/"],
  ...KEYS.map((k) => [MANAGED_HSM_ROLES.cryptoUser.guid, `/keys/${k}`]),
].map(([role, scope]) => `${role} ${scope}`).sort();

describe("keywarden setup-roles", () => {
  let t: TestEmulator;
  /** The Contoso reference estate where KeyWarden holds nothing on the HSM and its custom role is not defined. */
  let bare: unknown;
  /** The reference estate with KeyWarden's Crypto User at /keys (broader than the table asks) instead of on each key. */
  let reference: unknown;

  beforeAll(async () => {
    t = await startTestEmulator("contoso-reference");
    const fixturePath = new URL("../../emulator/fixtures/contoso-reference.json", import.meta.url);
    const broad = JSON.parse(await readFile(fixturePath, "utf8")) as { managedHsms: { roleAssignments: { principalId: string; role: string; scope: string }[] }[] };
    for (const hsm of broad.managedHsms) {
      const perKey = (a: { principalId: string; role: string; scope: string }) => a.principalId === KEYWARDEN_PRINCIPAL_ID && a.role === MANAGED_HSM_ROLES.cryptoUser.name && a.scope.startsWith("/keys/");
      hsm.roleAssignments = [...hsm.roleAssignments.filter((a) => !perKey(a)), { principalId: KEYWARDEN_PRINCIPAL_ID, role: MANAGED_HSM_ROLES.cryptoUser.name, scope: "/keys" }];
    }
    parseFixture(broad);
    reference = broad;
    const copy = JSON.parse(await readFile(fixturePath, "utf8")) as { managedHsms: { roleAssignments: { principalId: string }[]; customRoles?: unknown[] }[] };
    for (const hsm of copy.managedHsms) {
      hsm.roleAssignments = hsm.roleAssignments.filter((a) => a.principalId !== KEYWARDEN_PRINCIPAL_ID);
      hsm.customRoles = [];
    }
    parseFixture(copy); // fails here, not in the emulator, if the variant is not a valid fixture
    bare = copy;
  });
  afterAll(() => t?.close());
  beforeEach(async () => {
    await t.control("POST", "/_emulator/fixture", bare);
  });

  function cli(caller = SECURITY_OFFICERS, extra: Partial<CliIo> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      stdout: (text) => void out.push(text),
      stderr: (text) => void err.push(text),
      env: t.env({ KEYWARDEN_EMULATOR_PRINCIPAL_ID: caller }),
      readFile: (path) => readFile(path, "utf8"),
      writeFile: async () => undefined,
      ...extra,
    };
    return {
      run: (...argv: string[]) => runCli(argv, io, { collect: collectFromAzure, clients: azureClients }),
      out: () => out.join(""),
      err: () => err.join(""),
    };
  }

  const writesSince = (mark: number) => t.exchanges.slice(mark).filter(isWrite);
  const succeededWrites = (mark: number) => writesSince(mark).filter((e) => e.status >= 200 && e.status < 300);

  /** KeyWarden's assignments on the HSM, read back as the security officers through the RBAC client. */
  async function keywardenAssignments(): Promise<string[]> {
    const config = await t.config({ KEYWARDEN_EMULATOR_PRINCIPAL_ID: SECURITY_OFFICERS });
    const roles = createAzureClients(config.settings).hsmRoles(t.emulator.hsmUri(HSM));
    const seen = new Map<string, string>();
    for (const scope of ["/", "/keys", ...KEYS.map((k) => `/keys/${k}`)]) {
      for (const a of await roles.listRoleAssignments(scope)) {
        if (a.principalId === KEYWARDEN_PRINCIPAL_ID) seen.set(a.id, `${a.roleDefinitionId.split("/").pop()} ${a.scope}`);
      }
    }
    return [...seen.values()].sort();
  }

  it("creates exactly the documented assignments and the custom role, verifies them, and KeyWarden can then read the HSM", async () => {
    expect(await keywardenAssignments()).toEqual([]);
    const mark = t.exchanges.length;
    const c = cli();
    expect(await c.run("setup-roles", "--principal", KEYWARDEN_PRINCIPAL_ID, "--yes")).toBe(0);
    expect(c.out()).toMatch(/KeyWarden Settings Reader \(role definition\)\s+\/\s+create/);
    expect(c.out()).toMatch(/Managed HSM Crypto User\s+\/keys\/Contoso-DISK-CMK\s+create/);
    expect(c.out()).toContain("Verified: principal a1000000-0000-4000-8000-000000000003 now holds every Managed HSM role of the permission table on 1 HSM (6 changes made).");
    // The conditional ARM row: Contoso's audit workspace is in the subscription KeyWarden reads, so Reader covers it.
    expect(c.out()).toContain(
      `Log Analytics Reader (ARM, arm-log-analytics-reader) on the audit workspace: skipped: workspace ${WORKSPACE} is in subscription ${SUBSCRIPTION}, where KeyWarden's Reader (arm-reader) covers the query`,
    );

    const writes = succeededWrites(mark);
    expect(writes.map((e) => e.operationId).sort()).toEqual([...Array(5).fill("RoleAssignments_Create"), "RoleDefinitions_CreateOrUpdate"].sort());
    expect(writesSince(mark)).toHaveLength(writes.length);
    expect(await keywardenAssignments()).toEqual(DOCUMENTED);
    // Stable names: what a rerun computes from (HSM, scope, role, principal).
    const created = writes.filter((e) => e.operationId === "RoleAssignments_Create").map((e) => e.path.split("/").pop()).sort();
    expect(created).toEqual(
      [
        assignmentNameFor(HSM, "/", MANAGED_HSM_ROLES.cryptoAuditor.guid, KEYWARDEN_PRINCIPAL_ID),
        assignmentNameFor(HSM, "/", SETTINGS_READER_ROLE.roleGuid, KEYWARDEN_PRINCIPAL_ID),
        ...KEYS.map((k) => assignmentNameFor(HSM, `/keys/${k}`, MANAGED_HSM_ROLES.cryptoUser.guid, KEYWARDEN_PRINCIPAL_ID)),
      ].sort(),
    );

    const admin = createAzureClients((await t.config({ KEYWARDEN_EMULATOR_PRINCIPAL_ID: SECURITY_OFFICERS })).settings).hsmRbac(t.emulator.hsmUri(HSM));
    const definition = await admin.getRoleDefinition(SETTINGS_READER_ROLE.roleGuid);
    expect(definition.properties).toMatchObject({ roleName: SETTINGS_READER_ROLE.roleName, type: "CustomRole", assignableScopes: ["/"] });
    expect(definition.properties?.permissions?.flatMap((p) => p.dataActions ?? [])).toEqual([SETTINGS_READ]);

    // The roles are the ones KeyWarden needs: its own inventory reads keys, RBAC and settings without an error.
    const snapshot = await t.collect();
    expect(snapshot.errors.filter((e) => /^(key|keys|rbac|managedHsm\.settings)/.test(e.part))).toEqual([]);
    expect(snapshot.managedHsms[0]?.settings?.length).toBeGreaterThan(0);
  });

  it("a second run finds nothing to do and writes nothing", async () => {
    expect(await cli().run("setup-roles", "--principal", KEYWARDEN_PRINCIPAL_ID, "--yes")).toBe(0);
    const mark = t.exchanges.length;
    const again = cli();
    expect(await again.run("setup-roles", "--principal", KEYWARDEN_PRINCIPAL_ID, "--yes")).toBe(0);
    expect(again.out()).toContain("Nothing to do: principal a1000000-0000-4000-8000-000000000003 holds every Managed HSM role of the permission table on 1 HSM.");
    expect(again.out()).not.toMatch(/\bcreate\b/);
    expect(writesSince(mark)).toEqual([]);
    expect(t.exchanges.slice(mark).length).toBeGreaterThan(0);
    expect(await keywardenAssignments()).toEqual(DOCUMENTED);
  });

  it("--dry-run prints the plan and writes nothing; without --yes in a pipeline it refuses; on a terminal it asks", async () => {
    const mark = t.exchanges.length;
    const dry = cli();
    expect(await dry.run("setup-roles", "--principal", KEYWARDEN_PRINCIPAL_ID, "--dry-run")).toBe(0);
    expect(dry.out().match(/\bcreate\b/g)).toHaveLength(6);
    expect(dry.out()).toContain("Dry run: 6 changes planned, nothing was changed.");
    const piped = cli();
    expect(await piped.run("setup-roles", "--principal", KEYWARDEN_PRINCIPAL_ID)).toBe(2);
    expect(piped.err()).toMatch(/pass --yes/);
    let asked = "";
    const declined = cli(SECURITY_OFFICERS, { isTerminal: true, prompt: async (q) => ((asked = q), "no") });
    expect(await declined.run("setup-roles", "--principal", KEYWARDEN_PRINCIPAL_ID)).toBe(0);
    expect(asked).toContain("Make 6 changes for principal a1000000-0000-4000-8000-000000000003?");
    expect(declined.err()).toContain("nothing was changed");
    expect(writesSince(mark)).toEqual([]);
    expect(await keywardenAssignments()).toEqual([]);
  });

  it("a caller without Managed HSM Administrator fails with exit 1 and a message naming the role, and changes nothing", async () => {
    const mark = t.exchanges.length;
    // The key team holds Crypto User at "/": it can read the RBAC but not write it.
    const keyTeam = cli(KEY_TEAM);
    expect(await keyTeam.run("setup-roles", "--principal", KEYWARDEN_PRINCIPAL_ID, "--yes")).toBe(1);
    expect(keyTeam.err()).toContain("Managed HSM Contoso-PROD-HSM refused to let the caller create the role definition KeyWarden Settings Reader (403 Forbidden)");
    expect(keyTeam.err()).toContain("setup-roles must run as a holder of Managed HSM Administrator");
    // Someone with no role on the HSM cannot even read what exists.
    const nobody = cli(NOBODY);
    expect(await nobody.run("setup-roles", "--principal", KEYWARDEN_PRINCIPAL_ID, "--dry-run")).toBe(1);
    expect(nobody.err()).toContain("refused to let the caller read its role definitions (403 Forbidden)");
    expect(nobody.err()).toContain("Managed HSM Administrator");
    expect(succeededWrites(mark)).toEqual([]);
    expect(await keywardenAssignments()).toEqual([]);
  });

  it("reports an assignment broader than the table as too broad, adds the narrow ones and deletes nothing", async () => {
    await t.control("POST", "/_emulator/fixture", reference);
    const before = await keywardenAssignments();
    expect(before).toContain(`${MANAGED_HSM_ROLES.cryptoUser.guid} /keys`);
    const mark = t.exchanges.length;
    const c = cli();
    expect(await c.run("setup-roles", "--principal", KEYWARDEN_PRINCIPAL_ID, "--yes")).toBe(0);
    expect(c.out()).toMatch(/Managed HSM Crypto Auditor\s+\/\s+present/);
    expect(c.out().match(/too broad: Managed HSM Crypto User at \/keys /g)).toHaveLength(1);
    expect(c.out()).toContain(`KeyWarden needs it only at ${KEYS.map((k) => `/keys/${k}`).join(", ")}.`);
    expect(c.out()).toContain('az keyvault role assignment delete --hsm-name Contoso-PROD-HSM --assignee a1000000-0000-4000-8000-000000000003 --role "Managed HSM Crypto User" --scope /keys');
    expect(succeededWrites(mark).map((e) => e.operationId)).toEqual(Array(KEYS.length).fill("RoleAssignments_Create"));
    expect(writesSince(mark).filter((e) => e.method === "DELETE")).toEqual([]);
    expect(await keywardenAssignments()).toEqual([...DOCUMENTED, `${MANAGED_HSM_ROLES.cryptoUser.guid} /keys`].sort());
  });

  /** `bare` changed by `edit` (validated as a fixture before the emulator sees it). */
  function variant(edit: (f: FixtureCopy) => void): FixtureCopy {
    const f = structuredClone(bare) as FixtureCopy;
    edit(f);
    parseFixture(f);
    return f;
  }

  it("asks for Log Analytics Reader, through targets.json, when the audit workspace is in a subscription KeyWarden does not read", async () => {
    await t.control(
      "POST",
      "/_emulator/fixture",
      variant((f) => {
        f.subscriptions = [...(f.subscriptions ?? []), { subscriptionId: CENTRAL_SUBSCRIPTION }];
        for (const ds of f.managedHsms[0]!.diagnosticSettings) if (ds.workspaceId === WORKSPACE) ds.workspaceId = CENTRAL_WORKSPACE;
      }),
    );
    const mark = t.exchanges.length;
    const c = cli();
    expect(await c.run("setup-roles", "--principal", KEYWARDEN_PRINCIPAL_ID, "--dry-run")).toBe(0);
    expect(c.out()).toContain(`Log Analytics Reader (ARM, arm-log-analytics-reader) on the audit workspace: needed: workspace ${CENTRAL_WORKSPACE} is in subscription ${CENTRAL_SUBSCRIPTION}, which KeyWarden does not read`);
    expect(c.out()).toContain(`deploy infra/targets.json with workspaceResourceId=${CENTRAL_WORKSPACE}`);
    expect(c.out()).toContain("Dry run: 6 changes planned, nothing was changed.");
    // It read the HSM's diagnostic settings through ARM, and wrote nothing there or anywhere.
    expect(t.exchanges.slice(mark).filter((e) => e.operationId === "DiagnosticSettings_List").map((e) => e.status)).toEqual([200]);
    expect(writesSince(mark)).toEqual([]);
  });

  it("an HSM Administrator who may not read ARM still gets the HSM roles; whether the workspace needs Log Analytics Reader is then unknown", async () => {
    await t.control(
      "POST",
      "/_emulator/fixture",
      variant((f) => {
        f.armRoleAssignments = f.armRoleAssignments.filter((a) => a.principalId !== SECURITY_OFFICERS);
      }),
    );
    const c = cli();
    expect(await c.run("setup-roles", "--principal", KEYWARDEN_PRINCIPAL_ID, "--yes")).toBe(0);
    expect(c.out()).toContain(
      "Log Analytics Reader (ARM, arm-log-analytics-reader) on the audit workspace: unknown: could not read the HSM's diagnostic settings (403 AuthorizationFailed); it is needed only if their audit workspace is in a subscription KeyWarden does not read",
    );
    expect(c.out()).toContain("(6 changes made)");
    expect(await keywardenAssignments()).toEqual(DOCUMENTED);
  });

  it("needs the principal: from --principal or KEYWARDEN_PRINCIPAL_ID, a GUID", async () => {
    const none = cli();
    expect(await none.run("setup-roles", "--dry-run")).toBe(2);
    expect(none.err()).toContain("pass --principal <object id> (or set KEYWARDEN_PRINCIPAL_ID)");
    const bad = cli();
    expect(await bad.run("setup-roles", "--principal", "keywarden-app")).toBe(2);
    expect(bad.err()).toContain('--principal: "keywarden-app" is not an object id');
    const out: string[] = [];
    const fromSetting = await runCli(["setup-roles", "--dry-run"], {
      stdout: (text) => void out.push(text),
      stderr: () => undefined,
      env: t.env({ KEYWARDEN_EMULATOR_PRINCIPAL_ID: SECURITY_OFFICERS, KEYWARDEN_PRINCIPAL_ID: KEYWARDEN_PRINCIPAL_ID.toUpperCase() }),
      readFile: (path) => readFile(path, "utf8"),
      writeFile: async () => undefined,
    }, { collect: collectFromAzure, clients: azureClients });
    expect(fromSetting).toBe(0);
    expect(out.join("")).toContain(`roles of principal ${KEYWARDEN_PRINCIPAL_ID}`);
  });
});
