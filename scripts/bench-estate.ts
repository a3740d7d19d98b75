/**
 * One estate of `npm run bench`, in a process of its own (so its peak RSS is KeyWarden's alone): starts the
 * emulator as a child process (so the emulator's CPU is not counted as KeyWarden's), collects the estate through
 * the real SDK clients and the request layer, evaluates every control and renders every report format, and
 * prints one JSON line of figures on stdout. Usage: tsx scripts/bench-estate.ts <estate json>.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { generateEstate } from "../emulator/generate.js";
import { benchKeywardenEnv, startBenchEmulator, startCpuWindow, warmEmulator } from "./bench-emulator.js";
import { measureRequestCpu, type Read } from "./bench-floor.js";
import { parseFixture } from "../emulator/fixture.js";
import type { EmulatorHandle } from "../emulator/index.js";
import { call } from "../emulator/test-support.js";
import { createAzureClients } from "../src/lib/azure/clients.js";
import { createRequestLayer, requestLayerOptions } from "../src/lib/azure/requests.js";
import { systemClock } from "../src/lib/clock.js";
import { REGISTERED_CONTROLS } from "../src/lib/compliance/checks/index.js";
import { evaluate } from "../src/lib/compliance/evaluate.js";
import { loadControls } from "../src/lib/compliance/registry.js";
import { loadConfig } from "../src/lib/config/load.js";
import { collectEstate } from "../src/lib/inventory/collect.js";
import { REPORT_FORMATS, renderReport } from "../src/lib/report/formats.js";
// A CommonJS package: plain Node (the compiled benchmark) sees its classes only on the default export.
import functions from "@azure/functions";
import { complianceReportHandler } from "../src/functions/complianceReport.js";
import { recordScan } from "../src/lib/history/scanHistory.js";
import { setRuntime } from "../src/lib/runtime.js";
import { createLocalDirectoryStore } from "../src/lib/state/localDirectoryStore.js";

export interface EstateSpec {
  label: string;
  /** A named fixture, or a generated estate. */
  fixture?: string;
  generate?: { subscriptions: number; consumers: number };
  latencyMs: number;
  pageSize: number;
  /**
   * Whole collections that warm the emulator first, from another process (bench-emulator-warmup.ts; default none).
   * Where the emulator's CPU competes with KeyWarden's for the cores: in the 10,000-consumer collection its CPU fell
   * from 2.3–3.7 s (cold) to 1.0 s after one such scan and 0.7–0.9 s after two.
   */
  emulatorWarmupScans?: number;
  /**
   * Fresh workers whose first collection is timed (default 1); the figure judged is their median. Each is a process
   * of its own: a worker's first scan, its JIT cold, cannot be had twice in one process.
   */
  collectRuns?: number;
  /** Set by bench.ts for the runs after the first: collect only, and print the collection's figures. */
  collectOnly?: boolean;
  /** Also measure what one request costs KeyWarden's thread (scripts/bench-floor.ts). */
  requestCpu?: boolean;
}

const spec = JSON.parse(process.argv[2] ?? "{}") as EstateSpec;
// The repository (the emulator always runs from its sources, through tsx); KeyWarden may run compiled elsewhere.
const root = process.env.BENCH_REPO_ROOT ?? join(import.meta.dirname, "..");
const work = await mkdtemp(join(tmpdir(), "keywarden-bench-"));

const args = ["--latency-ms", String(spec.latencyMs), "--page-size", String(spec.pageSize)];
if (spec.generate) args.push("--generate", `subscriptions=${spec.generate.subscriptions},consumers=${spec.generate.consumers}`, "--policy-out", join(work, "policy.json"));
else args.push("--fixture", spec.fixture ?? "contoso-reference");
const ready = await startBenchEmulator(root, work, args);
const { child } = ready;

