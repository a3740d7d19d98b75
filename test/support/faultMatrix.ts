import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { InvocationContext, type Timer } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { keyRotationHandler } from "../../src/functions/keyRotation.js";
import { ROTATIONS_STREAM } from "../../src/lib/alerts/alertRows.js";
import { createAzureClients } from "../../src/lib/azure/clients.js";
import { createCredential } from "../../src/lib/azure/credential.js";
import { createRequestLayer, requestLayerOptions } from "../../src/lib/azure/requests.js";
import type { Clock } from "../../src/lib/clock.js";
import { KEYWARDEN_EVENT_TYPES } from "../../src/lib/events/keywardenEvents.js";
import { collectEstate } from "../../src/lib/inventory/collect.js";
import { listRunIds } from "../../src/lib/rotation/journal.js";
import type { PlanStep } from "../../src/lib/rotation/plan.js";
import { planRotation, STORAGE_CATCH_UP } from "../../src/lib/rotation/planner.js";
import { runRotation } from "../../src/lib/rotation/runRotation.js";
import { verifyRotation } from "../../src/lib/rotation/verify.js";
import { createRuntime, setRuntime, type Runtime } from "../../src/lib/runtime.js";
import type { StateStore } from "../../src/lib/state/stateStore.js";
import type { Exchange } from "../../emulator/index.js";
import { SETTING_DEFAULTS } from "../../src/lib/config/settings.js";
import { azuriteConnectionString } from "./azuriteGlobalSetup.js";
import { startBlobHangProxy, type BlobHangProxy, type BlobRequestHead } from "./blobHangProxy.js";
import { startTestEmulator, type TestEmulator } from "./emulator.js";
import { CONTOSO_TOPIC, topicKey } from "./eventTopic.js";
import { interceptStore, type StoreCall } from "./failingStore.js";

/**
 * The fault matrix (issue 10): one cell per (operation × fault). Each cell starts from the fixture estate as
 * loaded, injects the fault for one rotation round as the timer runs it (execute mode, events and alerts on),
 * clears it, reruns until the estate converges (at most twice), and checks the invariants: every consumer on a
 * usable version, no key rotated twice, every fact's event delivered once, every failure raised as an alert.
 */
export const FAULTS = ["429", "429 Retry-After", "500", "503", "reset", "hang", "LRO Failed", "crash"] as const;
/**
 * Throttling with the request layer's retries on (its defaults, the retry delay capped at RETRY_CAP_MS): the first
 * two calls throttled without Retry-After, or the first one with it. The faulted round itself must converge.
 */
export const RETRIED_FAULTS = ["429 ×2, retried", "429 Retry-After ×1, retried"] as const;
export type FaultKind = (typeof FAULTS)[number] | (typeof RETRIED_FAULTS)[number];
const isRetried = (fault: FaultKind): boolean => (RETRIED_FAULTS as readonly string[]).includes(fault);
/** KEYWARDEN_MAX_RETRY_DELAY_MS of the retried cells (the smallest the default initial delay of 1 s allows). */
const RETRY_CAP_MS = 1000;
/** The Retry-After the retried cell asks for (seconds, within the cap, so the layer must wait all of it). */
const RETRY_AFTER_S = 1;

export interface MatrixOperation {
  name: string;
  /** The emulator's operation id the fault targets (exact or a glob). */
  operationId?: string;
  /** The fault's host (a plane, or a topic / rule name). */
  host?: string;
  /** A long-running operation: "LRO Failed" applies. */
  lro?: boolean;
  /** The step after which "crash" stops the run (absent: crash does not apply). */
  crashAfter?: PlanStep["kind"];
  /** The fault hides consumers from the snapshot: the faulted run must end as RotationFailed (an alert), never Completed. */
  hidesConsumers?: true;
  /** A state-store fault instead of an Azure one: a new matcher per cell; the store proxy fails the calls it picks. */
  store?: () => (call: StoreCall) => boolean;
  /**
   * "crash" in the telling: the process dies at the first state-store call `at` picks (that call and every store
   * call after it never happen, so nothing more is sent); the outbox under `pending` must hold what it queued.
   */
  diesAt?: { at: (call: StoreCall) => boolean; pending: string };
  /**
   * "hang" of a state-store call: the cell's store is Blob Storage (Azurite, through a proxy), and the proxy hangs
   * the first Blob request this picks (a new matcher per cell), for real, until KeyWarden's per-try timeout.
   */
  hangs?: () => (request: BlobRequestHead) => boolean;
}

