import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvocationContext, type Timer } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyRotationHandler } from "../../src/functions/keyRotation.js";
import { ROTATIONS_STREAM } from "../../src/lib/alerts/alertRows.js";
import { REGISTERED_CONTROLS } from "../../src/lib/compliance/checks/index.js";
import { evaluate } from "../../src/lib/compliance/evaluate.js";
import { loadControls } from "../../src/lib/compliance/registry.js";
import type { ControlResult } from "../../src/lib/compliance/types.js";
import { parseFixture } from "../../emulator/fixture.js";
import { generateEstate } from "../../emulator/generate.js";
import type { PolicyDocumentInput } from "../../src/lib/config/policySchema.js";
import { CONSUMER_OPERATOR_ACTIONS, CONSUMER_OPERATOR_ROLE, PERMISSIONS, type PermissionGrant } from "../../src/lib/permissions.js";
import type { RunResult } from "../../src/lib/rotation/executor.js";
import { createRuntime, setRuntime } from "../../src/lib/runtime.js";
import { CONTOSO_POLICY_FILE, isWrite, KEYWARDEN_PRINCIPAL_ID, startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { rotationHarness, type RotationHarness } from "../support/rotationHarness.js";

/**
 * Least privilege, enforced: the emulator authorises ARM (and the query, metrics, Event Grid and Logs Ingestion APIs)
 * by Azure RBAC and the HSM by its local RBAC. With exactly the grants of src/lib/permissions.ts KeyWarden scans,
 * plans, rotates and verifies without one 403; without any one grant exactly that grant's capability fails, cleanly.
 */
interface Assignment {
  principalId: string;
  role: string;
  scope: string;
}
interface FixtureJson {
  subscriptionId: string;
  managedHsms: { name: string; resourceGroup: string; keys: { name: string; rotationPolicy?: unknown }[]; roleAssignments: Assignment[]; diagnosticSettings: { workspaceId?: string }[] }[];
  diskEncryptionSets: { name: string; rotationToLatestKeyVersionEnabled: boolean }[];
  storageAccounts: { name: string; encryption: { key?: string } }[];
  eventGridTopics: { name: string; resourceGroup: string }[];
  dataCollectionRules: { name: string; resourceGroup: string }[];
  armRoleDefinitions: { name: string; roleName: string; actions: string[] }[];
  armRoleAssignments: Assignment[];
}

const KW = KEYWARDEN_PRINCIPAL_ID;
const readFixture = (name: string): FixtureJson => JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "emulator", "fixtures", `${name}.json`), "utf8")) as FixtureJson;

/** The reference estate with every kind of consumer move in it (as test/contract/rotation.test.ts builds it). */
function rotationFixture(): FixtureJson {
  const f = readFixture("contoso-reference");
  for (const des of f.diskEncryptionSets) if (des.name === "des-contoso-southindia") des.rotationToLatestKeyVersionEnabled = false;
  for (const account of f.storageAccounts) if (account.name === "contosoprodcmkst01") account.encryption.key = "Contoso-PROD-HSM/Contoso-STORAGE-CMK@1";
  for (const key of f.managedHsms[0]!.keys) if (key.name === "Contoso-DISK-CMK") delete key.rotationPolicy;
  return f;
}

/** The key whose Crypto User grant the hsm-crypto-user case removes (its consumer: the SQL MI). */
const UNGRANTED_KEY = "Contoso-SQLMI-CMK";

/** `f` without KeyWarden's grant `row` (for hsm-crypto-user: its grant on one key). */
function without(f: FixtureJson, row: PermissionGrant): FixtureJson {
  const copy = structuredClone(f);
  const isRow = (a: Assignment) => a.principalId === KW && a.role === row.roleName && (row.id !== "hsm-crypto-user" || a.scope === `/keys/${UNGRANTED_KEY}`);
  if (row.plane === "arm") copy.armRoleAssignments = copy.armRoleAssignments.filter((a) => !isRow(a));
  else for (const hsm of copy.managedHsms) hsm.roleAssignments = hsm.roleAssignments.filter((a) => !isRow(a));
  const removed = row.plane === "arm" ? f.armRoleAssignments.length - copy.armRoleAssignments.length : f.managedHsms[0]!.roleAssignments.length - copy.managedHsms[0]!.roleAssignments.length;
  expect(removed, `the fixture grants ${row.id} to KeyWarden`).toBe(1);
  return copy;
}