try {
  // Enough of an EmulatorHandle for the control endpoints.
  const emulator = { endpoint: ready.endpoint, port: Number(new URL(ready.endpoint).port), caPem: await readFile(ready.caPath, "utf8") } as unknown as EmulatorHandle;
  const policyPath = ready.policyPath ?? join(root, "examples", "contoso.policy.json");
  const env = benchKeywardenEnv(ready, policyPath);
  const config = await loadConfig({ env, readFile: (p) => readFile(p, "utf8") });
  const layer = createRequestLayer(requestLayerOptions(config.settings));
  const clients = createAzureClients(config.settings, undefined, layer);

  // The emulator first, from another process: Azure is never cold (bench-emulator-warmup.ts).
  if (spec.emulatorWarmupScans) await warmEmulator(ready, policyPath, spec.emulatorWarmupScans);

  // Warm-up, as a function worker is after its first invocation: modules loaded, TLS connections and the HSM
  // challenge done, the emulator's key material made. It reads the HSM and one subscription only, so that its
  // garbage does not count in the measured run's peak RSS; then a reset refills ARM's buckets.
  const coldT0 = performance.now();
  await collectEstate({ ...config, policy: { ...config.policy, subscriptions: config.policy.subscriptions.slice(0, 1) } }, clients, systemClock);
  const coldWallMs = performance.now() - coldT0;
  await call(emulator, "POST", "/_emulator/reset", { token: null });
  const cpuWindow = startCpuWindow(child.pid);
  const t0 = performance.now();
  const snapshot = await collectEstate(config, clients, systemClock);
  const wallMs = performance.now() - t0;
  if (process.env.BENCH_MARKS) process.stderr.write(`collection window: ${(t0 / 1000).toFixed(2)}-${((t0 + wallMs) / 1000).toFixed(2)} s\n`);
  const collectCpu = cpuWindow();
  // A healthy estate collects with none: any is named here, where it happened, not only counted.
  for (const e of snapshot.errors.slice(0, 10)) process.stderr.write(`collection error: ${e.operation} on ${e.resourceId}: ${e.statusCode ?? ""} ${e.code ?? ""} ${e.message}\n`);
  if (process.env.BENCH_SNAPSHOT_OUT) await writeFile(process.env.BENCH_SNAPSHOT_OUT, JSON.stringify(snapshot));
  const served = (await call(emulator, "GET", "/_emulator/requests", { token: null })).body as { counts: Record<string, number>; throttled: Record<string, number> };

  if (spec.collectOnly) {
    // One more sample of the collection in a fresh worker (bench.ts takes the median of these and the full run's).
    const requests = Object.entries(served.counts).reduce((n, [op, c]) => (op.startsWith("emulator.") ? n : n + c), 0);
    console.log(JSON.stringify({ label: spec.label, wallMs, collectCpu, requests, collectionErrors: snapshot.errors.length }));
    await cleanUp();
    process.exit(0);
  }

  // The scan as a function runs it: collect, evaluate once, render one JSON report. Its peak RSS is the figure.
  const controls = loadControls(REGISTERED_CONTROLS);
  let report = evaluate(snapshot, config.policy, controls, { now: new Date() });
  const jsonBytes = Buffer.byteLength(renderReport(report, "json").body);
  const scanRssMb = process.resourceUsage().maxRSS / 1024;
  const evalTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    report = evaluate(snapshot, config.policy, controls, { now: new Date() });
    evalTimes.push(performance.now() - t);
  }
  const renders = REPORT_FORMATS.map((format) => {
    const t = performance.now();
    // With the snapshot and policy, as the function renders it: the HTML draws the consumer map and version axis.
    const body = renderReport(report, format, { snapshot, policy: config.policy }).body;
    return { format, ms: performance.now() - t, bytes: Buffer.byteLength(body) };
  });

  // The HTTP report as deployed: served from the history (three stored scans, an hour apart), through the handler.
  const store = createLocalDirectoryStore(join(work, "state"), { clock: systemClock });
  const scannedAt = Date.now();
  for (const hoursAgo of [2, 1, 0]) await recordScan(store, { snapshot, report: evaluate(snapshot, config.policy, controls, { now: new Date(scannedAt - hoursAgo * 3_600_000) }) });
  setRuntime({ config, clients, clock: systemClock, controls, store });
  const { HttpRequest, InvocationContext } = functions;
  const storedReport = (["json", "html"] as const).map((format) => {
    return { format, times: [] as number[], bytes: 0 };
  });
  for (const entry of storedReport) {
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const res = await complianceReportHandler(new HttpRequest({ method: "GET", url: `http://localhost/api/compliance/report?format=${entry.format}` }), new InvocationContext({ functionName: "complianceReport" }));
      entry.times.push(performance.now() - t);
      if (res.status !== 200 || (res.headers as Record<string, string>)["x-keywarden-report-source"] !== "stored") throw new Error(`the stored report was not served (${res.status})`);
      entry.bytes = Buffer.byteLength(String(res.body));
    }
  }
  const storedReportMs = storedReport.map((e) => ({ format: e.format, ms: [...e.times].sort((a, b) => a - b)[1] ?? 0, bytes: e.bytes }));

  // A worker's next scan: the same estate again, its code now compiled by V8's optimising tiers (the measured
  // scan above ran it after the one-subscription warm-up only). Last, so that its garbage counts in no figure above.
  await call(emulator, "POST", "/_emulator/reset", { token: null });
  const warmCpu0 = process.cpuUsage();
  const warmT0 = performance.now();
  const again = await collectEstate(config, clients, systemClock);
  const warmWallMs = performance.now() - warmT0;
  const warmCpu = process.cpuUsage(warmCpu0);
  if (again.errors.length !== snapshot.errors.length) throw new Error(`the second scan saw ${again.errors.length} collection errors, the first ${snapshot.errors.length}`);
  const reset = async () => {
    await call(emulator, "POST", "/_emulator/reset", { token: null });
  };
  const requestCpu = spec.requestCpu
    ? {
        sqlReads: await measureRequestCpu(config, snapshot.consumers.sqlManagedInstances.flatMap((mi): Read[] => [(c) => c.sql.getEncryptionProtector(mi.resourceId), (c) => c.sql.listKeys(mi.resourceId)]), reset),
        lists: await measureRequestCpu(
          config,
          snapshot.subscriptions.flatMap((id): Read[] => [(c) => c.sql.listManagedInstances(id), (c) => c.compute.listDiskEncryptionSets(id), (c) => c.compute.listDisks(id), (c) => c.compute.listVirtualMachines(id), (c) => c.storage.listStorageAccounts(id)]),
          reset,
        ),
      }
    : undefined;

  // Per subscription: ARM reads, and the longest run of dependent requests (list pages in sequence; a SQL MI's
  // protector and keys after the page that listed it; HSM: ARM read, then key list, then each key's reads).
  const fixture = spec.generate ? parseFixture(generateEstate(spec.generate).fixture) : undefined;
  const perSubscription = new Map<string, { sql: number; des: number; disks: number; vms: number; storage: number }>();
  for (const [kind, items] of [
    ["sql", fixture?.sqlManagedInstances ?? []],
    ["des", fixture?.diskEncryptionSets ?? []],
    ["vms", fixture?.virtualMachines ?? []],
    ["storage", fixture?.storageAccounts ?? []],
  ] as const) {
    for (const item of items as { subscriptionId?: string; disks?: unknown[]; dataDisks?: unknown[] }[]) {
      const sub = (item.subscriptionId ?? fixture?.subscriptionId ?? "").toLowerCase();
      const entry = perSubscription.get(sub) ?? { sql: 0, des: 0, disks: 0, vms: 0, storage: 0 };
      entry[kind] += 1;
      if (kind === "vms") entry.disks += 2;
      perSubscription.set(sub, entry);
    }
  }
  const pages = (n: number) => Math.max(1, Math.ceil(n / spec.pageSize));
  const chains = [...perSubscription.values()].map((s) => Math.max(pages(s.sql) + 1, pages(s.des), pages(s.disks), pages(s.vms), pages(s.storage)));
  const longestChain = Math.max(4, ...chains);
  // Azure's requests only: the emulator's own control endpoints (the count fetched above) are not KeyWarden's.
  for (const op of Object.keys(served.counts)) if (op.startsWith("emulator.")) delete served.counts[op];
  const requests = Object.values(served.counts).reduce((a, b) => a + b, 0);
  const armReadsBySubscription = [...perSubscription.values()].map((s) => 2 * s.sql + pages(s.sql) + pages(s.des) + pages(s.disks) + pages(s.vms) + pages(s.storage));
  const bucketBoundMs = Math.max(0, ...armReadsBySubscription.map((r) => ((r - 250) / 25) * 1000));
  const cap = config.settings.requests.maxConcurrency;
  const lowerBoundMs = Math.max((requests * spec.latencyMs) / cap, longestChain * spec.latencyMs, bucketBoundMs);
  const stats = layer.stats();

  const c = snapshot.consumers;
  console.log(
    JSON.stringify({
      label: spec.label,
      consumers: { sqlManagedInstances: c.sqlManagedInstances.length, diskEncryptionSets: c.diskEncryptionSets.length, virtualMachines: c.virtualMachines.length, disks: c.disks.length, storageAccounts: c.storageAccounts.length },
      subscriptions: snapshot.subscriptions.length,
      collectionErrors: snapshot.errors.length,
      wallMs,
      coldWallMs,
      requests,
      requestsByOperation: served.counts,
      throttledByEmulator: Object.values(served.throttled ?? {}).reduce((a, b) => a + b, 0),
      throttledSeen: stats.throttled,
      retries: stats.retries,
      peakInFlight: stats.peakInFlight,
      cap,
      latencyMs: spec.latencyMs,
      longestChain,
      bucketBoundMs,
      lowerBoundMs,
      evaluateMs: [...evalTimes].sort((a, b) => a - b)[2],
      results: report.controls.reduce((n, o) => n + o.results.length, 0),
      renders,
      storedReportMs,
      scanRssMb,
      jsonBytes,
      collectCpu,
      warmWallMs,
      warmCpuMs: (warmCpu.user + warmCpu.system) / 1000,
      requestCpu,
      cores: availableParallelism(),
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  );
} finally {
  await cleanUp();
}

async function cleanUp(): Promise<void> {
  child.kill("SIGTERM");
  await rm(work, { recursive: true, force: true });
}