const RULE = "dcr-keywarden";
const TIMER: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };
/** Half a year on: every key's current version is older than rotateAfter (P180D). */
const ALL_DUE = "P181D";
/** A hang costs one try (KEYWARDEN_TRY_TIMEOUT_MS); the round ends by its deadline. */
const TRY_TIMEOUT_MS = 1000;
const DEADLINE_MS = 5000;
/** The whole faulted round must end within this (a hang must not hold it). */
const ROUND_BOUND_MS = 8000;
const RETRIED_DEADLINE_MS = 30_000;

/** The storage account on a versionless key: Storage follows a new version by itself within a day; KeyWarden only verifies. */
export const VERSIONLESS_ACCOUNT = "contosoprodcmkst02";
/** The SQL MI's geo-secondary in an instance failover group: it must hold the new key before the primary's protector moves. */
export const FAILOVER_PARTNER = "contoso-sqlmi-dr-01";

/**
 * The reference estate, small, with every kind of write in it: both DESes and one storage account pinned (KeyWarden
 * patches them), a second storage account versionless (it follows on the emulator clock; KeyWarden must not patch
 * it), the SQL MI without TDE auto-rotation (its key and protector are written) in a failover group with a
 * geo-secondary (whose key goes first), and the disk key without a rotation policy (KeyWarden sets one before
 * Managed HSM allows an on-demand rotation).
 */
async function matrixFixture(): Promise<Record<string, unknown>> {
  type Principal = { id: string; displayName: string };
  type HsmRole = { principalId: string; role: string; scope: string; description: string };
  const fixture = JSON.parse(await readFile(join(import.meta.dirname, "..", "..", "emulator", "fixtures", "contoso-reference.json"), "utf8")) as Record<string, unknown> & {
    principals: Principal[];
    diskEncryptionSets: { rotationToLatestKeyVersionEnabled: boolean }[];
    storageAccounts: { name: string; identity?: { principalId: string }; encryption: { key?: string } }[];
    sqlManagedInstances: { name: string; resourceGroup: string; location: string; identity: { type: string; principalId: string } }[];
    managedHsms: { keys: { name: string; rotationPolicy?: unknown }[]; roleAssignments: HsmRole[] }[];
  };
  fixture.name = "contoso-fault-matrix";
  for (const des of fixture.diskEncryptionSets) des.rotationToLatestKeyVersionEnabled = false;
  const pinned = fixture.storageAccounts.find((a) => a.name === "contosoprodcmkst01");
  const primary = fixture.sqlManagedInstances[0];
  const hsm = fixture.managedHsms[0];
  if (!pinned || !primary || !hsm) throw new Error("the reference fixture lost its storage account, SQL MI or HSM");
  const versionlessPrincipal = "b2000000-0000-4000-8000-0000000000a4";
  const partnerPrincipal = "b2000000-0000-4000-8000-0000000000a1";
  fixture.storageAccounts.push({ ...structuredClone(pinned), name: VERSIONLESS_ACCOUNT, identity: { ...pinned.identity, principalId: versionlessPrincipal } });
  pinned.encryption.key = "Contoso-PROD-HSM/Contoso-STORAGE-CMK@1";
  fixture.sqlManagedInstances.push({ ...structuredClone(primary), name: FAILOVER_PARTNER, resourceGroup: "rg-contoso-sql-dr", location: "centralindia", identity: { type: "SystemAssigned", principalId: partnerPrincipal } });
  fixture.sqlFailoverGroups = [{ name: "fog-contoso-sql", primary: primary.name, partner: FAILOVER_PARTNER, readWriteFailoverPolicy: "Automatic", gracePeriodMinutes: 60 }];
  fixture.principals.push({ id: versionlessPrincipal, displayName: `${VERSIONLESS_ACCOUNT} (system-assigned)` }, { id: partnerPrincipal, displayName: `${FAILOVER_PARTNER} (system-assigned)` });
  hsm.roleAssignments.push(
    { principalId: versionlessPrincipal, role: "Managed HSM Crypto Service Encryption User", scope: "/keys/Contoso-STORAGE-CMK", description: "versionless storage account identity" },
    { principalId: partnerPrincipal, role: "Managed HSM Crypto Service Encryption User", scope: "/keys/Contoso-SQLMI-CMK", description: "SQL MI geo-secondary identity" },
  );
  for (const key of hsm.keys) if (key.name === "Contoso-DISK-CMK") delete key.rotationPolicy;
  return fixture;
}

