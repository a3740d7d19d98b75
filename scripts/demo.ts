/**
 * `npm start`: boots the built-in Azure emulator seeded with the Contoso reference estate, runs
 * `keywarden inventory` against it through the real Azure SDK clients, then loads the same estate
 * with realistic drift and shows the whole service on it: the compliance scan, the rotation plan, the
 * rotation timer publishing the events Managed HSM does not send, Event Grid delivering them (at least
 * once, in no order) to the event handler, which rotates what is due and moves every consumer (with a
 * journal), the verification, and a rescan in which the rotation findings are closed. Each scan is stored in the
 * evidence history and its changes, like the rotations' outcomes, go to the emulator's Azure Monitor Logs Ingestion. The emulator's access model confirms that no consumer lost access to its key at any moment.
 * Nothing leaves the machine.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deliverEvents } from "../emulator/eventDelivery.js";
import { startEmulator, type EmulatorHandle } from "../emulator/index.js";
import { keywardenEnv } from "../emulator/keywardenEnv.js";
import { call } from "../emulator/test-support.js";
import { runCli, type CliDeps } from "../src/cli/runCli.js";
import { collectFromAzure, rotationServices } from "../src/cli/wiring.js";
import { systemClock } from "../src/lib/clock.js";
import { REGISTERED_CONTROLS } from "../src/lib/compliance/checks/index.js";
import { loadControls } from "../src/lib/compliance/registry.js";
import { loadConfig } from "../src/lib/config/load.js";
import { handleKeyEvent } from "../src/lib/events/handleKeyEvent.js";
import { tellRound } from "../src/lib/events/tellRound.js";
import { eventDepsOf } from "../src/lib/events/runtimeEventDeps.js";
import { collectEstate } from "../src/lib/inventory/collect.js";
import { listRunIds, readRun } from "../src/lib/rotation/journal.js";
import { runRotation } from "../src/lib/rotation/runRotation.js";
import { createRuntime } from "../src/lib/runtime.js";
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
    // From here on, alerts go to the emulator's Azure Monitor Logs Ingestion (the data collection rule dcr-keywarden).
    Object.assign(env, await monitorEnv(emulator));
    heading("The same estate with drift planted (emulator/fixtures/contoso-drifted.json): keywarden scan --emit");
    // Findings are the point of this demo, so they do not make `npm start` fail.
    await runCli(["scan", "--emit", "--format", "md", "--fail-on", "high"], { ...io, stderr: alertsAsTable(io.stderr) }, deps);
    await alertsLanded(emulator, "the first scan: one row per open finding");
    const config = await loadConfig({ env, readFile: (path) => readFile(path, "utf8") });
    const before = await rotationFindings(config);

    heading("keywarden plan");
    await runCli(["plan"], io, deps);
    const events = await eventDriven(emulator, env, heading);
    if (events !== 0) return events;

    heading("A day later on the emulator's clock (versionless storage catches up within 24 hours): keywarden verify");
    await call(emulator, "POST", "/_emulator/clock", { body: { advance: "P1D" }, token: null });
    await runCli(["verify"], io, deps);

    const store = createStateStore(config.settings, systemClock);
    let rotationRun: string | undefined;
    for (const id of await listRunIds(store)) if ((await readRun(store, id)).some((r) => r.type === "step.finished" && r.kind === "rotateKey")) rotationRun = id;
    if (rotationRun) {
      heading(`keywarden runs --id ${rotationRun}: the journal of the handler's rotation`);
      await runCli(["runs", "--id", rotationRun], io, deps);
    }

    heading("keywarden rotate --yes: the handler left nothing to do, so nothing is written");
    await runCli(["rotate", "--yes"], io, deps);

    heading("Rescan: keywarden scan --emit (stored in the history; what changed since the first scan goes to Azure Monitor)");
    await runCli(["scan", "--emit", "--out", join(stateDir, "report.md")], { ...io, stderr: alertsAsTable(io.stderr) }, deps);
    await alertsLanded(emulator, "after the rotation");
    heading(`keywarden history: the evidence history, kept in the state store (here ${join(stateDir, "scans")}, removed when the demo ends; in Azure, the Blob container of KEYWARDEN_STATE_BLOB_URL)`);
    await runCli(["history"], io, deps);

    const after = await rotationFindings(config);
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

const TOPIC = "contoso-keywarden-events";

/**
 * The event-driven path: the rotation timer (in plan mode, the default) proposes and publishes the round's events
 * to the Event Grid topic; Event Grid delivers them to the keyEvents handler, running with
 * KEYWARDEN_ROTATION_MODE=execute, which rotates and moves; what the handler's runs publish is delivered too.
 */
