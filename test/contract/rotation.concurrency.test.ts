import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDefaultHttpClient, type HttpClient } from "@azure/core-rest-pipeline";
import { afterEach, describe, expect, it } from "vitest";
import { generateRotationEstate } from "../../emulator/generate.js";
import { createAzureClients } from "../../src/lib/azure/clients.js";
import { createCredential } from "../../src/lib/azure/credential.js";
import { createRequestLayer, requestLayerOptions } from "../../src/lib/azure/requests.js";
import type { Clock } from "../../src/lib/clock.js";
import { collectEstate } from "../../src/lib/inventory/collect.js";
import { runRotation } from "../../src/lib/rotation/runRotation.js";
import { createLocalDirectoryStore } from "../../src/lib/state/localDirectoryStore.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { rotationHarness } from "../support/rotationHarness.js";

/** The consumer writes (ARM PUT/PATCH): each gets this much latency in the emulator, so that steps overlap in them. */
const WRITES = ["ManagedInstanceKeys_CreateOrUpdate", "ManagedInstanceEncryptionProtectors_CreateOrUpdate", "DiskEncryptionSets_Update", "StorageAccounts_Update"];
const WRITE_LATENCY_MS = 120;

interface InFlight {
  peak: number;
  peakBySubscription: Map<string, number>;
  writes: number;
}

/**
 * The real transport under the request layer, counting ARM writes in flight, overall and per subscription: a
 * consumer step has at most one write out at a time, so these peaks are a floor of the steps in flight.
 */
function countingTransport(armHost: string): { transport: HttpClient; seen: InFlight } {
  const inner = createDefaultHttpClient();
  const seen: InFlight = { peak: 0, peakBySubscription: new Map(), writes: 0 };
  let now = 0;
  const bySubscription = new Map<string, number>();
  return {
    seen,
    transport: {
      async sendRequest(request) {
        const url = new URL(request.url);
        const subscription = /^\/subscriptions\/([^/]+)/i.exec(url.pathname)?.[1]?.toLowerCase();
        const write = url.host === armHost && subscription !== undefined && (request.method === "PUT" || request.method === "PATCH");
        if (!write) return inner.sendRequest(request);
        seen.writes++;
        now++;
        seen.peak = Math.max(seen.peak, now);
        const n = (bySubscription.get(subscription) ?? 0) + 1;
        bySubscription.set(subscription, n);
        seen.peakBySubscription.set(subscription, Math.max(seen.peakBySubscription.get(subscription) ?? 0, n));
        try {
          return await inner.sendRequest(request);
        } finally {
          now--;
          bySubscription.set(subscription, (bySubscription.get(subscription) ?? 1) - 1);
        }
      },
    },
  };
}