const ALL_DUE = "P181D";

/** KeyWarden's own state storage account in the Contoso story (blob storage itself is not emulated). */
const STATE_ACCOUNT = "contosokeywardenst01";

/**
 * What PERMISSIONS asks for in an estate, as "<plane> <role> <scope>" (scopes lower-cased), from the policy and the fixture.
 * Log Analytics Reader is conditional: only on a workspace outside the subscriptions Reader is granted on.
 */
function documentedGrants(f: FixtureJson, policy: PolicyDocumentInput): string[] {
  const sub = (id: string) => `/subscriptions/${id}`;
  const hsms = f.managedHsms.map((h) => ({ h, id: `${sub((h as { subscriptionId?: string }).subscriptionId ?? f.subscriptionId)}/resourceGroups/${h.resourceGroup}/providers/Microsoft.KeyVault/managedHSMs/${h.name}` }));
  const own = (type: string, x: { name: string; resourceGroup: string }) => `${sub(f.subscriptionId)}/resourceGroups/${x.resourceGroup}/providers/${type}/${x.name}`;
  const readerSubscriptions = [...new Set([...(policy.subscriptions ?? []), ...hsms.map(({ id }) => id.split("/")[2]!)].map((s) => s.toLowerCase()))];
  const scopes = (row: PermissionGrant): string[] => {
    switch (row.scopeTemplate) {
      case "/subscriptions/{subscriptionId}":
        return readerSubscriptions.map(sub);
      case "{workspaceResourceId}":
        return hsms
          .flatMap(({ h }) => h.diagnosticSettings.map((d) => d.workspaceId).filter((w): w is string => w !== undefined))
          .filter((w) => !readerSubscriptions.includes(w.split("/")[2]!.toLowerCase()));
      case "/":
        return ["/"];
      case "/keys/{keyName}":
        return (policy.managedHsms ?? []).flatMap((h) => (h.keys ?? []).map((k) => `/keys/${k.name}`));
      case "{storageAccountResourceId}":
        return [`${sub(f.subscriptionId)}/resourceGroups/rg-contoso-hsm/providers/Microsoft.Storage/storageAccounts/${STATE_ACCOUNT}`];
      case "{topicResourceId}":
        return f.eventGridTopics.filter((x) => x.name === TOPIC).map((x) => own("Microsoft.EventGrid/topics", x));
      case "{dataCollectionRuleResourceId}":
        return f.dataCollectionRules.filter((x) => x.name === RULE).map((x) => own("Microsoft.Insights/dataCollectionRules", x));
      default:
        throw new Error(`no resolution for scope template ${row.scopeTemplate} (${row.id})`);
    }
  };
  return PERMISSIONS.flatMap((row) => scopes(row).map((scope) => `${row.plane} ${row.roleName} ${scope.toLowerCase()}`)).sort();
}

/** What the fixture grants KeyWarden, in the same form. */
function fixtureGrants(f: FixtureJson): string[] {
  const arm = f.armRoleAssignments.filter((a) => a.principalId === KW).map((a) => `arm ${a.role} ${a.scope.toLowerCase()}`);
  const hsm = f.managedHsms.flatMap((h) => h.roleAssignments.filter((a) => a.principalId === KW).map((a) => `hsm ${a.role} ${a.scope.toLowerCase()}`));
  return [...arm, ...hsm].sort();
}
const TOPIC = "contoso-keywarden-events";
const RULE = "dcr-keywarden";
const TIMER: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };

