/**
 * The rotation estate of `npm run bench`, in a process of its own (so its peak RSS is KeyWarden's alone): one due
 * key with `consumers` consumers over `subscriptions` subscriptions (emulator/generate.ts generateRotationEstate)
 * on the emulator in a child process, 20 ms on every operation. KeyWarden runs as `rotate --yes` does — collect,
 * plan, execute (rotate the key once, move every consumer), collect again and verify — then the emulator's clock
 * moves a day (versionless storage catches up) and it verifies again. Prints one JSON line of figures on stdout.
 * Usage: node scripts/bench-rotation.js <spec json>. KEYWARDEN_ROTATION_CONCURRENCY and
 * KEYWARDEN_ROTATION_SUBSCRIPTION_CONCURRENCY (the executor's consumer steps in flight, in the run and per subscription;
 * default: as deployed), KEYWARDEN_MAX_CONCURRENCY and friends pass through as in the scan bench.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { generateRotationEstate } from "../emulator/generate.js";
import type { EmulatorHandle } from "../emulator/index.js";
import { ROUTES } from "../emulator/routes.js";
import { DEFAULT_THROTTLING } from "../emulator/backend/throttling.js";
import { call } from "../emulator/test-support.js";
import { createAzureClients } from "../src/lib/azure/clients.js";
import { createRequestLayer, requestLayerOptions } from "../src/lib/azure/requests.js";
import { systemClock, type Clock } from "../src/lib/clock.js";
import { loadConfig } from "../src/lib/config/load.js";
import { collectEstate } from "../src/lib/inventory/collect.js";
import { executePlan } from "../src/lib/rotation/executor.js";
import { planRotation } from "../src/lib/rotation/planner.js";
import { verifyRotation } from "../src/lib/rotation/verify.js";
import { subscriptionOf } from "../src/lib/estate/resourceId.js";
import { createLocalDirectoryStore } from "../src/lib/state/localDirectoryStore.js";
import { benchKeywardenEnv, startBenchEmulator, startCpuWindow } from "./bench-emulator.js";

export interface RotationSpec {
  label: string;
  rotation: { subscriptions: number; consumers: number };
  latencyMs: number;
  pageSize: number;
  /** Polls the emulator answers InProgress before a long-running operation is done (emulator --lro-polls). */
  lroPolls: number;
  /** The Retry-After the emulator puts on a long-running operation's 202s (seconds). */
  lroRetryAfterSeconds: number;
}

/** Operations that are POSTs and read only. */
const READ_ONLY_POSTS = new Set(["Query_ResourceExecute", "MetricsBatch_Batch"]);
const LRO_POLLS = new Set(["emulator.operationStatus", "emulator.operationResult"]);
/** The emulator's long-running writes (ARM answers them 202 + Retry-After); every other write answers at once. */
const LRO_WRITES = new Set(["ManagedInstanceKeys_CreateOrUpdate", "ManagedInstanceEncryptionProtectors_CreateOrUpdate", "DiskEncryptionSets_Update"]);

const spec = JSON.parse(process.argv[2] ?? "{}") as RotationSpec;
const root = process.env.BENCH_REPO_ROOT ?? join(import.meta.dirname, "..");
const work = await mkdtemp(join(tmpdir(), "keywarden-bench-rotation-"));
const { fixture, policy } = generateRotationEstate(spec.rotation);
const fixturePath = join(work, "fixture.json");
const policyPath = join(work, "policy.json");
await writeFile(fixturePath, JSON.stringify(fixture));
await writeFile(policyPath, JSON.stringify(policy));
const ready = await startBenchEmulator(root, work, ["--fixture", fixturePath, "--latency-ms", String(spec.latencyMs), "--page-size", String(spec.pageSize), "--lro-polls", String(spec.lroPolls)]);

