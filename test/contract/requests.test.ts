import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAzureClients } from "../../src/lib/azure/clients.js";
import { AzureRequestError } from "../../src/lib/azure/errors.js";
import { createRequestLayer, requestLayerOptions, startDeadline, type RequestLayerOptions } from "../../src/lib/azure/requests.js";
import { reply, startLoopbackAzure, SUBSCRIPTIONS, type LoopbackAzure } from "../support/loopbackAzure.js";

/**
 * The request layer at the transport level: real SDK clients from createAzureClients against a loopback
 * HTTPS server that hangs, resets, throttles and fails on cue. Assertions are on outcomes and counts.
 */
describe("the request layer (real SDK clients → loopback server)", () => {
  let azure: LoopbackAzure;
  beforeAll(async () => {
    azure = await startLoopbackAzure();
  });
  afterAll(() => azure.close());
  afterEach(() => {
    azure.behave(undefined);
    azure.reset();
  });

  /** Clients over a fresh layer (so caps and buckets start clean), with the layer to inspect. */
  const build = (overrides: Record<string, string> = {}, layerOverrides: Partial<RequestLayerOptions> = {}) => {
    const settings = azure.settings(overrides);
    const layer = createRequestLayer({ ...requestLayerOptions(settings), ...layerOverrides });
    return { clients: createAzureClients(settings, azure.credential, layer), layer };
  };
  const sqlListsSeen = () => azure.seen.filter((s) => s.path.endsWith("/providers/Microsoft.Sql/managedInstances"));
  const failure = (p: Promise<unknown>) => p.then(() => expect.fail("expected the call to fail"), (e: unknown) => e);

  describe("a hung endpoint (accepts TCP, never answers)", () => {
    const hang = () => azure.behave(() => true);

    it("ends as a Timeout after the per-try timeout and its retries", async () => {
      hang();
      const { clients } = build({ KEYWARDEN_TRY_TIMEOUT_MS: "200", KEYWARDEN_MAX_RETRIES: "2" });
      const error = await failure(clients.sql.listManagedInstances(SUBSCRIPTIONS[0]!));
      expect(error).toBeInstanceOf(AzureRequestError);
      expect(error).toMatchObject({ code: "Timeout", operation: "managedInstances.list", statusCode: undefined });
      expect((error as Error).message).toMatch(/per-try timeout of 200 ms/);
      expect(sqlListsSeen()).toHaveLength(3);
    });

    it("ends as DeadlineExceeded when the caller's deadline comes first, without further tries", async () => {
      hang();
      const { clients } = build({ KEYWARDEN_TRY_TIMEOUT_MS: "30000", KEYWARDEN_MAX_RETRIES: "5" });
      const { deadline, dispose } = startDeadline(300);
      const error = await failure(clients.underDeadline(deadline).hsmKeys(azure.hsmUri("hsm-a")).listKeyNames()).finally(dispose);
      expect(error).toBeInstanceOf(AzureRequestError);
      expect(error).toMatchObject({ code: "DeadlineExceeded", operation: "keys.listPropertiesOfKeys" });
      expect((error as Error).message).toMatch(/overall deadline of 300 ms/);
      // The unauthenticated challenge, then the one authorised try that hung.
      expect(azure.seen.filter((s) => s.authorized)).toHaveLength(1);
    });

    it("ends within KEYWARDEN_DEADLINE_MS when no caller set a deadline", async () => {
      hang();
      const { clients } = build({ KEYWARDEN_TRY_TIMEOUT_MS: "30000", KEYWARDEN_DEADLINE_MS: "300" });
      const error = await failure(clients.storage.listStorageAccounts(SUBSCRIPTIONS[0]!));
      expect(error).toMatchObject({ name: "AzureRequestError", code: "DeadlineExceeded", operation: "storageAccounts.list" });
    });
  });

  it("retries a 429 without Retry-After, then succeeds", async () => {
    azure.behave((s, _req, res) => (s.n <= 2 ? reply(res, 429) : false));
    const { clients, layer } = build({ KEYWARDEN_MAX_RETRIES: "3" });
    expect(await clients.sql.listManagedInstances(SUBSCRIPTIONS[0]!)).toEqual([]);
    expect(sqlListsSeen()).toHaveLength(3);
    expect(layer.stats()).toMatchObject({ throttled: 2, retries: 2 });
  });

  it("caps a 100 s Retry-After at the maximum retry delay", async () => {
    const sleeps: number[] = [];
    const sleep = (ms: number) => {
      sleeps.push(ms);
      return new Promise<void>((resolve) => setTimeout(resolve, ms));
    };
    const asks: Record<string, string>[] = [{ "retry-after": "100" }, { "retry-after": new Date(Date.now() + 100_000).toUTCString() }, { "x-ms-retry-after-ms": "100000" }];
    for (const headers of asks) {
      azure.reset();
      sleeps.length = 0;
      azure.behave((s, _req, res) => (s.n === 1 ? reply(res, 429, headers) : false));
      const { clients } = build({ KEYWARDEN_MAX_RETRY_DELAY_MS: "50" }, { sleep, armBudget: null });
      expect(await clients.compute.listDisks(SUBSCRIPTIONS[1]!)).toEqual([]);
      expect(azure.seen).toHaveLength(2);
      expect(sleeps).toEqual([50]);
    }
  });

  it("retries a connection reset on a read", async () => {
    azure.behave((s, req) => {
      if (s.n > 1) return false;
      req.socket.destroy();
      return true;
    });
    const { clients } = build({ KEYWARDEN_MAX_RETRIES: "1" });
    expect(await clients.sql.listManagedInstances(SUBSCRIPTIONS[0]!)).toEqual([]);
    expect(sqlListsSeen()).toHaveLength(2);
  });

  it("retries a write only where Azure cannot have acted on it", async () => {
    const rbac = () => build({ KEYWARDEN_MAX_RETRIES: "3" }).clients.hsmRbac(azure.hsmUri("hsm-a"));
    const puts = () => azure.seen.filter((s) => s.method === "PUT" && s.authorized);
    const assignment = { roleDefinitionId: "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/r1", principalId: "p1" };

    azure.behave((s, _req, res) => (s.method === "PUT" && s.authorized && s.n <= 2 ? reply(res, 500) : false));
    await expect(rbac().createRoleAssignment("/keys", "a1", assignment)).rejects.toMatchObject({ statusCode: 500 });
    expect(puts()).toHaveLength(1);

    azure.reset();
    azure.behave((s, _req, res) => (s.method === "PUT" && s.authorized && s.n <= 2 ? reply(res, 429) : false));
    expect(await rbac().createRoleAssignment("/keys", "a2", assignment)).toMatchObject({ properties: assignment });
    expect(puts()).toHaveLength(2);

    azure.reset();
    azure.behave((s, _req, res) => (s.method === "PUT" && s.authorized && s.n <= 2 ? reply(res, 503, { "retry-after": "0" }) : false));
    expect(await rbac().createRoleAssignment("/keys", "a3", assignment)).toMatchObject({ properties: assignment });
    expect(puts()).toHaveLength(2);
  });

  it("never has more requests in flight than KEYWARDEN_MAX_CONCURRENCY, across every client", async () => {
    azure.behave(async () => {
      await new Promise((resolve) => setTimeout(resolve, 15));
      return false;
    });
    const { clients, layer } = build({ KEYWARDEN_MAX_CONCURRENCY: "5" });
    const calls: (() => Promise<unknown>)[] = [
      ...SUBSCRIPTIONS.map((s) => () => clients.sql.listManagedInstances(s)),
      ...SUBSCRIPTIONS.map((s) => () => clients.storage.listStorageAccounts(s)),
      ...SUBSCRIPTIONS.map((s) => () => clients.compute.listDiskEncryptionSets(s)),
      () => clients.hsmKeys(azure.hsmUri("hsm-a")).listKeyNames(),
      () => clients.hsmKeys(azure.hsmUri("hsm-b")).listKeyNames(),
      () => clients.hsmRbac(azure.hsmUri("hsm-a")).listRoleDefinitions(),
    ];
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => calls[i % calls.length]!()));
    expect(results).toHaveLength(100);
    expect(azure.seen.length).toBeGreaterThanOrEqual(100);
    expect(azure.peakInFlight()).toBeLessThanOrEqual(5);
    expect(layer.stats().peakInFlight).toBe(5);
  });

  it("does not hold a slot while a retry sleeps", async () => {
    const order: string[] = [];
    azure.behave((s, _req, res) => {
      const sub = /subscriptions\/([^/]+)/.exec(s.path)?.[1] ?? "";
      order.push(`${sub === SUBSCRIPTIONS[0] ? "A" : "B"}${s.n}`);
      return sub === SUBSCRIPTIONS[0] && s.n === 1 ? reply(res, 429, { "retry-after-ms": "300" }) : false;
    });
    const { clients } = build({ KEYWARDEN_MAX_CONCURRENCY: "1", KEYWARDEN_MAX_RETRY_DELAY_MS: "1000" });
    const a = clients.sql.listManagedInstances(SUBSCRIPTIONS[0]!);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await clients.sql.listManagedInstances(SUBSCRIPTIONS[1]!);
    await a;
    expect(order).toEqual(["A1", "B1", "A2"]);
  });

  describe("ARM pacing", () => {
    // Small enough for a test to exhaust in a second or two; paced at ARM_PACING (95%) like the real budget.
    const budget = { read: { capacity: 10, refillPerSecond: 20 }, write: { capacity: 10, refillPerSecond: 20 }, delete: { capacity: 10, refillPerSecond: 20 } };

    /** The server runs ARM's read bucket for one subscription, at exactly the budget the client paces under. */
    const enforceBucket = () => {
      let tokens = budget.read.capacity;
      let last = Date.now();
      let throttled = 0;
      azure.behave((_s, _req, res) => {
        const now = Date.now();
        tokens = Math.min(budget.read.capacity, tokens + ((now - last) / 1000) * budget.read.refillPerSecond);
        last = now;
        if (tokens < 1) {
          throttled++;
          return reply(res, 429, { "retry-after": "1" });
        }
        tokens -= 1;
        return false;
      });
      return () => throttled;
    };

    it("keeps a burst larger than the bucket under ARM's rate: zero 429s", async () => {
      const throttled = enforceBucket();
      // Few sockets, so that a try leaves when its token is taken rather than after a fresh TLS handshake.
      const { clients } = build({ KEYWARDEN_MAX_RETRIES: "0", KEYWARDEN_MAX_CONCURRENCY: "4" }, { armBudget: budget });
      const burst = await Promise.all(Array.from({ length: 40 }, () => clients.sql.listManagedInstances(SUBSCRIPTIONS[2]!)));
      expect(burst).toHaveLength(40);
      expect(sqlListsSeen()).toHaveLength(40);
      expect(throttled()).toBe(0);
    });

    it("without pacing, the same burst is throttled (the server's bucket is real)", async () => {
      const throttled = enforceBucket();
      const { clients } = build({ KEYWARDEN_MAX_RETRIES: "0", KEYWARDEN_MAX_CONCURRENCY: "4" }, { armBudget: null });
      const outcomes = await Promise.allSettled(Array.from({ length: 40 }, () => clients.sql.listManagedInstances(SUBSCRIPTIONS[2]!)));
      expect(outcomes.filter((o) => o.status === "rejected").length).toBeGreaterThan(0);
      expect(throttled()).toBeGreaterThan(0);
    });
  });
});