describe("the fixtures grant KeyWarden exactly what PERMISSIONS documents", () => {
  const contoso = JSON.parse(readFileSync(CONTOSO_POLICY_FILE, "utf8")) as PolicyDocumentInput;
  for (const name of ["contoso-reference", "contoso-drifted"]) {
    it(name, () => {
      const f = readFixture(name);
      const documented = documentedGrants(f, contoso);
      // Crypto User on each of the three keys; no Log Analytics Reader, as the workspace is in the subscription KeyWarden reads.
      expect(documented.length).toBe(PERMISSIONS.length - 1 + 2);
      expect(documented.filter((g) => g.startsWith("arm Log Analytics Reader "))).toEqual([]);
      expect(fixtureGrants(f)).toEqual(documented);
    });
  }

  it("the reference estate with a central logging workspace: Log Analytics Reader on that workspace, and only there", () => {
    const f = centralWorkspace(readFixture("contoso-reference"));
    const documented = documentedGrants(f, contoso);
    expect(documented.filter((g) => g.startsWith("arm Log Analytics Reader "))).toEqual([`arm Log Analytics Reader ${CENTRAL_WORKSPACE.toLowerCase()}`]);
    expect(fixtureGrants(f)).toEqual(documented);
  });

  it("a generated estate over three subscriptions", () => {
    const { fixture, policy } = generateEstate({ subscriptions: 3, consumers: 20, platformKeyFraction: 0 });
    const f = parseFixture(fixture) as unknown as FixtureJson;
    expect(fixtureGrants(f)).toEqual(documentedGrants(f, policy));
    expect(fixtureGrants(f).filter((g) => g.startsWith("arm Reader "))).toHaveLength(3);
  });

  it("the custom role's actions are CONSUMER_OPERATOR_ACTIONS, no more", () => {
    for (const name of ["contoso-reference", "contoso-drifted"]) {
      const role = readFixture(name).armRoleDefinitions.find((d) => d.name === CONSUMER_OPERATOR_ROLE.roleGuid);
      expect(role?.roleName).toBe(CONSUMER_OPERATOR_ROLE.roleName);
      expect(role?.actions).toEqual([...CONSUMER_OPERATOR_ACTIONS]);
    }
  });
});

