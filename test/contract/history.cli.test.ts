import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli, type CliIo } from "../../src/cli/runCli.js";
import { collectFromAzure, rotationServices } from "../../src/cli/wiring.js";
import type { ScanListing } from "../../src/cli/historyCommand.js";
import { FINDINGS_STREAM } from "../../src/lib/alerts/alertRows.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";

/** `keywarden scan --emit` and `keywarden history`, end to end: the drifted estate on the emulator, a local state store. */
describe("the evidence history from the command line", () => {
  let t: TestEmulator;
  let stateDir: string;
  beforeAll(async () => {
    t = await startTestEmulator("contoso-drifted");
  });
  afterAll(() => t?.close());
  beforeEach(async () => {
    await t.control("POST", "/_emulator/reset");
    stateDir = await mkdtemp(join(tmpdir(), "keywarden-history-cli-"));
    return () => rm(stateDir, { recursive: true, force: true });
  });

  function cli(env: Record<string, string> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { stdout: (text) => void out.push(text), stderr: (text) => void err.push(text), env: t.env({ KEYWARDEN_STATE_DIR: stateDir, ...env }), readFile: (path) => readFile(path, "utf8"), writeFile: async () => undefined };
    return { run: (...argv: string[]) => runCli(argv, io, { collect: collectFromAzure, services: rotationServices }), out: () => out.join(""), err: () => err.join("") };
  }

  it("scan --emit stores each scan and says what changed; history lists them and shows the scan in force", async () => {
    const first = cli();
    expect(await first.run("scan", "--emit", "--format", "json")).toBe(0);
    const opened = first.err().split("\n").filter((l) => l.startsWith('{"event":"KeyWarden.Alert"')).map((l) => JSON.parse(l) as { Transition: string });
    expect(opened.length).toBeGreaterThan(0);
    expect(opened.filter((a) => a.Transition !== "opened")).toEqual([]);
    expect(first.err()).toMatch(/Compliance scan \d{8}T\d{9}Z-[0-9a-f]{12}: .* change\(s\) since no earlier scan; alerts: \d+ new, \d+ delivered \(printed above only: KEYWARDEN_MONITOR_\* are not set\)\. History: local directory /);

    const second = cli();
    expect(await second.run("scan", "--emit", "--out", "/dev/null")).toBe(0);
    expect(second.err()).toMatch(/0 change\(s\) since \d{8}T/);
    expect(second.err()).not.toContain('"event":"KeyWarden.Alert"');

    const listed = cli();
    expect(await listed.run("history", "--json")).toBe(0);
    const scans = JSON.parse(listed.out()) as ScanListing[];
    expect(scans).toHaveLength(2);
    expect(scans[1]).toMatchObject({ opened: opened.length, resolved: 0 });
    expect(scans[0]).toMatchObject({ open: scans[1]?.open, opened: 0, resolved: 0, changed: 0 });
    expect(scans[0]!.scanId > scans[1]!.scanId).toBe(true);

    const text = cli();
    expect(await text.run("history", "--limit", "1")).toBe(0);
    expect(text.out()).toMatch(new RegExp(`^Stored scans in local directory .*: 1 of 2, newest first:\\n  ${scans[0]!.scanId}  \\S+ +\\d+ open \\(.*\\); no change\\n$`));

    const inForce = cli();
    expect(await inForce.run("history", "--at", scans[1]!.scannedAt)).toBe(0);
    expect(inForce.out()).toContain(`Scan in force at ${scans[1]!.scannedAt}: ${scans[1]!.scanId}`);
    expect(inForce.out()).toMatch(/first seen \d{4}-\d{2}-\d{2}T/);
    const none = cli();
    expect(await none.run("history", "--at", "2020-01-01")).toBe(1);
    expect(none.err()).toMatch(/^No stored scan in local directory .* was made at or before 2020-01-01T23:59:59\.999Z\.\n$/);
  });

  it("scan --emit sends the rows to Logs Ingestion when KEYWARDEN_MONITOR_* are set", async () => {
    const { rules } = (await t.control("GET", "/_emulator/monitor/rules")) as { rules: { name: string; immutableId: string }[] };
    const rule = rules.find((r) => r.name === "dcr-keywarden");
    const run = cli({ KEYWARDEN_MONITOR_INGESTION_ENDPOINT: t.emulator.ingestionEndpoint("dcr-keywarden"), KEYWARDEN_MONITOR_DCR_ID: String(rule?.immutableId) });
    expect(await run.run("scan", "--emit", "--out", "/dev/null")).toBe(0);
    const rows = ((await t.control("GET", `/_emulator/monitor/rules/dcr-keywarden/streams/${FINDINGS_STREAM}/rows`)) as { rows: unknown[] }).rows;
    expect(rows.length).toBeGreaterThan(0);
    expect(run.err()).toMatch(new RegExp(`alerts: ${rows.length} new, ${rows.length} delivered to Azure Monitor`));
  });

  it("refuses what it cannot do, naming why", async () => {
    const withSnapshot = cli();
    expect(await withSnapshot.run("scan", "--emit", "--snapshot", "estate.json")).toBe(2);
    expect(withSnapshot.err()).toContain("--emit records a scan collected now; it does not take --snapshot");
    const badLimit = cli();
    expect(await badLimit.run("history", "--limit", "0")).toBe(2);
    expect(badLimit.err()).toContain('--limit: "0" is not a whole number of scans (1 or more)');
    const badAt = cli();
    expect(await badAt.run("history", "--at", "last tuesday")).toBe(2);
    expect(badAt.err()).toContain('--at: "last tuesday" is not an ISO 8601 date');
    const empty = cli();
    expect(await empty.run("history")).toBe(0);
    expect(empty.out()).toMatch(/^No stored scans in local directory /);
  });
});