interface CellResult {
  operation: string;
  fault: FaultKind;
  status: "PASS" | "FAIL" | "n/a";
  seconds: number;
}

interface StoredEvent {
  event: { id: string; eventType?: string; subject: string; data: Record<string, unknown> };
}
interface StoredRow {
  row: Record<string, unknown>;
}

export interface FaultMatrix {
  /** Whether the fault makes sense for the operation (else the cell is n/a). */
  applies(op: MatrixOperation, fault: FaultKind): boolean;
  /** Runs one cell; the problems found (empty: every invariant held). */
  cell(op: MatrixOperation, fault: FaultKind): Promise<string[]>;
  table(operations: readonly MatrixOperation[], faults: readonly FaultKind[]): string;
  close(): Promise<void>;
}

export async function startFaultMatrix(): Promise<FaultMatrix> {
  const t = await startTestEmulator((await matrixFixture()) as unknown as string);
  const results = new Map<string, CellResult>();
  let proxy: BlobHangProxy | undefined;
  const blobProxy = async () => (proxy ??= await startBlobHangProxy(blobEndpointOf(inject("azuriteConnectionString"))));
  let baseline: Set<string> | undefined;
  let consumersPerKey: Map<string, number> | undefined;

  // A state-store hang runs on Blob Storage (a local directory does not hang; see MatrixOperation.hangs).
  const applies = (op: MatrixOperation, fault: FaultKind) =>
    op.diesAt ? fault === "crash"
    : isRetried(fault) ? !op.store
    : op.store ? (fault === "hang" ? op.hangs !== undefined : !["LRO Failed", "crash"].includes(fault)) : fault === "LRO Failed" ? op.lro === true : fault === "crash" ? op.crashAfter !== undefined : true;

  async function cell(op: MatrixOperation, fault: FaultKind): Promise<string[]> {
    const started = performance.now();
    const problems = await runCell(t, op, fault, () => baseline, () => consumersPerKey, blobProxy).catch((e: unknown) => [`the cell threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`]);
    results.set(`${op.name}|${fault}`, { operation: op.name, fault, status: problems.length === 0 ? "PASS" : "FAIL", seconds: (performance.now() - started) / 1000 });
    return problems;
  }

  /** The facts a fault-free round and its rerun tell, and each key's consumers: what every cell must end with. */
  async function calibrate(): Promise<void> {
    const c = await freshCell(t, undefined);
    try {
      const thrown = [await c.round(), await c.round()].filter((e) => e !== undefined);
      // The versionless account is left to Storage: pending within its day, then moved by itself (checked once here
      // for every cell; each cell checks it ends moved and is never patched).
      const before = (await c.verify()).consumers.filter((x) => x.resource.name === VERSIONLESS_ACCOUNT);
      if (before.length !== 1 || before.some((x) => x.verdict !== "pending" || x.pastDeadline !== false)) throw new Error(`calibration: the versionless account before its day: ${JSON.stringify(before)}`);
      thrown.push(...[await c.catchUp()].filter((e) => e !== undefined));
      const failed = c.logs.filter(([, line]) => line.startsWith('{"event":"KeyWarden.RotationStep"') && !/"status":"(changed|unchanged|verified|pending)"/.test(line));
      if (thrown.length > 0 || failed.length > 0) throw new Error(`the fault-free calibration round did not succeed: ${[...thrown.map(String), ...failed.map(([, l]) => l)].join("\n")}`);
      baseline = new Set((await c.events()).map((e) => `${e.event.eventType} ${e.event.subject}`));
      consumersPerKey = new Map();
      for (const v of (await c.verify()).consumers) consumersPerKey.set(v.keyName.toLowerCase(), (consumersPerKey.get(v.keyName.toLowerCase()) ?? 0) + 1);
      // The failover partner and the versionless account are consumers of the rotated keys, or the cells prove nothing of them.
      const counts = ["contoso-sqlmi-cmk", "contoso-storage-cmk"].map((k) => consumersPerKey?.get(k));
      if (counts.some((n) => n !== 2)) throw new Error(`calibration: consumers of the SQL MI and storage keys ${JSON.stringify(counts)}, not 2 each`);
    } finally {
      await c.close();
    }
  }
  await calibrate();

  return {
    applies,
    cell,
    table(operations, faults) {
      const header = ["operation", ...faults];
      const rows = operations.map((op) => [
        op.name,
        ...faults.map((f) => {
          if (!applies(op, f)) return "n/a";
          const r = results.get(`${op.name}|${f}`);
          return r ? `${r.status} ${r.seconds.toFixed(2)}s` : "not run";
        }),
      ]);
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
      const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
      return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
    },
    async close() {
      setRuntime(undefined);
      await proxy?.close();
      await t.close();
    },
  };
}

