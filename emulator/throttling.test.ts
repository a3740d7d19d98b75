/** ARM token buckets through the real SDK clients (retries off, so every 429 shows). */
import { StorageManagementClient } from "@azure/arm-storage";
import { KeyClient } from "@azure/keyvault-keys";
import { describe, expect, it } from "vitest";
import { emulatorPerFile } from "./emulatorPerFile.js";
import { startEmulator } from "./index.js";
import { call, staticCredential, SUBSCRIPTION_ID } from "./test-support.js";

const OTHER_OID = "a1000000-0000-4000-8000-000000000002";
const SMALL = { capacity: 5, refillPerSecond: 0.1 };

const t = emulatorPerFile(() => ({ fixture: "contoso-reference" }));

const storage = (oid?: string) =>
  new StorageManagementClient(staticCredential(oid), SUBSCRIPTION_ID, { endpoint: t.emu.endpoint, tlsOptions: { ca: t.emu.caPem }, retryOptions: { maxRetries: 0 } });
const small = () => call(t.emu, "POST", "/_emulator/config", { token: null, body: { throttling: { reads: SMALL } } });

describe("ARM token buckets", () => {
  it("are on by default with ARM's budgets, and every ARM response names what remains", async () => {
    const r = await call(t.emu, "GET", `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Storage/storageAccounts?api-version=2023-05-01`);
    expect(r.status).toBe(200);
    expect(r.headers["x-ms-ratelimit-remaining-subscription-reads"]).toBe("249");
    const w = await call(t.emu, "PATCH", `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-contoso-storage/providers/Microsoft.Storage/storageAccounts/contosologsst01?api-version=2023-05-01`, { body: { tags: { a: "b" } } });
    expect(w.status).toBe(200);
    expect(w.headers["x-ms-ratelimit-remaining-subscription-writes"]).toBe("199");
  });

  it("answer the 6th read of a 5-token bucket with 429 TooManyRequests and Retry-After, and count it as throttled only", async () => {
    expect((await small()).status).toBe(200);
    const client = storage();
    for (let i = 0; i < 5; i++) await client.storageAccounts.getProperties("rg-contoso-storage", "contosologsst01");
    const error = (await client.storageAccounts.getProperties("rg-contoso-storage", "contosologsst01").catch((e: unknown) => e)) as { statusCode?: number; code?: string; response?: { headers: { get(n: string): string | undefined } } };
    expect(error).toMatchObject({ statusCode: 429, code: "TooManyRequests" });
    const retryAfter = Number(error.response?.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 10).toBe(true);
    expect(error.response?.headers.get("x-ms-ratelimit-remaining-subscription-reads")).toBe("0");
    const requests = (await call(t.emu, "GET", "/_emulator/requests", { token: null })).body;
    expect(requests.counts.StorageAccounts_GetProperties).toBe(5);
    expect(requests.throttled).toEqual({ StorageAccounts_GetProperties: 1 });
  });

  it("keep one bucket per principal, leave writes, the HSM data plane and control endpoints alone, and refill on reset", async () => {
    await small();
    const client = storage();
    for (let i = 0; i < 5; i++) await client.storageAccounts.getProperties("rg-contoso-storage", "contosologsst01");
    await expect(client.storageAccounts.list().next()).rejects.toMatchObject({ statusCode: 429 });
    // Another principal has a bucket of its own; writes have theirs.
    expect((await storage(OTHER_OID).storageAccounts.getProperties("rg-contoso-storage", "contosologsst01")).name).toBe("contosologsst01");
    expect((await client.storageAccounts.update("rg-contoso-storage", "contosologsst01", { tags: { t: "1" } })).tags).toEqual({ t: "1" });
    const keys = new KeyClient(t.emu.hsmUri("Contoso-PROD-HSM"), staticCredential(), { agent: t.agent, retryOptions: { maxRetries: 0 } });
    for (let i = 0; i < 8; i++) expect((await keys.getKey("Contoso-DISK-CMK")).name).toBe("Contoso-DISK-CMK");
    await call(t.emu, "POST", "/_emulator/reset", { token: null });
    expect((await call(t.emu, "GET", `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Storage/storageAccounts?api-version=2023-05-01`)).headers["x-ms-ratelimit-remaining-subscription-reads"]).toBe("249");
  });

  it("can be switched off, and reject bad settings naming the field", async () => {
    await call(t.emu, "POST", "/_emulator/config", { token: null, body: { throttling: { enabled: false, reads: SMALL } } });
    const client = storage();
    for (let i = 0; i < 7; i++) await client.storageAccounts.getProperties("rg-contoso-storage", "contosologsst01");
    const r = await call(t.emu, "GET", `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Storage/storageAccounts?api-version=2023-05-01`);
    expect([r.status, r.headers["x-ms-ratelimit-remaining-subscription-reads"]]).toEqual([200, undefined]);
    const bad = await call(t.emu, "POST", "/_emulator/config", { token: null, body: { throttling: { writes: { capacity: 0, refillPerSecond: 1 } } } });
    expect([bad.status, bad.body.error.message]).toEqual([400, "throttling.writes.capacity: must be an integer from 1 to 1000000"]);
    await expect(startEmulator({ throttling: { reads: { capacity: 5, refillPerSecond: -1 } } })).rejects.toThrow(/throttling\.reads\.refillPerSecond/);
  });
});
