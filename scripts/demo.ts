/**
 * `npm start`: boots the built-in Azure emulator seeded with the Contoso reference estate, runs
 * `keywarden inventory` against it through the real Azure SDK clients, then loads the same estate
 * with realistic drift and shows the whole service on it: the compliance scan, the rotation plan, the
 * rotation of what is due (with a journal), the verification, and a rescan in which the rotation findings
 * are closed. The emulator's access model confirms that no consumer lost access to its key at any moment.
 * Nothing leaves the machine.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator } from "../emulator/index.js";
import { keywardenEnv } from "../emulator/keywardenEnv.js";
import { call } from "../emulator/test-support.js";
import { runCli, type CliDeps } from "../src/cli/runCli.js";
import { collectFromAzure, rotationServices } from "../src/cli/wiring.js";
import { systemClock } from "../src/lib/clock.js";
import { REGISTERED_CONTROLS } from "../src/lib/compliance/checks/index.js";
import { loadControls } from "../src/lib/compliance/registry.js";
import { loadConfig } from "../src/lib/config/load.js";
import { listRunIds } from "../src/lib/rotation/journal.js";
import { runScan } from "../src/lib/scan/runScan.js";
import { createStateStore } from "../src/lib/state/createStateStore.js";

/** The controls a rotation closes: expiry, cryptoperiod, and consumers on the current version. */
const ROTATION_CONTROLS = [
  "keys_days_to_expiry",
  "keys_current_version_within_cryptoperiod",
  "disks_des_current_version",
  "sql_tde_protector_current_version",
  "storage_key_version_current",
  "storage_current_version_caught_up",
];

async function main(): Promise<number> {
  const emulator = await startEmulator({ fixture: "contoso-reference" });
  // The demo's own journal and locks, gone afterwards: a second `npm start` starts from nothing.
  const stateDir = await mkdtemp(join(tmpdir(), "keywarden-demo-state-"));
  try {
    process.stderr.write(`Azure emulator listening on ${emulator.endpoint} (Contoso reference estate)\n\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, ...keywardenEnv(emulator, { KEYWARDEN_STATE_DIR: stateDir, KEYWARDEN_LRO_POLL_INTERVAL_MS: "200" }) };
    const io = {
      stdout: (text: string) => void process.stdout.write(text),
      stderr: (text: string) => void process.stderr.write(text),
      env,
      readFile: (path: string) => readFile(path, "utf8"),
      writeFile: (path: string, contents: string) => writeFile(path, contents, "utf8"),
    };
    const deps: CliDeps = { collect: collectFromAzure, services: rotationServices };
    const heading = (text: string) => process.stderr.write(`\n\n=== ${text}\n\n`);

    const inventory = await runCli(["inventory", ...process.argv.slice(2)], io, deps);
    if (inventory !== 0) return inventory;

    const loaded = await call(emulator, "POST", "/_emulator/fixture", { body: { name: "contoso-drifted" }, token: null });
    if (loaded.status !== 200) throw new Error(`the emulator could not load the drifted estate: ${JSON.stringify(loaded.body)}`);
    // Long-running operations poll at KeyWarden's interval rather than the emulator's default Retry-After.
    await call(emulator, "POST", "/_emulator/config", { body: { lroRetryAfterSeconds: 0 }, token: null });
    heading("The same estate with drift planted (emulator/fixtures/contoso-drifted.json): keywarden scan");
    // Findings are the point of this demo, so they do not make `npm start` fail.
    await runCli(["scan", "--format", "md", "--fail-on", "high"], io, deps);
    const config = await loadConfig({ env, readFile: (path) => readFile(path, "utf8") });
    const before = await rotationFindings(config);

    heading("keywarden plan");
    await runCli(["plan"], io, deps);
    heading("keywarden rotate --yes: rotate what is due, move every consumer, verify each one");
    const rotated = await runCli(["rotate", "--yes"], io, deps);
    if (rotated === 1) return rotated;

    heading("A day later on the emulator's clock (versionless storage catches up within 24 hours): keywarden verify");
    await call(emulator, "POST", "/_emulator/clock", { body: { advance: "P1D" }, token: null });
    await runCli(["verify"], io, deps);

    const [runId] = await listRunIds(createStateStore(config.settings, systemClock));
    if (runId) {
      heading(`keywarden runs --id ${runId}: the journal`);
      await runCli(["runs", "--id", runId], io, deps);
    }

    heading("keywarden rotate --yes again: nothing is due, nothing is written");
    await runCli(["rotate", "--yes"], io, deps);

    const after = await rotationFindings(config);
    heading("Rescan");
    process.stderr.write(`Rotation findings (${ROTATION_CONTROLS.join(", ")}): ${before.length} failing before, ${after.length} after.\n`);
    for (const finding of after) process.stderr.write(`  still failing: ${finding}\n`);
    const lost = await call(emulator, "GET", "/_emulator/access/lost", { token: null });
    const count = (lost.body as { count: number }).count;
    process.stderr.write(`Emulator access model: ${count} consumer(s) lost access to their key at any moment.\n`);
    return count === 0 && after.length === 0 ? 0 : 1;
  } finally {
    await emulator.close();
    await rm(stateDir, { recursive: true, force: true });
  }
}

async function rotationFindings(config: Awaited<ReturnType<typeof loadConfig>>): Promise<string[]> {
  const { report } = await runScan({ config, collect: collectFromAzure, controls: loadControls(REGISTERED_CONTROLS), clock: systemClock });
  return report.controls
    .filter((c) => ROTATION_CONTROLS.includes(c.metadata.id))
    .flatMap((c) => c.results.filter((r) => r.status === "FAIL").map((r) => `${c.metadata.id}: ${r.message}`));
}

process.exitCode = await main();
