import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createRequestLayer, requestLayerOptions, type RequestLayer } from "../../src/lib/azure/requests.js";
import { createStateContainerClient } from "../../src/lib/azure/storageBlob.js";
import type { Clock } from "../../src/lib/clock.js";
import { loadAppSettings } from "../../src/lib/config/settings.js";
import { createBlobStore } from "../../src/lib/state/blobStore.js";
import { InvalidStateNameError, LeaseLostError, StateConflictError, StateStoreError } from "../../src/lib/state/errors.js";
import { createLocalDirectoryStore } from "../../src/lib/state/localDirectoryStore.js";
import type { StateStore } from "../../src/lib/state/stateStore.js";
import { withLease } from "../../src/lib/state/withLease.js";

/**
 * One contract, two stores: every test runs against a local directory and against Blob Storage (Azurite,
 * started by test/support/azuriteGlobalSetup.ts, through the real SDK and KeyWarden's request layer).
 * Each test works under a prefix of its own, so the tests of one store run concurrently.
 */
interface StoreUnderTest {
  store: StateStore;
  /** A second client over the same storage: another process, as far as the store can tell. */
  twin: StateStore;
  /** Lets `ms` pass for lease expiry: the local store's injected clock moves; Azurite's real clock is waited for. */
  elapse(ms: number): Promise<void>;
  requests?: RequestLayer;
}

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((cleanup) => cleanup()));

