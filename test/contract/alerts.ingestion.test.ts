import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvocationContext, type Timer } from "@azure/functions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { complianceScanHandler } from "../../src/functions/complianceScan.js";
import { FINDINGS_STREAM } from "../../src/lib/alerts/alertRows.js";
import { createRuntime, setRuntime } from "../../src/lib/runtime.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";

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
  const rows = async (): Promise<StoredRow[]> => ((await t.control("GET", `/_emulator/monitor/rules/${RULE}/streams/${FINDINGS_STREAM}/rows`)) as { rows: StoredRow[] }).rows;

  beforeAll(async () => {
    t = await startTestEmulator("contoso-drifted");
  });
  afterAll(async () => {
    setRuntime(undefined);
    await t.close();
  });
  beforeEach(async () => {
    await t.control("POST", "/_emulator/reset");
    stateDir = mkdtempSync(join(tmpdir(), "kw-alerts-"));
    const { rules } = (await t.control("GET", "/_emulator/monitor/rules")) as { rules: { name: string; immutableId: string }[] };
    const ruleId = String(rules.find((r) => r.name === RULE)?.immutableId);
    setRuntime(createRuntime({ env: t.env({ KEYWARDEN_STATE_DIR: stateDir, KEYWARDEN_MONITOR_INGESTION_ENDPOINT: t.emulator.ingestionEndpoint(RULE), KEYWARDEN_MONITOR_DCR_ID: ruleId }) }));
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
});
