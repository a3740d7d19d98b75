import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, runCli } from "../../src/cli/runCli.js";
import { fixedClock } from "../../src/lib/clock.js";
import { loadSnapshot, type SnapshotFixture } from "../support/snapshots.js";

const POLICY = readFileSync(new URL("../../examples/contoso.policy.json", import.meta.url), "utf8");

/** `keywarden scan` over the snapshot fixtures, with the collection injected (no network). */
function scan(fixture: SnapshotFixture, ...argv: string[]) {
  return scanAt(fixture, undefined, ...argv);
}

/** As scan, evaluated at `now` (default: the snapshot's own time). */
function scanAt(fixture: SnapshotFixture, now: string | undefined, ...argv: string[]) {
  const out = { stdout: "", stderr: "", written: new Map<string, string>() };
  const snapshot = loadSnapshot(fixture);
  const exit = runCli(
    ["scan", ...argv],
    {
      stdout: (t) => void (out.stdout += t),
      stderr: (t) => void (out.stderr += t),
      env: { KEYWARDEN_POLICY_FILE: "policy.json" },
      readFile: async () => POLICY,
      writeFile: async (path, contents) => void out.written.set(path, contents),
    },
    { collect: async () => snapshot, clock: fixedClock(now ?? snapshot.collectedAt) },
  );
  return exit.then((code) => ({ code, ...out }));
}

describe("keywarden scan", () => {
  it("prints the Markdown report and a summary; exits 0 without --fail-on", async () => {
    const r = await scan("contoso-drifted");
    expect(r.code).toBe(EXIT_OK);
    expect(r.stdout).toMatch(/^# KeyWarden compliance report/);
    expect(r.stderr).toMatch(/9 failed, 0 unknown, \d+ passed/);
  });

  it("gates a pipeline: --fail-on high exits 3 on the drifted estate and 0 on the reference one", async () => {
    const drifted = await scan("contoso-drifted", "--fail-on", "high");
    expect(drifted.code).toBe(EXIT_FINDINGS);
    expect(drifted.stderr).toMatch(/8 result\(s\) at or above "high" failed or could not be checked/);
    expect((await scan("contoso-drifted", "--fail-on", "critical")).code).toBe(EXIT_FINDINGS);
    expect((await scan("contoso-reference", "--fail-on", "info")).code).toBe(EXIT_OK);
  });

  it("--min-severity narrows what is shown, never what the gate judges", async () => {
    // The drifted estate has one critical finding and seven high ones: the gate counts all eight.
    const drifted = await scan("contoso-drifted", "--min-severity", "critical", "--fail-on", "high");
    expect(drifted.code).toBe(EXIT_FINDINGS);
    expect(drifted.stderr).toMatch(/8 result\(s\) at or above "high" failed or could not be checked/);
    // By October 2027 the reference estate's keys draw six high findings (cryptoperiod, expiry warning) and no
    // critical one: a display of critical results alone shows no finding, and still the gate closes.
    const later = await scanAt("contoso-reference", "2027-10-15T00:00:00.000Z", "--min-severity", "critical", "--fail-on", "high", "--format", "json");
    expect(later.code).toBe(EXIT_FINDINGS);
    expect(later.stderr).toMatch(/6 result\(s\) at or above "high" failed or could not be checked/);
    const shown = JSON.parse(later.stdout) as { minSeverity: string; controls: { results: { severity: string; status: string }[] }[] };
    expect(shown.minSeverity).toBe("critical");
    const displayed = shown.controls.flatMap((c) => c.results);
    expect(displayed.length).toBeGreaterThan(0);
    expect(displayed.filter((r) => r.severity !== "critical" || r.status !== "PASS")).toEqual([]);
  });

  it("writes the report in the asked format to --out and prints only the summary", async () => {
    const r = await scan("contoso-drifted", "--format", "sarif", "--out", "report.sarif");
    expect(r.code).toBe(EXIT_OK);
    expect(JSON.parse(r.written.get("report.sarif") ?? "{}")).toMatchObject({ version: "2.1.0" });
    expect(r.stdout).toMatch(/^9 failed, 0 unknown/);
  });

  it.each([
    [["--format", "xml"], /option "--format" must be one of json, md, html, sarif, csv \(got "xml"\)/],
    [["--fail-on", "severe"], /option "--fail-on" must be one of critical, high, medium, low, info/],
  ])("rejects %j with exit 2 naming the option", async (argv, message) => {
    const r = await scan("contoso-drifted", ...argv);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toMatch(message);
  });
});