async function eventDriven(emulator: EmulatorHandle, env: NodeJS.ProcessEnv, heading: (text: string) => void): Promise<number> {
  const topics = await call(emulator, "GET", "/_emulator/eventgrid/topics", { token: null });
  const key = (topics.body as { topics: { name: string; key1: string }[] }).topics.find((t) => t.name === TOPIC)?.key1;
  if (!key) throw new Error(`the emulator has no Event Grid topic ${TOPIC}`);
  const eventsEnv = { KEYWARDEN_EVENTS_TOPIC_ENDPOINT: emulator.topicEndpoint(TOPIC), KEYWARDEN_EVENTS_TOPIC_KEY: key };
  const timer = await createRuntime({ env: { ...env, ...eventsEnv, KEYWARDEN_ROTATION_MODE: "plan" } });
  // The handler's rotations raise rotation alerts (completed, a consumer lagging or blocked) as the timer's would.
  const handler = await createRuntime({ env: { ...env, ...eventsEnv, KEYWARDEN_ROTATION_MODE: "execute" } });
  const write = (text: string) => void process.stderr.write(text);

  heading(`The rotation timer (KEYWARDEN_ROTATION_MODE=plan) proposes, and publishes to the Event Grid topic ${TOPIC} the events Managed HSM does not send`);
  const { config, clients, store, clock, publisher } = timer;
  if (!publisher) throw new Error("no events publisher");
  const round = await runRotation({ config, clients, store, clock, mode: "plan", collect: () => collectEstate(config, clients, clock) });
  // As the timer does: the round's events to the topic, its rotation alerts to Azure Monitor.
  const told = await tellRound(round, { policy: config.policy, mode: "plan", store, clock, publisher, ...(timer.logsSink ? { sink: timer.logsSink } : {}), log: (line) => alertsAsTable(write)(`${line}\n`), owner: "demo-timer" });
  const published = told.published;
  if (!published) throw new Error(`the demo's events were not published: ${told.publishError ?? "no publisher"}`);
  for (const e of published.flushed.sent) write(`  published  ${e.type.padEnd(40)} ${e.subject.padEnd(22)} ${e.id}
`);
  if (published.flushed.failed.length + published.flushed.rejected.length > 0) throw new Error("the demo's events were not all published");

  let since = 0;
  for (let round = 1; round <= 3; round += 1) {
    const stored = await call(emulator, "GET", `/_emulator/eventgrid/topics/${TOPIC}/events?since=${since}`, { token: null });
    const items = (stored.body as { events: { seq: number }[] }).events;
    if (items.length === 0) break;
    heading(
      round === 1
        ? "Event Grid delivers them to the keyEvents handler (KEYWARDEN_ROTATION_MODE=execute): at least once, some twice, in no order"
        : "…and what the handler's own runs published (the new version, KeyWarden's outcome events)",
    );
    const delivery = await deliverEvents(emulator.endpoint, emulator.caPem, {
      topic: TOPIC,
      since,
      seed: round,
      duplicateRate: 0.3,
      target: {
        kind: "function",
        handler: async (event) => {
          const result = await handleKeyEvent(event, eventDepsOf(handler, `demo-${round}`, (line) => alertsAsTable(write)(`${line}\n`)));
          write(`  ${String(result.eventType ?? "?").padEnd(40)} ${String(event.subject ?? "").padEnd(20)} ${result.outcome.padEnd(11)} ${result.message}
`);
        },
      },
    });
    write(`  ${delivery.delivered} deliveries of ${items.length} events; ${delivery.dropped} dropped, ${delivery.expired} expired.
`);
    since = Math.max(...items.map((i) => i.seq));
  }
  return 0;
}

const RULE = "dcr-keywarden";

async function monitorEnv(emulator: EmulatorHandle): Promise<Record<string, string>> {
  const rules = (await call(emulator, "GET", "/_emulator/monitor/rules", { token: null })).body as { rules: { name: string; immutableId: string }[] };
  const rule = rules.rules.find((r) => r.name === RULE);
  if (!rule) throw new Error(`the emulator has no data collection rule ${RULE}`);
  return { KEYWARDEN_MONITOR_INGESTION_ENDPOINT: emulator.ingestionEndpoint(RULE), KEYWARDEN_MONITOR_DCR_ID: rule.immutableId };
}

/** Alert rows (one JSON line each in the log) shown one short line each; every other line as it is. */
function alertsAsTable(write: (text: string) => void): (text: string) => void {
  return (text) => {
    const lines = text.split("\n");
    const out = lines.map((line) => {
      if (!line.startsWith('{"event":"KeyWarden.Alert"')) return line;
      const a = JSON.parse(line) as Record<string, string>;
      const table = a.stream === "Custom-KeyWardenRotations_CL" ? "KeyWardenRotations_CL" : "KeyWardenFindings_CL";
      return `  alert  ${table.padEnd(22)} ${String(a.Transition).padEnd(16)} ${String(a.Severity ?? "").padEnd(8)} ${String(a.ControlId ?? a.KeyName ?? "").padEnd(44)} ${String(a.ResourceName ?? "")}`;
    });
    write(out.join("\n"));
  };
}

/** What the emulator's Logs Ingestion endpoint holds now, per table and transition. */
async function alertsLanded(emulator: EmulatorHandle, when: string): Promise<void> {
  const counts: string[] = [];
  for (const stream of ["Custom-KeyWardenFindings_CL", "Custom-KeyWardenRotations_CL"]) {
    const rows = ((await call(emulator, "GET", `/_emulator/monitor/rules/${RULE}/streams/${stream}/rows`, { token: null })).body as { rows: { row: { Transition: string } }[] }).rows;
    const by = new Map<string, number>();
    for (const r of rows) by.set(r.row.Transition, (by.get(r.row.Transition) ?? 0) + 1);
    counts.push(`${stream.replace(/^Custom-/, "")}: ${rows.length} row(s)${by.size ? ` (${[...by].map(([t, n]) => `${n} ${t}`).join(", ")})` : ""}`);
  }
  process.stderr.write(`Azure Monitor (the emulator's Logs Ingestion, rule ${RULE}), ${when}: ${counts.join("; ")}.\n`);
}

async function rotationFindings(config: Awaited<ReturnType<typeof loadConfig>>): Promise<string[]> {
  const { report } = await runScan({ config, collect: collectFromAzure, controls: loadControls(REGISTERED_CONTROLS), clock: systemClock });
  return report.controls
    .filter((c) => ROTATION_CONTROLS.includes(c.metadata.id))
    .flatMap((c) => c.results.filter((r) => r.status === "FAIL").map((r) => `${c.metadata.id}: ${r.message}`));
}

process.exitCode = await main();