describe("least privilege against the emulator's RBAC", () => {
  let t: TestEmulator;
  const controls = loadControls(REGISTERED_CONTROLS);

  beforeAll(async () => {
    t = await startTestEmulator("contoso-reference");
  });
  afterAll(() => t?.close());

  /** Loads `f` with the clock back at the real now (fixture times are relative to the clock at load; scans use the real clock). */
  async function load(f: FixtureJson): Promise<void> {
    await t.control("POST", "/_emulator/clock", { set: new Date().toISOString() });
    await t.control("POST", "/_emulator/fixture", f);
  }

  async function scan(): Promise<{ results: ControlResult[]; errors: { part: string; code?: string; statusCode?: number }[] }> {
    const snapshot = await t.collect();
    const report = evaluate(snapshot, (await t.config()).policy, controls, { now: new Date(snapshot.collectedAt) });
    return { results: report.controls.flatMap((c) => c.results), errors: snapshot.errors };
  }

  const byControl = (results: ControlResult[]) => new Map(results.map((r) => [`${r.controlId} ${r.resourceId}`.toLowerCase(), r.status]));
  // A 401 is the Key Vault SDK's challenge (its first request carries no token), not a refusal.
  const forbidden = (mark: number) => t.exchanges.slice(mark).filter((e) => e.status === 403).map((e) => `${e.operationId ?? e.path}`);

  function statuses(run: RunResult): string[] {
    return run.outcomes.map((o) => `${o.kind} ${o.resource.name}: ${o.status}`).sort();
  }

  async function rotate(f: FixtureJson): Promise<{ h: RotationHarness; run: RunResult; mark: number }> {
    await load(f);
    const h = await rotationHarness(t);
    await h.advance(ALL_DUE);
    const mark = h.mark();
    const run = await h.execute(await h.plan());
    return { h, run, mark };
  }

  let baseline: Map<string, string>;

  /** The rotation timer (plan mode) on `f` half a year on: what it published to the topic and sent to Logs Ingestion. */
  async function timers(f: FixtureJson) {
    await load(f);
    await t.control("POST", "/_emulator/clock", { advance: ALL_DUE });
    await t.control("DELETE", `/_emulator/eventgrid/topics/${TOPIC}/events`);
    const { rules } = (await t.control("GET", "/_emulator/monitor/rules")) as { rules: { name: string; immutableId: string }[] };
    const stateDir = mkdtempSync(join(tmpdir(), "kw-least-"));
    const logs: [string, string][] = [];
    const mark = t.exchanges.length;
    try {
      setRuntime(createRuntime({ env: t.env({ KEYWARDEN_STATE_DIR: stateDir, KEYWARDEN_EVENTS_TOPIC_ENDPOINT: t.emulator.topicEndpoint(TOPIC), KEYWARDEN_MONITOR_INGESTION_ENDPOINT: t.emulator.ingestionEndpoint(RULE), KEYWARDEN_MONITOR_DCR_ID: String(rules.find((r) => r.name === RULE)?.immutableId), KEYWARDEN_ROTATION_MODE: "execute" }) }));
      await keyRotationHandler(TIMER, new InvocationContext({ invocationId: "rotation", functionName: "keyRotation", logHandler: (level, ...args) => logs.push([level, args.map(String).join(" ")]) }));
    } finally {
      setRuntime(undefined);
      rmSync(stateDir, { recursive: true, force: true });
    }
    const events = ((await t.control("GET", `/_emulator/eventgrid/topics/${TOPIC}/events`)) as { events: unknown[] }).events.length;
    const rows = ((await t.control("GET", `/_emulator/monitor/rules/${RULE}/streams/${ROTATIONS_STREAM}/rows`)) as { rows: unknown[] }).rows.length;
    // The Key Vault SDK's challenge 401s are not refusals; Event Grid answers a missing role with 401, Logs Ingestion with 403.
    const refused = t.exchanges.slice(mark).filter((e) => (e.status === 401 && e.operationId === "PublishEvents") || e.status === 403).map((e) => `${e.status} ${e.operationId ?? e.path}`);
    // Changes to the estate (the rotation's own writes), apart from what the timer tells the topic and Azure Monitor.
    const changed = t.exchanges.slice(mark).filter((e) => isWrite(e) && !["PublishEvents", "Upload"].includes(e.operationId ?? "") && e.status < 300).length;
    return { events, rows, changed, refused: [...new Set(refused)].sort(), warnings: logs.filter(([level]) => level === "warn" || level === "warning" || level === "error").map(([, l]) => l) };
  }

  it("(a) with exactly the documented grants: scan, plan, rotate and verify succeed, and no request is refused", async () => {
    await load(readFixture("contoso-reference"));
    const mark = t.exchanges.length;
    const { results, errors } = await scan();
    expect(errors).toEqual([]);
    expect(results.length).toBeGreaterThan(0);
    expect(results.filter((r) => r.status === "UNKNOWN").map((r) => r.controlId)).toEqual([]);
    baseline = byControl(results);

    const { h, run } = await rotate(rotationFixture());
    try {
      expect(statuses(run).filter((s) => !/: (changed|pending)$/.test(s))).toEqual([]);
      expect(run.outcomes.length).toBeGreaterThan(0);
      await h.advance("PT1H");
      const verification = await h.verify();
      expect(verification.consumers.length).toBe(4);
      expect(verification.consumers.map((c) => `${c.resource.name}: ${c.verdict}`).filter((v) => !v.endsWith(": moved"))).toEqual([]);
      expect(await h.accessLost()).toBe(0);
    } finally {
      await h.close();
    }
    expect(forbidden(mark)).toEqual([]);
  });

  /** A read grant removed: what the scan collects and concludes, against the full grants' baseline. */
  async function scanWithout(f: FixtureJson, row: PermissionGrant, base: Map<string, string>) {
    await load(without(f, row));
    const mark = t.exchanges.length;
    const { results, errors } = await scan();
    const changed = results.filter((r) => base.get(`${r.controlId} ${r.resourceId}`.toLowerCase()) !== r.status);
    return { results, errors, changed, refused: [...new Set(forbidden(mark))].sort() };
  }

  /** Every result the missing grant changed is UNKNOWN and names the collection errors behind it; none turned PASS or FAIL. */
  function expectCleanUnknowns(changed: ControlResult[], parts: readonly string[]): void {
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.filter((r) => r.status !== "UNKNOWN").map((r) => `${r.controlId} ${r.resourceName} ${r.status}`)).toEqual([]);
    for (const r of changed) {
      const named = (r.evidence.collectionErrors ?? []).map((e) => e.part);
      expect(named.length, `${r.controlId} ${r.resourceName} names its collection errors`).toBeGreaterThan(0);
      expect(named.filter((p) => !parts.includes(p)), `${r.controlId} ${r.resourceName}`).toEqual([]);
    }
  }

  const grant = (id: string): PermissionGrant => {
    const row = PERMISSIONS.find((p) => p.id === id);
    if (!row) throw new Error(`no PERMISSIONS row ${id}`);
    return row;
  };

  it("(b) covers every PERMISSIONS row", () => {
    expect(PERMISSIONS.map((p) => p.id).sort()).toEqual(Object.keys(CASES).sort());
  });

  const CASES: Record<string, () => Promise<void>> = {
    "arm-reader": async () => {
      const r = await scanWithout(readFixture("contoso-reference"), grant("arm-reader"), baseline);
      // No other grant reads the HSM's ARM side (Monitoring Reader on the HSM did, by its */read, before it was dropped):
      // the HSM, its regions, connections, diagnostic settings and metrics are all Reader's.
      const parts = [
        "consumers.diskEncryptionSets",
        "consumers.disks",
        "consumers.sqlManagedInstances",
        "consumers.storageAccounts",
        "consumers.virtualMachines",
        "managedHsm",
        "managedHsm.diagnosticSettings",
        "managedHsm.metrics",
        "managedHsm.privateEndpointConnections",
        "managedHsm.regions",
      ];
      expect([...new Set(r.errors.map((e) => `${e.part} ${e.statusCode} ${e.code}`))].sort()).toEqual(parts.map((p) => `${p} 403 AuthorizationFailed`));
      expectCleanUnknowns(r.changed, parts);
      expect(r.refused).toEqual([
        "DiagnosticSettings_List",
        "DiskEncryptionSets_List",
        "Disks_List",
        "MHSMPrivateEndpointConnections_ListByResource",
        "MHSMRegions_ListByResource",
        "ManagedHsms_Get",
        "ManagedInstances_List",
        "MetricsBatch_Batch",
        "StorageAccounts_List",
        "VirtualMachines_ListAll",
      ]);
    },
    "hsm-crypto-auditor": async () => {
      const r = await scanWithout(readFixture("contoso-reference"), grant("hsm-crypto-auditor"), baseline);
      const parts = ["keys", "rbac.roleAssignments", "rbac.roleDefinitions"];
      expect([...new Set(r.errors.map((e) => `${e.part} ${e.statusCode}`))].sort()).toEqual(parts.map((p) => `${p} 403`));
      expectCleanUnknowns(r.changed, parts);
      expect(r.refused).toEqual(["GetKeys", "RoleAssignments_ListForScope", "RoleDefinitions_List"]);
    },
    "hsm-settings-reader": async () => {
      const r = await scanWithout(readFixture("contoso-reference"), grant("hsm-settings-reader"), baseline);
      expect(r.errors.map((e) => `${e.part} ${e.statusCode}`)).toEqual(["managedHsm.settings 403"]);
      expectCleanUnknowns(r.changed, ["managedHsm.settings"]);
      expect(r.changed.map((c) => c.controlId)).toEqual(["hsm_arm_key_management_disabled"]);
      expect(r.refused).toEqual(["GetSettings"]);
    },
    "arm-log-analytics-reader": async () => {
      // Conditional: Reader's */read covers the workspace query where the workspace sits in a subscription KeyWarden reads
      // (Contoso's), so the reference estate holds no such grant and (a) read its audit signals without it.
      expect(readFixture("contoso-reference").armRoleAssignments.filter((a) => a.principalId === KW && a.role === "Log Analytics Reader")).toEqual([]);
      const audit = [...baseline].filter(([k]) => /^(hsm_audit_events_arriving|hsm_denied_requests_reviewed) /.test(k));
      expect(audit.length).toBeGreaterThan(0);
      expect(audit.filter(([, status]) => status === "UNKNOWN")).toEqual([]);
      // A central logging subscription KeyWarden does not read: only this grant lets it query the workspace.
      const central = centralWorkspace(readFixture("contoso-reference"));
      await load(central);
      const full = await scan();
      expect(full.errors).toEqual([]);
      const r = await scanWithout(central, grant("arm-log-analytics-reader"), byControl(full.results));
      const parts = ["managedHsm.auditEvents", "managedHsm.deniedRequests"];
      expect([...new Set(r.errors.map((e) => `${e.part} ${e.statusCode}`))].sort()).toEqual(parts.map((p) => `${p} 403`));
      expectCleanUnknowns(r.changed, parts);
      expect(r.refused).toEqual(["Query_ResourceExecute"]);
    },
    "hsm-crypto-user": async () => {
      const { h, run, mark } = await rotate(without(rotationFixture(), grant("hsm-crypto-user")));
      try {
        expect(statuses(run)).toEqual([
          "diskEncryptionSet des-contoso-centralindia: pending",
          "diskEncryptionSet des-contoso-southindia: changed",
          "rotateKey Contoso-DISK-CMK: changed",
          `rotateKey ${UNGRANTED_KEY}: failed`,
          "rotateKey Contoso-STORAGE-CMK: changed",
          "rotationPolicy Contoso-DISK-CMK: changed",
          "sqlMiKey contoso-sqlmi-01: skipped",
          "storageAccount contosoprodcmkst01: changed",
          "tdeProtector contoso-sqlmi-01: skipped",
        ]);
        const failed = run.outcomes.find((o) => o.status === "failed");
        expect(failed?.message).toContain("keys/rotate/action");
        expect(forbidden(mark)).toEqual(["RotateKey"]);
        // Nothing was written for the SQL MI: it stays on its (usable) version.
        expect(h.writesSince(mark).filter((e) => /managedInstances/i.test(e.path))).toEqual([]);
        expect(await h.accessLost()).toBe(0);
      } finally {
        await h.close();
      }
    },
    "arm-consumer-operator": async () => {
      const { h, run, mark } = await rotate(without(rotationFixture(), grant("arm-consumer-operator")));
      try {
        expect(statuses(run)).toEqual([
          "diskEncryptionSet des-contoso-centralindia: pending",
          "diskEncryptionSet des-contoso-southindia: failed",
          "rotateKey Contoso-DISK-CMK: changed",
          "rotateKey Contoso-SQLMI-CMK: changed",
          "rotateKey Contoso-STORAGE-CMK: changed",
          "rotationPolicy Contoso-DISK-CMK: changed",
          "sqlMiKey contoso-sqlmi-01: failed",
          "storageAccount contosoprodcmkst01: failed",
          "tdeProtector contoso-sqlmi-01: skipped",
        ]);
        for (const o of run.outcomes.filter((x) => x.status === "failed")) expect(o.message).toContain("AuthorizationFailed");
        expect(forbidden(mark)).toEqual(["ManagedInstanceKeys_CreateOrUpdate", "DiskEncryptionSets_Update", "StorageAccounts_Update"]);
        // Every consumer still reaches a usable version of its key: none lost access, none points at a version it cannot use.
        expect(await h.accessLost()).toBe(0);
        const usable = (await scan()).results.filter((r) => r.controlId === "keys_referenced_versions_usable");
        expect(usable.length).toBeGreaterThan(0);
        expect(usable.filter((r) => r.status !== "PASS").map((r) => r.resourceName)).toEqual([]);
        const moved = (await h.verify()).consumers.filter((c) => c.verdict === "moved").map((c) => c.resource.name);
        expect(moved).toEqual([]);
      } finally {
        await h.close();
      }
    },
    "own-storage-blob-data-owner": async () => {
      // Blob storage is not emulated (the state store's contract suite runs against Azurite, which does not authorise by
      // role): removing the grant must at least change nothing the emulator answers.
      const r = await scanWithout(readFixture("contoso-reference"), grant("own-storage-blob-data-owner"), baseline);
      expect(r.errors).toEqual([]);
      expect(r.changed.map((c) => c.controlId)).toEqual([]);
      expect(r.refused).toEqual([]);
    },
    "own-eventgrid-data-sender": async () => {
      const r = await timers(without(rotationFixture(), grant("own-eventgrid-data-sender")));
      expect(r.events).toBe(0);
      expect(r.refused).toEqual(["401 PublishEvents"]);
      // Each event says it stays queued for the next run: none is dropped.
      expect(r.warnings.filter((w) => /not sent yet .*stays queued for the next run/.test(w))).toHaveLength(full.events);
      // The rotation itself and the alert rows are untouched.
      expect(r.rows).toBe(full.rows);
      expect(r.changed).toBe(full.changed);
    },
    "own-monitoring-metrics-publisher": async () => {
      const r = await timers(without(rotationFixture(), grant("own-monitoring-metrics-publisher")));
      expect(r.rows).toBe(0);
      expect(r.refused).toEqual(["403 Upload"]);
      expect(r.warnings.filter((w) => /^Alerts were not delivered to Azure Monitor: 1 row\(s\) wait in the outbox/.test(w))).toHaveLength(1);
      expect(r.events).toBe(full.events);
      expect(r.changed).toBe(full.changed);
    },
  };

  let full: Awaited<ReturnType<typeof timers>>;
  it("(b) the timers with every grant: events published and alert rows sent, nothing refused", async () => {
    full = await timers(rotationFixture());
    expect(full.events).toBeGreaterThan(0);
    expect(full.rows).toBeGreaterThan(0);
    expect(full.changed).toBeGreaterThan(0);
    expect(full.refused).toEqual([]);
  });

  for (const row of PERMISSIONS) {
    it(`(b) without ${row.id} (${row.capability}): exactly that capability fails, cleanly`, async () => {
      const run = CASES[row.id];
      expect(run, `a case for ${row.id}`).toBeDefined();
      await run!();
    });
  }
});