function localDirectory(): StoreUnderTest {
  const dir = mkdtempSync(join(tmpdir(), "keywarden-state-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  let nowMs = Date.parse("2026-03-01T00:00:00Z");
  const clock: Clock = { now: () => new Date(nowMs) };
  return {
    store: createLocalDirectoryStore(dir, { clock }),
    twin: createLocalDirectoryStore(dir, { clock }),
    elapse: async (ms) => {
      nowMs += ms;
    },
  };
}

function azuriteBlob(): StoreUnderTest {
  const container = `state-${randomUUID().slice(0, 8)}`;
  const settings = loadAppSettings({
    KEYWARDEN_POLICY_FILE: "policy.json",
    KEYWARDEN_STATE_BLOB_CONNECTION_STRING: inject("azuriteConnectionString"),
    KEYWARDEN_STATE_CONTAINER: container,
  });
  const requests = createRequestLayer(requestLayerOptions(settings));
  return {
    store: createBlobStore(createStateContainerClient(settings, requests)),
    twin: createBlobStore(createStateContainerClient(settings, requests)),
    elapse: (ms) => sleep(ms),
    requests,
  };
}

const STORES: [string, () => StoreUnderTest][] = [
  ["local directory", localDirectory],
  ["Blob Storage (Azurite)", azuriteBlob],
];

const LEASE = { durationMs: 15_000, owner: "test" };
const failure = (p: Promise<unknown>) => p.then(() => expect.fail("expected the call to fail"), (e: unknown) => e);

describe.each(STORES)("the state store: %s", (kind, make) => {
  const { store, twin, requests } = make();
  const prefix = () => `t-${randomUUID().slice(0, 8)}`;

  describe.concurrent("items", () => {
    it("describes itself without a secret", () => {
      if (kind === "local directory") expect(store.description).toMatch(/^local directory \/.+/);
      else expect(store.description).toMatch(/^blob container http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/state-[0-9a-f]{8}$/);
      expect(store.description).not.toMatch(/AccountKey|Eby8|sig=/);
    });

    it("creates an item once and never overwrites it", async () => {
      const name = `${prefix()}/runs/r1/0001-rotate.json`;
      expect(await store.create(name, '{"step":1}')).toBe(true);
      expect(await twin.create(name, '{"step":"other"}')).toBe(false);
      expect(await store.get(name)).toMatchObject({ name, body: '{"step":1}' });
    });

    it("lets exactly one of many concurrent creates of a name win, and keeps the winner's body", async () => {
      const name = `${prefix()}/record`;
      const bodies = Array.from({ length: 8 }, (_, i) => `body ${i} ${"x".repeat(10_000)}`);
      const won = await Promise.all(bodies.map((body, i) => (i % 2 ? twin : store).create(name, body)));
      expect(won.filter(Boolean)).toHaveLength(1);
      expect((await store.get(name))?.body).toBe(bodies[won.indexOf(true)]);
    });

    it("replaces an item only while its etag is the one given", async () => {
      const name = `${prefix()}/evidence.json`;
      const first = await store.put(name, "one");
      expect((await store.get(name))?.etag).toBe(first.etag);
      const second = await twin.put(name, "two", { ifMatch: first.etag });
      expect(second.etag).not.toBe(first.etag);
      const stale = await failure(store.put(name, "three", { ifMatch: first.etag }));
      expect(stale).toBeInstanceOf(StateConflictError);
      expect((stale as Error).message).toContain(name);
      expect(await store.get(name)).toEqual({ name, body: "two", etag: second.etag });
      expect(await failure(store.put(`${name}.missing`, "x", { ifMatch: first.etag }))).toBeInstanceOf(StateConflictError);
      expect((await store.put(name, "four")).etag).toBe((await twin.get(name))?.etag);
    });

    it("answers undefined for an item that is not there", async () => {
      expect(await store.get(`${prefix()}/nothing`)).toBeUndefined();
    });

    it("lists full names under a prefix in ascending byte order", async () => {
      const p = prefix();
      const names = ["a~", "a/c", "A", "a.b", "a", "a-b", "b/0/1", "b1"].map((n) => `${p}/${n}`);
      for (const name of names) await store.create(name, "");
      await store.create(`${p}x/outside`, "");
      expect(await twin.list(`${p}/`)).toEqual(["A", "a", "a-b", "a.b", "a/c", "a~", "b/0/1", "b1"].map((n) => `${p}/${n}`));
      expect(await twin.list(`${p}/a`)).toEqual(["a", "a-b", "a.b", "a/c", "a~"].map((n) => `${p}/${n}`));
      expect(await twin.list(`${p}/a/`)).toEqual([`${p}/a/c`]);
      expect(await twin.list(`${p}/b/0`)).toEqual([`${p}/b/0/1`]);
      expect(await twin.list(`${p}/zz`)).toEqual([]);
      expect(await store.list(p)).toEqual([...["A", "a", "a-b", "a.b", "a/c", "a~", "b/0/1", "b1"].map((n) => `${p}/${n}`), `${p}x/outside`]);
    });

    it("deletes an item once", async () => {
      const name = `${prefix()}/outbox/1`;
      await store.create(name, "event");
      expect(await twin.delete(name)).toBe(true);
      expect(await store.get(name)).toBeUndefined();
      expect(await store.delete(name)).toBe(false);
      expect(await store.create(name, "again")).toBe(true);
    });

    it.each(["", "/a", "a//b", "a/", "a/../b", "./a", "a b", "a?b", "a#", "é", "x".repeat(513), `${"y".repeat(201)}/z`])(
      "refuses the name %j in every operation",
      async (name) => {
        const calls = [
          () => store.create(name, ""),
          () => store.put(name, ""),
          () => store.get(name),
          () => store.delete(name),
          () => store.acquireLease(name, LEASE),
        ];
        const errors = await Promise.all(calls.map((call) => failure(call())));
        expect(errors.map((e) => e instanceof InvalidStateNameError)).toEqual(calls.map(() => true));
        expect((errors[0] as Error).message).toMatch(/^Invalid state item name/);
      },
    );

    it("accepts every allowed character and refuses a bad list prefix", async () => {
      const name = `${prefix()}/Az09._~-/x`;
      expect(await store.create(name, "ok")).toBe(true);
      expect((await store.get(name))?.body).toBe("ok");
      expect(await failure(store.list("/a"))).toBeInstanceOf(InvalidStateNameError);
      expect(await failure(store.list("a//"))).toBeInstanceOf(InvalidStateNameError);
    });
  });

  describe.concurrent("leases", () => {
    it("are exclusive while unexpired, and a leased name exists as an empty item", async () => {
      const name = `${prefix()}/locks/hsm1/cmk-sql`;
      const lease = await store.acquireLease(name, { durationMs: 30_000, owner: "run-1" });
      expect(lease).toMatchObject({ name, owner: "run-1" });
      expect(await twin.acquireLease(name, { ...LEASE, owner: "run-2" })).toBeUndefined();
      expect(await store.acquireLease(name, { ...LEASE, owner: "run-1" })).toBeUndefined();
      expect(await store.get(name)).toMatchObject({ name, body: "" });
      await lease?.release();
    });

    it("take only durations Blob Storage allows (whole seconds, 15 to 60)", async () => {
      const name = `${prefix()}/locks/x`;
      const errors = await Promise.all([14_000, 61_000, 15_500].map((durationMs) => failure(store.acquireLease(name, { durationMs, owner: "o" }))));
      expect(errors.map((e) => e instanceof StateStoreError && (e as Error).message.includes(name))).toEqual([true, true, true]);
    });

    it("are free again at once when released, and release is idempotent", async () => {
      const name = `${prefix()}/locks/hsm1/key`;
      const first = await store.acquireLease(name, { ...LEASE, owner: "a" });
      expect(first).toBeDefined();
      await first!.release();
      const second = await twin.acquireLease(name, { ...LEASE, owner: "b" });
      expect(second).toBeDefined();
      await first!.release();
      expect(await store.acquireLease(name, { ...LEASE, owner: "c" })).toBeUndefined();
      await second!.release();
    });

    it("expire on their own unless renewed; renewal extends; the old holder's renew then throws LeaseLostError", async () => {
      // Its own stores: moving the local store's clock must not expire the leases of the tests beside it.
      const { store, twin, elapse } = make();
      const p = prefix();
      const abandoned = await store.acquireLease(`${p}/abandoned`, { ...LEASE, owner: "crashed" });
      const kept = await store.acquireLease(`${p}/kept`, { ...LEASE, owner: "alive" });
      expect([abandoned, kept].map(Boolean)).toEqual([true, true]);
      await elapse(10_000);
      await kept!.renew();
      await elapse(6_000);
      // 16 s after acquiring: the un-renewed lease has expired, the renewed one runs until 25 s.
      const taken = await twin.acquireLease(`${p}/abandoned`, { ...LEASE, owner: "successor" });
      expect(taken).toMatchObject({ owner: "successor" });
      expect(await twin.acquireLease(`${p}/kept`, { ...LEASE, owner: "successor" })).toBeUndefined();
      const lost = await failure(abandoned!.renew());
      expect(lost).toBeInstanceOf(LeaseLostError);
      expect((lost as Error).message).toContain(`${p}/abandoned`);
      await abandoned!.release();
      expect(await store.acquireLease(`${p}/abandoned`, LEASE)).toBeUndefined();
      await Promise.all([taken!.release(), kept!.release()]);
    });

    it("run withLease's fn while held, say busy to another, and release after, however fn ends", async () => {
      const name = `${prefix()}/locks/hsm1/cmk-des`;
      const result = await withLease(store, name, { ...LEASE, owner: "run-1" }, async (signal) => {
        expect(signal.aborted).toBe(false);
        expect(await withLease(twin, name, { ...LEASE, owner: "run-2" }, async () => "ran")).toEqual({ busy: true, name });
        return "done";
      });
      expect(result).toBe("done");
      const thrown = await failure(withLease(twin, name, { ...LEASE, owner: "run-2" }, async () => Promise.reject(new Error("step failed"))));
      expect((thrown as Error).message).toBe("step failed");
      expect(await withLease(store, name, { ...LEASE, owner: "run-3" }, async () => "free")).toBe("free");
    });
  });

  if (requests) {
    it("sends every Blob call through KeyWarden's request layer", async () => {
      const before = requests.stats().tries;
      await store.get(`${prefix()}/counted`);
      expect(requests.stats().tries).toBe(before + 1);
    });
  }
});