interface Cell {
  runtime: Runtime;
  logs: [string, string][];
  /** One round as the timer runs it; what it threw, if anything. */
  round(): Promise<unknown>;
  events(): Promise<StoredEvent[]>;
  rows(): Promise<StoredRow[]>;
  verify(): ReturnType<typeof verifyAfter>;
  /** A day on (the versionless account follows the new version by itself), then a round; what it threw. */
  catchUp(): Promise<unknown>;
  close(): Promise<void>;
}

async function verifyAfter(runtime: Runtime) {
  const snapshot = await collectEstate(runtime.config, runtime.clients, runtime.clock);
  return { ...verifyRotation(snapshot, runtime.config.policy, runtime.clock.now()), plan: planRotation(snapshot, runtime.config.policy, runtime.clock.now()) };
}

/** The estate as loaded, half a year on; a new state directory; the timer's runtime pointed at the emulator. */
/** The Blob endpoint of an Azurite connection string. */
function blobEndpointOf(connectionString: string): string {
  const endpoint = /BlobEndpoint=([^;]+)/.exec(connectionString)?.[1];
  if (!endpoint) throw new Error("the Azurite connection string names no BlobEndpoint");
  return endpoint;
}

async function freshCell(t: TestEmulator, storeFault: MatrixOperation["store"], failStore?: StoreFailing, retried = false, blobEndpoint?: string): Promise<Cell> {
  await t.control("POST", "/_emulator/reset");
  await t.control("DELETE", "/_emulator/faults");
  await t.control("DELETE", "/_emulator/lro-failures");
  await t.control("POST", "/_emulator/config", { lroRetryAfterSeconds: 0 });
  await t.control("DELETE", `/_emulator/eventgrid/topics/${CONTOSO_TOPIC}/events`);
  await t.control("DELETE", `/_emulator/monitor/rules/${RULE}/streams/${ROTATIONS_STREAM}/rows`);
  await t.control("POST", "/_emulator/clock", { advance: ALL_DUE });
  let now = new Date();
  const sync = async () => {
    now = new Date(((await t.control("GET", "/_emulator/clock")) as { now: string }).now);
  };
  await sync();
  const clock: Clock = { now: () => new Date(now) };
  const dir = await mkdtemp(join(tmpdir(), "kw-faults-"));
  const { rules } = (await t.control("GET", "/_emulator/monitor/rules")) as { rules: { name: string; immutableId: string }[] };
  const env = t.env({
    // A Blob container of its own per cell (a hang cell), else a new directory.
    ...(blobEndpoint ? { KEYWARDEN_STATE_BLOB_CONNECTION_STRING: azuriteConnectionString(blobEndpoint), KEYWARDEN_STATE_CONTAINER: `matrix-${randomUUID().slice(0, 8)}` } : { KEYWARDEN_STATE_DIR: dir }),
    KEYWARDEN_ROTATION_MODE: "execute",
    KEYWARDEN_EVENTS_TOPIC_ENDPOINT: t.emulator.topicEndpoint(CONTOSO_TOPIC),
    KEYWARDEN_EVENTS_TOPIC_KEY: await topicKey(t),
    KEYWARDEN_MONITOR_INGESTION_ENDPOINT: t.emulator.ingestionEndpoint(RULE),
    KEYWARDEN_MONITOR_DCR_ID: String(rules.find((r) => r.name === RULE)?.immutableId),
    KEYWARDEN_TRY_TIMEOUT_MS: String(TRY_TIMEOUT_MS),
    KEYWARDEN_DEADLINE_MS: String(DEADLINE_MS),
    // Retries on: the layer's defaults, waits capped low; no hang here, so the deadline leaves room for the waits.
    ...(retried ? { KEYWARDEN_MAX_RETRIES: String(SETTING_DEFAULTS.maxRetries), KEYWARDEN_MAX_RETRY_DELAY_MS: String(RETRY_CAP_MS), KEYWARDEN_DEADLINE_MS: String(RETRIED_DEADLINE_MS) } : {}),
  });
  // A fresh process per cell: its own request layer (ARM buckets, caps), as the emulator's reset gives it fresh ones.
  const created = await createRuntime({ env, clock });
  const { settings } = created.config;
  const base: Runtime = { ...created, clients: createAzureClients(settings, createCredential(settings), createRequestLayer(requestLayerOptions(settings))) };
  const runtime: Runtime = storeFault && failStore ? { ...base, store: faultyStore(base.store, storeFault(), failStore) } : base;
  setRuntime(runtime);
  const logs: [string, string][] = [];
  const round = async (): Promise<unknown> => {
    try {
      await keyRotationHandler(TIMER, new InvocationContext({ invocationId: `round-${logs.length}`, functionName: "keyRotation", logHandler: (level, ...args) => logs.push([level, args.map(String).join(" ")]) }));
      return undefined;
    } catch (error) {
      return error;
    }
  };
  return {
    runtime,
    logs,
    round,
    async events() {
      return ((await t.control("GET", `/_emulator/eventgrid/topics/${CONTOSO_TOPIC}/events`)) as { events: StoredEvent[] }).events;
    },
    async rows() {
      return ((await t.control("GET", `/_emulator/monitor/rules/${RULE}/streams/${ROTATIONS_STREAM}/rows`)) as { rows: StoredRow[] }).rows;
    },
    verify: () => verifyAfter(base),
    async catchUp() {
      await t.control("POST", "/_emulator/clock", { advance: STORAGE_CATCH_UP });
      await sync();
      return round();
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

interface StoreFailing {
  on: boolean;
  fault?: FaultKind;
  /** A "crash": the process is gone; no store call happens any more. */
  dead?: boolean;
  /** Calls failed so far. */
  hits: number;
}

/** A real store underneath; while `failing.on`, calls that `matches` picks fail as Blob Storage would under the fault. */
function faultyStore(store: StateStore, matches: (call: StoreCall) => boolean, failing: StoreFailing): StateStore {
  return interceptStore(store, (method, name) => {
    if (failing.on && failing.fault === "crash" && (failing.dead === true || matches({ method, name }))) {
      if (!failing.dead) failing.hits += 1;
      failing.dead = true;
      throw new Error(`the process died (injected) before ${method} ${name}`);
    }
    if (!failing.on || !matches({ method, name })) return;
    failing.hits += 1;
    if (failing.fault === "reset") throw Object.assign(new Error(`read ECONNRESET (injected: ${method} ${name})`), { code: "ECONNRESET" });
    const statusCode = failing.fault === "500" ? 500 : failing.fault === "503" ? 503 : 429;
    throw Object.assign(new Error(`injected state store failure ${statusCode}: ${method} ${name}`), { statusCode });
  });
}

async function injectFault(t: TestEmulator, op: MatrixOperation, fault: FaultKind): Promise<void> {
  const target = { ...(op.operationId ? { operationId: op.operationId } : {}), ...(op.host ? { host: op.host } : {}) };
  // Cleared before the reruns.
  const spec: Record<string, unknown> =
    fault === "429" ? { status: 429 }
    : fault === "429 Retry-After" ? { status: 429, retryAfter: 1 }
    : fault === "500" ? { status: 500 }
    : fault === "503" ? { status: 503 }
    : fault === "reset" ? { behaviour: "reset" }
    : fault === "hang" ? { behaviour: "hang" }
    : fault === "429 ×2, retried" ? { status: 429, count: 2 }
    : fault === "429 Retry-After ×1, retried" ? { status: 429, retryAfter: RETRY_AFTER_S, count: 1 }
    : {};
  if (fault === "LRO Failed") {
    await t.control("POST", "/_emulator/lro-failures", { operationId: op.operationId, code: "InternalServerError", message: "The operation failed (injected).", count: 1 });
    return;
  }
  // A hang is one hung call (each costs a try timeout); the statuses and resets last the whole round.
  await t.control("POST", "/_emulator/faults", { ...target, ...spec, ...(fault === "hang" ? { count: 1 } : "count" in spec ? {} : { persistent: true }) });
}

interface StepLine {
  event: string;
  step: string;
  status: string;
}

/** The executor's step outcomes among the handler's log lines. */
const stepLines = (logs: readonly [string, string][]): StepLine[] =>
  logs.map(([, line]) => line).filter((line) => line.startsWith('{"event":"KeyWarden.RotationStep"')).map((line) => JSON.parse(line) as StepLine);

async function runCell(
  t: TestEmulator,
  op: MatrixOperation,
  fault: FaultKind,
  baseline: () => Set<string> | undefined,
  consumersPerKey: () => Map<string, number> | undefined,
  blobProxy: () => Promise<BlobHangProxy>,
): Promise<string[]> {
  const failing: StoreFailing = { on: false, fault, hits: 0 };
  const retried = isRetried(fault);
  const diesAt = op.diesAt;
  const hangs = fault === "hang" ? op.hangs : undefined;
  const proxy = hangs ? await blobProxy() : undefined;
  const c = hangs ? await freshCell(t, undefined, undefined, false, proxy?.endpoint) : await freshCell(t, op.store ?? (diesAt ? () => diesAt.at : undefined), failing, retried);
  const problems: string[] = [];
  try {
    const mark = t.exchanges.length;
    // --- the faulted round
    const faultedStart = performance.now();
    let faultedRunId: string | undefined;
    let faultedThrown: unknown;
    if (hangs && proxy) {
      proxy.arm(hangs(), 1);
      faultedThrown = await c.round();
      failing.hits = proxy.hung();
      proxy.disarm();
    } else if (diesAt) {
      failing.on = true;
      await c.round();
      failing.on = false;
      failing.dead = false;
      if ((await c.runtime.store.list(diesAt.pending)).length === 0) problems.push(`the crash left nothing queued under ${diesAt.pending}`);
    } else if (fault === "crash") {
      // The process dies after the step: the run stops there, and nothing of it is told.
      const controller = new AbortController();
      const { config, clients, store, clock } = c.runtime;
      const round = await runRotation({
        config,
        clients,
        store,
        clock,
        mode: "execute",
        collect: () => collectEstate(config, clients, clock, { deadlineMs: config.settings.requests.deadlineMs }),
        onOutcome: (o) => {
          if (o.kind === op.crashAfter && o.status === "changed") controller.abort();
        },
        signal: controller.signal,
      });
      if (!controller.signal.aborted) problems.push(`crash: no ${op.crashAfter} step changed, so the run was never stopped`);
      faultedRunId = round.run?.runId;
    } else if (op.store) {
      failing.on = true;
      await c.round();
      failing.on = false;
    } else {
      await injectFault(t, op, fault);
      faultedThrown = await c.round();
    }
    const faultedMs = performance.now() - faultedStart;
    // A cell whose fault nothing met proves nothing.
    const status = fault === "500" ? 500 : fault === "503" ? 503 : fault.startsWith("429") ? 429 : undefined;
    if ((op.store || diesAt) && failing.hits === 0) problems.push("no state-store call met the fault");
    if (!op.store && op.operationId && status !== undefined && !t.exchanges.slice(mark).some((e) => e.operationId === op.operationId && e.status === status)) problems.push(`no ${op.operationId} call met the ${fault}`);
    await t.control("DELETE", "/_emulator/faults");
    await t.control("DELETE", "/_emulator/lro-failures");
    const faultedSteps = stepLines(c.logs);
    const failedSteps = faultedSteps.filter((s) => s.status === "failed").map((s) => s.step);
    faultedRunId ??= (await listRunIds(c.runtime.store).catch(() => []))[0];
    if (fault === "hang" && faultedMs > ROUND_BOUND_MS) problems.push(`the hung round took ${Math.round(faultedMs)} ms (bound ${ROUND_BOUND_MS} ms)`);

    // --- reruns until converged (at most two; none for a retried fault): nothing left to change; only the
    // versionless account still to follow
    const thrownText = (e: unknown) => (e ? ` (the last threw: ${e instanceof Error ? e.message : String(e)})` : "");
    const onlyCatchUpLeft = (x: Awaited<ReturnType<Cell["verify"]>>) => x.plan.steps.every((s) => s.action === "verify" && s.kind === "storageAccount" && s.resource.name === VERSIONLESS_ACCOUNT);
    let converged = false;
    let lastThrown: unknown;
    let v: Awaited<ReturnType<Cell["verify"]>> | undefined;
    if (retried) {
      lastThrown = faultedThrown;
      v = await c.verify();
      converged = lastThrown === undefined && failedSteps.length === 0 && onlyCatchUpLeft(v) && v.gaps.length === 0;
      if (!converged) problems.push(`the retried round did not converge by itself (${failedSteps.length} failed step(s), ${v.plan.steps.length} step(s) left)${thrownText(lastThrown)}`);
      problems.push(...retryWaits(t, t.exchanges.slice(mark), op, fault));
    }
    // A rerun that threw nothing and failed no step is taken as converged without a read-back of its own (a
    // collection saved per cell): the day-on round below must then change nothing, and its read-back must be clean.
    for (let i = 0; i < 2 && !converged && !retried; i++) {
      const from = c.logs.length;
      lastThrown = await c.round();
      converged = lastThrown === undefined && stepLines(c.logs.slice(from)).every((s) => s.status !== "failed");
    }
    if (!converged && !retried) problems.push(`not converged after 2 reruns${thrownText(lastThrown)}`);
    if (retried && v) {
      // The versionless account waits for Storage (pending within its day), never for KeyWarden (the calibration checks it for every cell).
      const versionless = v.consumers.filter((x) => x.resource.name === VERSIONLESS_ACCOUNT);
      if (versionless.length !== 1 || versionless.some((x) => x.verdict !== "pending" || x.pastDeadline !== false)) problems.push(`the versionless account before its day: ${JSON.stringify(versionless.map((x) => [x.verdict, x.pastDeadline]))} (pending within its deadline expected)`);
    }
    const dayOn = c.logs.length;
    const caughtUpThrown = await c.catchUp();
    v = await c.verify();
    const changedDayOn = stepLines(c.logs.slice(dayOn)).filter((s) => s.status !== "pending" && s.status !== "verified" && s.status !== "unchanged");
    if (changedDayOn.length > 0) problems.push(`not converged after the reruns: the round a day on still did ${changedDayOn.map((s) => `${s.step} ${s.status}`).join(", ")}`);
    if (caughtUpThrown !== undefined || v.plan.steps.length > 0 || v.gaps.length > 0) problems.push(`not converged a day on: ${v.plan.steps.length} step(s) left${thrownText(caughtUpThrown)}`);
    const patched = t.exchanges.slice(mark).filter((e) => e.operationId === "StorageAccounts_Update" && e.path.toLowerCase().includes(`/storageaccounts/${VERSIONLESS_ACCOUNT}`));
    if (patched.length > 0) problems.push(`the versionless account was patched ${patched.length} time(s)`);

    // --- invariants
    const notMoved = v.consumers.filter((x) => x.verdict !== "moved").map((x) => `${x.resource.name}: ${x.verdict} (${x.reason})`);
    if (v.consumers.length === 0) problems.push("the verification saw no consumer");
    if (notMoved.length > 0) problems.push(`consumers not on the current version: ${notMoved.join("; ")}`);
    if (v.gaps.length > 0) problems.push(`gaps: ${v.gaps.map((g) => g.message).join("; ")}`);
    const lost = ((await t.control("GET", "/_emulator/access/lost")) as { count: number }).count;
    if (lost !== 0) problems.push(`${lost} consumer(s) lost access to their key`);

    const rotations = new Map<string, number>();
    for (const e of t.exchanges.slice(mark)) if (e.operationId === "RotateKey" && e.status < 300) rotations.set(e.path.toLowerCase(), (rotations.get(e.path.toLowerCase()) ?? 0) + 1);
    const keys = consumersPerKey();
    if (rotations.size !== (keys?.size ?? 3) || [...rotations.values()].some((n) => n !== 1)) problems.push(`rotations per key: ${JSON.stringify(Object.fromEntries(rotations))} (each due key exactly once)`);

    const events = await c.events();
    const ids = events.map((e) => e.event.id);
    const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
    if (dupes.length > 0) problems.push(`events delivered twice: ${dupes.join(", ")}`);
    const told = new Set(events.map((e) => `${e.event.eventType} ${e.event.subject}`));
    const missing = [...(baseline() ?? [])].filter((f) => !told.has(f));
    if (missing.length > 0) problems.push(`facts never told: ${missing.join("; ")}`);
    for (const e of events.filter((x) => x.event.eventType === KEYWARDEN_EVENT_TYPES.rotationCompleted)) {
      const expected = keys?.get(e.event.subject.toLowerCase());
      if (e.event.data.consumers !== expected) problems.push(`RotationCompleted for ${e.event.subject} counted ${String(e.event.data.consumers)} consumer(s), not ${String(expected)}`);
    }
    const pendingEvents = await c.runtime.store.list("events/pending/");
    if (pendingEvents.length > 0) problems.push(`${pendingEvents.length} event(s) left pending in the outbox`);
    const pendingAlerts = (await c.runtime.store.list("alerts/")).filter((n) => n.includes("/pending/"));
    if (pendingAlerts.length > 0) problems.push(`${pendingAlerts.length} alert row(s) left pending in the outbox`);

    const rows = await c.rows();
    const alerted = new Set(rows.filter((r) => r.row.Transition === "failed").flatMap((r) => ((r.row.Details as { failures?: { stepId: string }[] }).failures ?? []).map((f) => f.stepId)));
    const unalerted = failedSteps.filter((s) => !alerted.has(s));
    if (unalerted.length > 0) problems.push(`failed steps with no alert row: ${unalerted.join(", ")}`);
    const failedRunRows = rows.filter((r) => r.row.Transition === "failed" && r.row.RunId === faultedRunId);
    // Only a fault that lasts the round hides them for sure (a single hung call may be retried by the collector).
    const hidden = op.hidesConsumers === true && fault !== "crash" && fault !== "hang" && !retried;
    if (hidden && failedRunRows.length === 0) problems.push(`consumers were hidden from the faulted run ${String(faultedRunId)}, but no failed row names it`);
    if (hidden && rows.some((r) => r.row.Transition === "completed" && r.row.RunId === faultedRunId)) problems.push(`the faulted run ${String(faultedRunId)}, which could not see every consumer, said a rotation completed`);
    if (failedSteps.length > 0 && failedRunRows.length === 0) problems.push(`the faulted run ${String(faultedRunId)} failed steps but no failed row names it`);
    const rowTexts = rows.map((r) => JSON.stringify(r.row));
    const rowDupes = rowTexts.filter((r, i) => rowTexts.indexOf(r) !== i);
    if (rowDupes.length > 0) problems.push(`alert rows uploaded twice: ${rowDupes.join("; ")}`);
    const completedRows = rows.filter((r) => r.row.Transition === "completed").map((r) => String(r.row.KeyName).toLowerCase());
    if (completedRows.length !== new Set(completedRows).size) problems.push(`a completed row sent twice: ${completedRows.join(", ")}`);
    if (keys && [...keys.keys()].some((k) => !completedRows.includes(k))) problems.push(`completed rows: ${completedRows.join(", ") || "none"} (every key's expected)`);
  } finally {
    await c.close();
  }
  return problems;
}

/**
 * Every throttled call was tried again, and after a Retry-After no sooner than it asked: from the emulator's
 * answer to the throttled try to its answer to the retry (a lower bound only, so a loaded box cannot flake it).
 */
function retryWaits(t: TestEmulator, exchanges: readonly Exchange[], op: MatrixOperation, fault: FaultKind): string[] {
  const problems: string[] = [];
  const throttled = exchanges.filter((e) => e.operationId === op.operationId && e.status === 429);
  const expected = fault === "429 ×2, retried" ? 2 : 1;
  if (throttled.length !== expected) problems.push(`${throttled.length} throttled ${String(op.operationId)} answer(s), not ${expected}`);
  for (const e of throttled) {
    const asked = Number(e.responseHeaders["retry-after"] ?? Number.NaN);
    if (fault === "429 Retry-After ×1, retried" && asked !== RETRY_AFTER_S) problems.push(`the throttled answer asked Retry-After ${String(e.responseHeaders["retry-after"])}, not ${RETRY_AFTER_S}`);
    const retry = exchanges.slice(exchanges.indexOf(e) + 1).find((x) => x.method === e.method && x.host === e.host && x.path === e.path);
    if (!retry) {
      problems.push(`the throttled ${e.method} ${e.path} was never tried again`);
      continue;
    }
    const waited = (t.answeredAt(retry) ?? 0) - (t.answeredAt(e) ?? Number.POSITIVE_INFINITY);
    // A timer may fire a millisecond early against performance.now().
    if (Number.isFinite(asked) && waited < asked * 1000 - 2) problems.push(`the retry of ${e.method} ${e.path} came ${Math.round(waited)} ms after its 429, which asked ${asked} s`);
  }
  return problems;
}

/** One matrix file's suite: a cell per (operation × fault), skipped where it does not apply, the table printed at the end. */
export function faultMatrixSuite(title: string, tableTitle: string, operations: readonly MatrixOperation[], faults: readonly FaultKind[] = FAULTS): void {
  describe(title, () => {
    let m: FaultMatrix;
    beforeAll(async () => {
      m = await startFaultMatrix();
    }, 30_000);
    afterAll(async () => {
      if (m) {
        console.log(`Fault matrix (${tableTitle}):\n${m.table(operations, faults)}`);
        await m.close();
      }
    });

    for (const op of operations) {
      for (const fault of faults) {
        it(`${op.name} × ${fault}`, async (ctx) => {
          if (!m.applies(op, fault)) return ctx.skip();
          expect(await m.cell(op, fault)).toEqual([]);
        });
      }
    }
  });
}