/** One rotation round (execute mode) over a generated estate, with the rotation's concurrency settings given. */
async function rotateWith(t: TestEmulator, policy: unknown, concurrency: { overall: string; perSubscription: string }) {
  for (const operationId of WRITES) await t.control("POST", "/_emulator/faults", { operationId, latencyMs: WRITE_LATENCY_MS, persistent: true });
  await t.control("POST", "/_emulator/config", { lroRetryAfterSeconds: 0 });
  const now = new Date(((await t.control("GET", "/_emulator/clock")) as { now: string }).now);
  const clock: Clock = { now: () => new Date(now) };
  const config = await t.config({
    KEYWARDEN_POLICY_FILE: "",
    KEYWARDEN_POLICY_JSON: JSON.stringify(policy),
    KEYWARDEN_ROTATION_MODE: "execute",
    // the request layer's cap well above the steps', so that only the rotation's own limits bind
    KEYWARDEN_MAX_CONCURRENCY: "128",
    KEYWARDEN_ROTATION_CONCURRENCY: concurrency.overall,
    KEYWARDEN_ROTATION_SUBSCRIPTION_CONCURRENCY: concurrency.perSubscription,
  });
  const { transport, seen } = countingTransport(new URL(t.emulator.endpoint).host);
  const clients = createAzureClients(config.settings, createCredential(config.settings), createRequestLayer({ ...requestLayerOptions(config.settings), transport }));
  const dir = await mkdtemp(join(tmpdir(), "kw-concurrency-"));
  try {
    const store = createLocalDirectoryStore(dir, { clock });
    const mark = t.exchanges.length;
    const round = await runRotation({ config, clients, store, clock, mode: "execute", collect: () => collectEstate(config, clients, clock) });
    const lost = ((await t.control("GET", "/_emulator/access/lost")) as { count: number }).count;
    return { round, seen, exchanges: t.exchanges.slice(mark), lost };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every SQL MI's key was written (and its long-running operation ended) before its protector was. */
function protectorsAfterKeys(exchanges: TestEmulator["exchanges"]): string[] {
  const instance = (path: string) => /\/managedInstances\/([^/]+)/i.exec(path)?.[1]?.toLowerCase() ?? "";
  const keyAt = new Map<string, number>();
  const wrong: string[] = [];
  exchanges.forEach((e, i) => {
    if (e.operationId === "ManagedInstanceKeys_CreateOrUpdate") keyAt.set(instance(e.path), i);
    if (e.operationId === "ManagedInstanceEncryptionProtectors_CreateOrUpdate" && !(i > (keyAt.get(instance(e.path)) ?? Infinity))) wrong.push(instance(e.path));
  });
  return wrong;
}

describe("the rotation's consumer steps in flight (KEYWARDEN_ROTATION_CONCURRENCY, _SUBSCRIPTION_CONCURRENCY)", () => {
  let t: TestEmulator | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("never has more than the run's limit in flight, nor more than the subscription's in any one, and reaches both", async () => {
    // 4 subscriptions × 2 per subscription = 8 > the run's 5: the run's limit binds
    const estate = generateRotationEstate({ subscriptions: 4, consumers: 40 });
    t = await startTestEmulator(estate.fixture as unknown as string);
    const { round, seen, exchanges, lost } = await rotateWith(t, estate.policy, { overall: "5", perSubscription: "2" });

    expect(round.run?.outcomes.filter((o) => o.status !== "changed" && o.status !== "pending")).toEqual([]);
    expect(seen.writes).toBe(36); // 8 SQL MI keys, 8 protectors, 4 DES, 16 pinned storage accounts
    expect(seen.peakBySubscription.size).toBe(4);
    expect(seen.peak).toBe(5);
    expect(Math.max(...seen.peakBySubscription.values())).toBe(2);
    expect(protectorsAfterKeys(exchanges)).toEqual([]);
    expect(lost).toBe(0);
  });

  it("holds one subscription with many consumers to its own limit, however many the run allows", async () => {
    const estate = generateRotationEstate({ subscriptions: 1, consumers: 30 });
    t = await startTestEmulator(estate.fixture as unknown as string);
    const { round, seen, exchanges, lost } = await rotateWith(t, estate.policy, { overall: "16", perSubscription: "3" });

    expect(round.run?.outcomes.filter((o) => o.status !== "changed" && o.status !== "pending")).toEqual([]);
    expect(seen.writes).toBeGreaterThan(10);
    expect([seen.peakBySubscription.size, seen.peak, Math.max(...seen.peakBySubscription.values())]).toEqual([1, 3, 3]);
    expect(protectorsAfterKeys(exchanges)).toEqual([]);
    expect(exchanges.filter((e) => e.status === 429)).toEqual([]);
    expect(lost).toBe(0);
  });

  it("refuses a limit below 1 given to the executor, naming it", async () => {
    t = await startTestEmulator("contoso-reference");
    await t.control("POST", "/_emulator/clock", { advance: "P181D" });
    const h = await rotationHarness(t);
    try {
      const plan = await h.plan();
      expect(plan.steps.length).toBeGreaterThan(0);
      const mark = h.mark();
      await expect(h.execute(plan, { concurrency: { overall: 0 } })).rejects.toThrow(/concurrency\.overall must be a whole number of at least 1, got 0/);
      await expect(h.execute(plan, { concurrency: { perSubscription: Number.NaN } })).rejects.toThrow(/concurrency\.perSubscription must be a whole number of at least 1, got NaN/);
      // refused before anything was written, to Azure or to the journal
      expect(h.writesSince(mark)).toEqual([]);
      expect(await h.store.list("runs/")).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