try {
  const emulator = { endpoint: ready.endpoint, port: Number(new URL(ready.endpoint).port), caPem: await readFile(ready.caPath, "utf8") } as unknown as EmulatorHandle;
  const control = async (method: string, path: string, body?: unknown) => {
    const res = await call(emulator, method, path, { body, token: null });
    if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const env = {
    ...benchKeywardenEnv(ready, policyPath, ["KEYWARDEN_LRO_POLL_INTERVAL_MS", "KEYWARDEN_ROTATION_CONCURRENCY", "KEYWARDEN_ROTATION_SUBSCRIPTION_CONCURRENCY"]),
    KEYWARDEN_STATE_DIR: join(work, "state"),
  };
  const config = await loadConfig({ env, readFile: (p) => readFile(p, "utf8") });
  const layer = createRequestLayer(requestLayerOptions(config.settings));
  const clients = createAzureClients(config.settings, undefined, layer);
  // KeyWarden's clock runs in real time from the emulator's (which is frozen unless moved), so "due", the journal's
  // times and the catch-up deadlines agree on both sides.
  let offsetMs = 0;
  const syncClock = async () => {
    offsetMs = new Date(((await control("GET", "/_emulator/clock")) as { now: string }).now).getTime() - Date.now();
  };
  const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };
  const store = createLocalDirectoryStore(join(work, "state"), { clock });
  const counts = async () => ((await control("GET", "/_emulator/requests")) as { counts: Record<string, number>; throttled: Record<string, number> });
  const diff = (after: Record<string, number>, before: Record<string, number>) =>
    Object.fromEntries(Object.entries(after).map(([op, n]) => [op, n - (before[op] ?? 0)] as const).filter(([op, n]) => n > 0 && (!op.startsWith("emulator.") || LRO_POLLS.has(op))));

  // Warm-up, as a function worker is after its first invocation (modules loaded, TLS and the HSM challenge done);
  // then a reset refills ARM's buckets and zeroes the counts. The reset also restores the emulator's config.
  await collectEstate({ ...config, policy: { ...config.policy, subscriptions: config.policy.subscriptions.slice(0, 1) } }, clients, systemClock);
  await control("POST", "/_emulator/reset");
  await control("POST", "/_emulator/config", { lroRetryAfterSeconds: spec.lroRetryAfterSeconds });
  await syncClock();
  const c0 = await counts();
  const stats0 = layer.stats();

  const t0 = performance.now();
  const snapshot = await collectEstate(config, clients, clock);
  const plan = planRotation(snapshot, config.policy, clock.now());
  const t1 = performance.now();
  const c1 = await counts();
  const concurrency = config.settings.rotationConcurrency;
  const cpuWindow = startCpuWindow(ready.child.pid);
  const run = await executePlan(plan, { clients, store, policy: config.policy, clock, pollIntervalMs: config.settings.lroPollIntervalMs, concurrency });
  const t2 = performance.now();
  const executeCpu = cpuWindow();
  const c2 = await counts();
  const stats2 = layer.stats();
  const verification = verifyRotation(await collectEstate(config, clients, clock), config.policy, clock.now());
  const t3 = performance.now();
  const c3 = await counts();
  // A day later on the emulator's clock: versionless storage has caught up.
  await control("POST", "/_emulator/clock", { advance: "P1D" });
  await syncClock();
  const dayLater = verifyRotation(await collectEstate(config, clients, clock), config.policy, clock.now());
  const lost = ((await control("GET", "/_emulator/access/lost")) as { count: number }).count;

  const tally = (xs: string[]) => xs.reduce<Record<string, number>>((acc, x) => ({ ...acc, [x]: (acc[x] ?? 0) + 1 }), {});
  const method = new Map(ROUTES.map((r) => [r.operationId, r.method]));
  const isWrite = (op: string) => (method.get(op) ?? "GET") !== "GET" && !READ_ONLY_POSTS.has(op) && !op.startsWith("emulator.");
  const executeOps = diff(c2.counts, c1.counts);
  const sum = (o: Record<string, number>, keep: (op: string) => boolean) => Object.entries(o).filter(([op]) => keep(op)).reduce((n, [, v]) => n + v, 0);
  const writes = sum(executeOps, isWrite);
  const polls = sum(executeOps, (op) => LRO_POLLS.has(op));
  const reads = sum(executeOps, (op) => !isWrite(op) && !LRO_POLLS.has(op));
  const lroWrites = sum(executeOps, (op) => LRO_WRITES.has(op));

  // The lower bound, from what Azure allows: ARM's write bucket per subscription (each subscription its own bucket,
  // so the slowest subscription binds); the longest chain of dependent requests, each taking the latency, and the
  // Retry-After waits of its long-running operations (SQL MI: rotate → key PUT → polls → protector PUT → polls);
  // and every request made at the request layer's concurrency cap.
  const writesBySubscription = new Map<string, number>();
  const addWrites = (sub: string | undefined, n: number) => writesBySubscription.set(sub ?? "", (writesBySubscription.get(sub ?? "") ?? 0) + n);
  for (const m of fixture.sqlManagedInstances ?? []) addWrites(m.subscriptionId, 2);
  for (const d of fixture.diskEncryptionSets ?? []) addWrites(d.subscriptionId, 1);
  for (const a of fixture.storageAccounts ?? []) if (a.encryption.keySource === "Microsoft.Keyvault" && a.encryption.key.includes("@")) addWrites(a.subscriptionId, 1);
  const expectedArmWrites = [...writesBySubscription.values()].reduce((a, b) => a + b, 0);
  const bucket = DEFAULT_THROTTLING.writes;
  const bucketBoundMs = Math.max(0, ...[...writesBySubscription.values()].map((w) => ((w - bucket.capacity) / bucket.refillPerSecond) * 1000));
  const pollsPerLro = spec.lroPolls + 1;
  const lroMs = (1 + pollsPerLro) * spec.latencyMs + pollsPerLro * spec.lroRetryAfterSeconds * 1000;
  const lrosInChain = (fixture.sqlManagedInstances?.length ?? 0) > 0 ? 2 : (fixture.diskEncryptionSets?.length ?? 0) > 0 ? 1 : 0;
  const chainMs = spec.latencyMs + lrosInChain * lroMs;
  const cap = config.settings.requests.maxConcurrency;
  const requests = writes + reads + polls;
  const capacityMs = (requests * spec.latencyMs) / cap;
  const lowerBoundMs = Math.max(bucketBoundMs, chainMs, capacityMs);
  // Not a bound Azure sets but KeyWarden's own: at most `overall` consumer steps at once in the run and
  // `perSubscription` in one subscription (KEYWARDEN_ROTATION_CONCURRENCY, KEYWARDEN_ROTATION_SUBSCRIPTION_CONCURRENCY),
  // each step at least its one write (a long-running one with its polls): the busiest subscription's steps ÷
  // perSubscription, or all of them ÷ overall, after the rotation.
  const stepMsOf = (o: (typeof run.outcomes)[number]) => (o.kind === "storageAccount" ? spec.latencyMs : lroMs);
  const consumerChanges = run.outcomes.filter((o) => o.kind !== "rotateKey" && o.kind !== "rotationPolicy" && o.action === "change");
  const stepMsBySubscription = new Map<string, number>();
  for (const o of consumerChanges) {
    const sub = subscriptionOf(o.resource.id) ?? "";
    stepMsBySubscription.set(sub, (stepMsBySubscription.get(sub) ?? 0) + stepMsOf(o));
  }
  const stepMs = consumerChanges.reduce((ms, o) => ms + stepMsOf(o), 0);
  const stepBoundMs = spec.latencyMs + Math.max(stepMs / concurrency.overall, Math.max(0, ...stepMsBySubscription.values()) / concurrency.perSubscription);

  const consumers = (fixture.sqlManagedInstances?.length ?? 0) + (fixture.diskEncryptionSets?.length ?? 0) + (fixture.storageAccounts?.length ?? 0);
  console.log(
    JSON.stringify({
      label: spec.label,
      subscriptions: snapshot.subscriptions.length,
      consumers: {
        total: consumers,
        sqlManagedInstances: snapshot.consumers.sqlManagedInstances.length,
        diskEncryptionSets: snapshot.consumers.diskEncryptionSets.length,
        disks: snapshot.consumers.disks.length,
        storageAccounts: snapshot.consumers.storageAccounts.length,
      },
      collectionErrors: snapshot.errors.length,
      keys: plan.keys.map((k) => `${k.keyName} ${k.status}`),
      steps: tally(plan.steps.map((s) => `${s.kind} ${s.action}`)),
      outcomes: tally(run.outcomes.map((o) => o.status)),
      failures: run.outcomes.filter((o) => o.status === "failed").slice(0, 5).map((o) => `${o.resource.name}: ${o.message}`),
      verdicts: tally(verification.consumers.map((c) => c.verdict)),
      verdictsDayLater: tally(dayLater.consumers.map((c) => c.verdict)),
      accessLost: lost,
      collectPlanMs: t1 - t0,
      executeMs: t2 - t1,
      verifyMs: t3 - t2,
      totalMs: t3 - t0,
      executeOps,
      verifyReads: sum(diff(c3.counts, c2.counts), () => true),
      collectReads: sum(diff(c1.counts, c0.counts), () => true),
      writes,
      reads,
      polls,
      lroWrites,
      expectedArmWrites,
      maxWritesPerSubscription: Math.max(0, ...writesBySubscription.values()),
      bucket,
      throttledByEmulator: sum(diff(c3.throttled, c0.throttled), () => true),
      throttledSeen: stats2.throttled - stats0.throttled,
      retries: stats2.retries - stats0.retries,
      peakInFlight: stats2.peakInFlight,
      cap,
      latencyMs: spec.latencyMs,
      lroPolls: spec.lroPolls,
      lroRetryAfterSeconds: spec.lroRetryAfterSeconds,
      bucketBoundMs,
      chainMs,
      capacityMs,
      lowerBoundMs,
      stepConcurrency: concurrency.overall,
      stepSubscriptionConcurrency: concurrency.perSubscription,
      stepBoundMs,
      executeCpu,
      cores: availableParallelism(),
      loadAverage: loadavg()[0],
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  );
} finally {
  ready.child.kill("SIGTERM");
  await rm(work, { recursive: true, force: true });
}
