/**
 * `npm run bench`: how long KeyWarden takes on the reference estate and on a scaled one, end to end
 * through the real SDK clients against the emulator (loopback HTTPS, so network latency is ~0 and
 * the figures are KeyWarden's and the SDKs' own cost, plus the emulator's), and how long the pure
 * parts (evaluation, rendering) take. Prints medians of several runs.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { startEmulator } from "../emulator/index.js";
import { keywardenEnv } from "../emulator/keywardenEnv.js";
import { call } from "../emulator/test-support.js";
import { createAzureClients } from "../src/lib/azure/clients.js";
import { systemClock } from "../src/lib/clock.js";
import { REGISTERED_CONTROLS } from "../src/lib/compliance/checks/index.js";
import { evaluate } from "../src/lib/compliance/evaluate.js";
import { loadControls } from "../src/lib/compliance/registry.js";
import { loadConfig } from "../src/lib/config/load.js";
import { collectEstate } from "../src/lib/inventory/collect.js";
import { REPORT_FORMATS, renderReport } from "../src/lib/report/formats.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

type Json = Record<string, unknown> & { storageAccounts: Json[]; virtualMachines: Json[]; sqlManagedInstances: Json[] };

/** The reference estate with `factor` times more consumers (SQL MIs, VMs with disks, storage accounts). */
function scaledFixture(factor: number): Json {
  const base = JSON.parse(readFileSync(join(root, "emulator", "fixtures", "contoso-reference.json"), "utf8")) as Json;
  const guid = (kind: number, i: number) => `d${kind}000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
  const clone = <T>(o: T): T => JSON.parse(JSON.stringify(o)) as T;
  const sql = base.sqlManagedInstances[0]!;
  const vms = base.virtualMachines;
  const st = base.storageAccounts.find((s) => (s.encryption as Json | undefined)?.keySource === "Microsoft.Keyvault")!;
  for (let i = 1; i < factor; i++) {
    base.sqlManagedInstances.push({ ...clone(sql), name: `bench-sqlmi-${i}`, identity: { type: "SystemAssigned", principalId: guid(1, i) } });
    for (const vm of vms.slice(0, 2)) base.virtualMachines.push({ ...clone(vm), name: `${String(vm.name)}-b${i}` });
    for (let j = 0; j < 5; j++) base.storageAccounts.push({ ...clone(st), name: `benchst${i}x${j}`, identity: { type: "SystemAssigned", principalId: guid(2, i * 5 + j) } });
  }
  return { ...base, name: `contoso-x${factor}` };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;

async function benchEstate(label: string, fixture: string | Json) {
  const emulator = await startEmulator({ fixture });
  try {
    const config = await loadConfig({
      env: keywardenEnv(emulator),
      readFile: (p) => readFile(p, "utf8"),
    });
    const controls = loadControls(REGISTERED_CONTROLS);
    const collectTimes: number[] = [];
    let snapshot = await collectEstate(config, createAzureClients(config.settings), systemClock); // warm-up (TLS, JIT)
    await call(emulator, "POST", "/_emulator/reset", { token: null });
    for (let i = 0; i < RUNS; i++) {
      const clients = createAzureClients(config.settings); // fresh clients: each run pays the challenge round-trips, as a cold function does
      const t0 = performance.now();
      snapshot = await collectEstate(config, clients, systemClock);
      collectTimes.push(performance.now() - t0);
    }
    const counts = (await call(emulator, "GET", "/_emulator/requests", { token: null })).body as { counts: Record<string, number> };
    const requests = Object.values(counts.counts).reduce((a, b) => a + b, 0) / RUNS;

    const evalTimes: number[] = [];
    let report = evaluate(snapshot, config.policy, controls, { now: new Date() });
    for (let i = 0; i < RUNS * 4; i++) {
      const t0 = performance.now();
      report = evaluate(snapshot, config.policy, controls, { now: new Date() });
      evalTimes.push(performance.now() - t0);
    }
    const renderTimes = Object.fromEntries(
      REPORT_FORMATS.map((format) => {
        const times: number[] = [];
        for (let i = 0; i < RUNS * 4; i++) {
          const t0 = performance.now();
          renderReport(report, format);
          times.push(performance.now() - t0);
        }
        return [format, median(times)];
      }),
    );
    const c = snapshot.consumers;
    const results = report.controls.reduce((n, o) => n + o.results.length, 0);
    console.log(`\n${label}: ${c.sqlManagedInstances?.length ?? "?"} SQL MIs, ${c.diskEncryptionSets?.length ?? "?"} DES, ${c.virtualMachines?.length ?? "?"} VMs, ${c.disks?.length ?? "?"} disks, ${c.storageAccounts?.length ?? "?"} storage accounts; ${snapshot.errors.length} collection errors`);
    console.log(`  collect (SDK → emulator)   median ${ms(median(collectTimes))} over ${RUNS} runs, ${requests.toFixed(0)} requests per run`);
    console.log(`  evaluate (${controls.length} controls, ${results} results)  median ${ms(median(evalTimes))}`);
    console.log(`  render                     ${Object.entries(renderTimes).map(([f, t]) => `${f} ${ms(t)}`).join(", ")}`);
  } finally {
    await emulator.close();
  }
}

console.log(`KeyWarden benchmark — node ${process.version}, ${RUNS} runs per figure (BENCH_RUNS to change)`);
await benchEstate("Contoso reference estate", "contoso-reference");
await benchEstate("Contoso estate ×20 consumers", scaledFixture(20));