const CENTRAL_SUBSCRIPTION = "7c2e9d41-3b5a-4f6e-9a1d-8e0f2b4c6d88";
const CENTRAL_WORKSPACE = `/subscriptions/${CENTRAL_SUBSCRIPTION}/resourceGroups/rg-contoso-monitor/providers/Microsoft.OperationalInsights/workspaces/law-contoso-security`;

/**
 * The reference estate with its workspace in a central logging subscription that KeyWarden holds no Reader on, and
 * KeyWarden's Log Analytics Reader there: the one case the conditional grant is documented for.
 */
function centralWorkspace(f: FixtureJson): FixtureJson {
  const copy = structuredClone(f) as FixtureJson & { subscriptions?: { subscriptionId: string }[] };
  const from = copy.managedHsms[0]!.diagnosticSettings[0]!.workspaceId!;
  expect(from.replace(/^\/subscriptions\/[^/]+/, `/subscriptions/${CENTRAL_SUBSCRIPTION}`)).toBe(CENTRAL_WORKSPACE);
  copy.subscriptions = [...(copy.subscriptions ?? []), { subscriptionId: CENTRAL_SUBSCRIPTION }];
  for (const ds of copy.managedHsms[0]!.diagnosticSettings) if (ds.workspaceId === from) ds.workspaceId = CENTRAL_WORKSPACE;
  copy.armRoleAssignments = [...copy.armRoleAssignments, { principalId: KW, role: "Log Analytics Reader", scope: CENTRAL_WORKSPACE }];
  return copy;
}
