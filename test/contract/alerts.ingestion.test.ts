import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvocationContext, type Timer } from "@azure/functions";
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { runCli } from "../../src/cli/runCli.js";
import { collectFromAzure, rotationServices } from "../../src/cli/wiring.js";
import { complianceScanHandler } from "../../src/functions/complianceScan.js";
import { keyRotationHandler } from "../../src/functions/keyRotation.js";
import { FINDINGS_STREAM, ROTATIONS_STREAM } from "../../src/lib/alerts/alertRows.js";
import { createRuntime, setRuntime } from "../../src/lib/runtime.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { resetForRotation } from "../support/eventTopic.js";

const RULE = "dcr-keywarden";
const TIMER: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };

interface StoredRow {
  seq: number;
  row: Record<string, unknown>;
  droppedColumns?: unknown;
  invalidValues?: unknown;
}

/** Alerts from the scan timer to Azure Monitor through the real LogsIngestionClient, against the emulator's data collection endpoint. */
describe("alerts through Logs Ingestion (drifted estate on the emulator)", () => {
  let t: TestEmulator;
  let stateDir: string;
  const logs: [string, string][] = [];
  const scan = async () => {
    logs.length = 0;
    await complianceScanHandler(TIMER, new InvocationContext({ invocationId: "scan", functionName: "complianceScan", logHandler: (level, ...args) => logs.push([level, args.map(String).join(" ")]) }));
  };
  const rows = async (stream: string = FINDINGS_STREAM): Promise<StoredRow[]> => ((await t.control("GET", `/_emulator/monitor/rules/${RULE}/streams/${stream}/rows`)) as { rows: StoredRow[] }).rows;
  const rotate = async () => {
    logs.length = 0;
    await keyRotationHandler(TIMER, new InvocationContext({ invocationId: "rotation", functionName: "keyRotation", logHandler: (level, ...args) => logs.push([level, args.map(String).join(" ")]) }));
  };
  let env: (extra?: Record<string, string>) => NodeJS.ProcessEnv;

  beforeAll(async () => {
    t = await startTestEmulator("contoso-drifted");
  });
  afterAll(async () => {
    setRuntime(undefined);
    await t.close();
  });
  beforeEach(async () => {
    await resetForRotation(t);
    stateDir = mkdtempSync(join(tmpdir(), "kw-alerts-"));
    const { rules } = (await t.control("GET", "/_emulator/monitor/rules")) as { rules: { name: string; immutableId: string }[] };
    const ruleId = String(rules.find((r) => r.name === RULE)?.immutableId);
    env = (extra = {}) => t.env({ KEYWARDEN_STATE_DIR: stateDir, KEYWARDEN_MONITOR_INGESTION_ENDPOINT: t.emulator.ingestionEndpoint(RULE), KEYWARDEN_MONITOR_DCR_ID: ruleId, ...extra });
    setRuntime(createRuntime({ env: env() }));
    return () => rmSync(stateDir, { recursive: true, force: true });
  });

  it("sends one row per open finding on the first scan, whole, and none on an unchanged rescan", async () => {
    await scan();
    const first = await rows();
    expect(first.length).toBeGreaterThan(0);
    expect(first.filter((r) => r.row.Transition !== "opened")).toEqual([]);
    expect(new Set(first.map((r) => r.row.Fingerprint)).size).toBe(first.length);
    // every column arrived as the stream declares it: nothing dropped, nothing nulled
    expect(first.filter((r) => r.droppedColumns !== undefined || r.invalidValues !== undefined)).toEqual([]);
    expect(first[0]?.row).toMatchObject({ ControlId: expect.any(String), Severity: expect.any(String), ResourceId: expect.any(String), FirstSeen: expect.any(String), ScanId: expect.any(String) });
    // the same rows went to the function log
    expect(logs.filter(([, line]) => line.startsWith('{"event":"KeyWarden.Alert"'))).toHaveLength(first.length);

    await scan();
    expect(await rows()).toHaveLength(first.length);
  });

  it("says an upload failed, keeps the rows, and delivers them on the next run", async () => {
    await t.control("POST", "/_emulator/faults", { host: "monitor", status: 503, count: 1 });
    await scan();
    expect(await rows()).toEqual([]);
    expect(logs.some(([level, line]) => level === "error" && /Alerts were not delivered to Azure Monitor: \d+ row\(s\) wait in the outbox/.test(line))).toBe(true);
    await scan();
    const delivered = await rows();
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.filter((r) => r.row.Transition !== "opened")).toEqual([]);
    expect(logs.some(([level]) => level === "error")).toBe(false);
  });

  it("sends the rotation timer's outcomes once: a completed rotation, and nothing for a consumer still within its deadline", async () => {
    setRuntime(createRuntime({ env: env({ KEYWARDEN_ROTATION_MODE: "execute" }) }));
    await rotate();
    const first = await rows(ROTATIONS_STREAM);
    const seen = first.map((r) => `${String(r.row.Transition)} ${String(r.row.KeyName)}`).sort();
    // DISK-CMK's lagging DES is moved: completed. STORAGE-CMK is rotated, but its storage account catches up on its
    // own within its deadline: nothing to alert on yet.
    expect(seen).toEqual(["completed Contoso-DISK-CMK"]);
    expect(first.filter((r) => r.droppedColumns !== undefined || r.invalidValues !== undefined)).toEqual([]);
    expect(first.find((r) => r.row.Transition === "completed")?.row).toMatchObject({ KeyId: expect.stringMatching(/\/keys\/Contoso-DISK-CMK$/i), Version: expect.stringMatching(/^[0-9a-f]{32}$/), RunId: expect.any(String) });
    expect(logs.filter(([, line]) => line.startsWith('{"event":"KeyWarden.Alert","stream":"Custom-KeyWardenRotations_CL"'))).toHaveLength(first.length);

    // the next run finds nothing new to say
    await rotate();
    expect(await rows(ROTATIONS_STREAM)).toHaveLength(first.length);
  });

  it("with the history in Blob Storage (Azurite): fixing a drift sends exactly one resolved row", async () => {
    const { rules } = (await t.control("GET", "/_emulator/monitor/rules")) as { rules: { name: string; immutableId: string }[] };
    const blobEnv = t.env({
      KEYWARDEN_STATE_BLOB_CONNECTION_STRING: inject("azuriteConnectionString"),
      KEYWARDEN_STATE_CONTAINER: `alerts-${randomUUID().slice(0, 8)}`,
      KEYWARDEN_MONITOR_INGESTION_ENDPOINT: t.emulator.ingestionEndpoint(RULE),
      KEYWARDEN_MONITOR_DCR_ID: String(rules.find((r) => r.name === RULE)?.immutableId),
    });
    setRuntime(createRuntime({ env: blobEnv }));
    await scan();
    const opened = await rows();
    expect(opened.length).toBeGreaterThan(0);
    const lagging = opened.filter((r) => r.row.ControlId === "disks_des_current_version");
    expect(lagging).toHaveLength(1);

    // the operator fixes the lagging DES (KeyWarden moves it to the key's current version); nothing else changes
    const err: string[] = [];
    const io = { stdout: () => undefined, stderr: (text: string) => void err.push(text), env: blobEnv, readFile: (path: string) => readFile(path, "utf8"), writeFile: async () => undefined };
    expect(await runCli(["rotate", "--yes", "--key", "Contoso-DISK-CMK"], io, { collect: collectFromAzure, services: rotationServices }), err.join("")).toBe(0);

    await scan();
    const after = await rows();
    const added = after.slice(opened.length);
    expect(added.map((r) => `${String(r.row.Transition)} ${String(r.row.ControlId)} ${String(r.row.ResourceName)}`)).toEqual([`resolved disks_des_current_version ${String(lagging[0]?.row.ResourceName)}`]);
    expect(added[0]?.row).toMatchObject({ Fingerprint: lagging[0]?.row.Fingerprint, Status: "PASS", FirstSeen: lagging[0]?.row.FirstSeen });
  });
});
