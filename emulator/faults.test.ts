/** Fault injection through the real SDK clients (retries off, so every injected fault shows). */
import { ComputeManagementClient } from "@azure/arm-compute";
import { StorageManagementClient } from "@azure/arm-storage";
import { KeyClient } from "@azure/keyvault-keys";
import { describe, expect, it } from "vitest";
import { emulatorPerFile } from "./emulatorPerFile.js";
import { startEmulator } from "./index.js";
import { call, hsmHost, staticCredential, SUBSCRIPTION_ID } from "./test-support.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURE_DIR } from "./fixture.js";

const SUB_B = "7a0e9c4d-1b2f-4e3a-9c8d-000000000b0b";

const reference = () => JSON.parse(readFileSync(join(FIXTURE_DIR, "contoso-reference.json"), "utf8")) as { armRoleAssignments: unknown[] };
// A second, empty subscription, which KeyWarden may read (Reader, as on the first).
const t = emulatorPerFile(
  () => {
    const f = reference();
    return { fixture: { ...f, subscriptions: [{ subscriptionId: SUB_B }], armRoleAssignments: [...f.armRoleAssignments, { principalId: "a1000000-0000-4000-8000-000000000003", role: "Reader", scope: `/subscriptions/${SUB_B}` }] } };
  },
  { keepAlive: false },
);

const fault = async (body: object) => {
  const r = await call(t.emu, "POST", "/_emulator/faults", { token: null, body });
  expect(r.status).toBe(201);
  return r.body as { id: string; persistent: boolean; remaining?: number };
};
const armOptions = () => ({ endpoint: t.emu.endpoint, tlsOptions: { ca: t.emu.caPem }, retryOptions: { maxRetries: 0 } });
const keys = () => new KeyClient(t.emu.hsmUri("Contoso-PROD-HSM"), staticCredential(), { agent: t.agent, retryOptions: { maxRetries: 0 } });
const compute = () => new ComputeManagementClient(staticCredential(), SUBSCRIPTION_ID, armOptions());
const storage = (sub = SUBSCRIPTION_ID) => new StorageManagementClient(staticCredential(), sub, armOptions());
type Failure = { statusCode?: number; code?: string; name?: string; response?: { headers: { get(n: string): string | undefined } } };
const failure = (p: Promise<unknown>): Promise<Failure> => p.then(() => ({}) as Failure, (e: unknown) => e as Failure);

describe("fault injection", () => {
  it("answers a 429 with Retry-After when asked, and without it otherwise", async () => {
    await fault({ operationId: "GetKey", status: 429, retryAfter: 7 });
    const withHeader = await failure(keys().getKey("Contoso-DISK-CMK"));
    expect([withHeader.statusCode, withHeader.code, withHeader.response?.headers.get("retry-after")]).toEqual([429, "TooManyRequests", "7"]);
    await fault({ operationId: "GetKey", status: 429 });
    const without = await failure(keys().getKey("Contoso-DISK-CMK"));
    expect([without.statusCode, without.response?.headers.get("retry-after")]).toEqual([429, undefined]);
    expect((await keys().getKey("Contoso-DISK-CMK")).name).toBe("Contoso-DISK-CMK");
  });

  it("matches operation ids by glob, for N calls", async () => {
    await fault({ operationId: "DiskEncryptionSets_*", status: 503, count: 2 });
    const c = compute();
    const list = async () => {
      const out: string[] = [];
      for await (const d of c.diskEncryptionSets.list()) out.push(d.name!);
      return out;
    };
    expect((await failure(list())).statusCode).toBe(503);
    expect((await failure(c.diskEncryptionSets.get("rg-contoso-identity", "des-contoso-southindia"))).code).toBe("ServiceUnavailable");
    expect(await list()).toHaveLength(2);
    const disks: string[] = [];
    for await (const d of c.disks.list()) disks.push(d.name!);
    expect(disks).toHaveLength(4);
  });

  it("matches by host (arm, hsm, an HSM's label) and by subscription", async () => {
    await fault({ host: "hsm", status: 500, count: 1 });
    expect((await storage().storageAccounts.getProperties("rg-contoso-storage", "contosologsst01")).name).toBe("contosologsst01");
    expect((await failure(keys().getKey("Contoso-DISK-CMK"))).statusCode).toBe(500);
    await fault({ host: "contoso-prod-hsm", status: 502 });
    expect((await failure(keys().getKey("Contoso-DISK-CMK"))).statusCode).toBe(502);
    await fault({ host: "arm", status: 504 });
    expect((await keys().getKey("Contoso-DISK-CMK")).name).toBe("Contoso-DISK-CMK");
    expect((await failure(storage().storageAccounts.getProperties("rg-contoso-storage", "contosologsst01"))).statusCode).toBe(504);

    await fault({ subscriptionId: SUB_B.toUpperCase(), status: 503, persistent: true });
    expect((await storage().storageAccounts.getProperties("rg-contoso-storage", "contosologsst01")).name).toBe("contosologsst01");
    expect((await failure(storage(SUB_B).storageAccounts.list().next())).statusCode).toBe(503);
  });

  it("keeps a persistent fault until it is deleted by id; control endpoints are never faulted", async () => {
    const f = await fault({ operationId: "*", status: 500, persistent: true });
    expect(f).toMatchObject({ persistent: true });
    for (let i = 0; i < 3; i++) expect((await failure(keys().getKey("Contoso-DISK-CMK"))).statusCode).toBe(500);
    expect((await call(t.emu, "GET", "/_emulator/state", { token: null })).status).toBe(200);
    expect((await call(t.emu, "GET", "/_emulator/faults", { token: null })).body.faults).toEqual([f]);
    expect((await call(t.emu, "DELETE", `/_emulator/faults/${f.id}`, { token: null })).body).toEqual(f);
    expect((await keys().getKey("Contoso-DISK-CMK")).name).toBe("Contoso-DISK-CMK");
    const gone = await call(t.emu, "DELETE", `/_emulator/faults/${f.id}`, { token: null });
    expect([gone.status, gone.body.error.code]).toEqual([404, "FaultNotFound"]);
  });

  it("delays and then serves normally when a fault has latency only, alongside a one-off status", async () => {
    await fault({ operationId: "*", latencyMs: 20, persistent: true });
    await fault({ operationId: "GetKey", status: 503 });
    expect((await failure(keys().getKey("Contoso-DISK-CMK"))).statusCode).toBe(503);
    expect((await keys().getKey("Contoso-DISK-CMK")).name).toBe("Contoso-DISK-CMK");
    expect((await call(t.emu, "GET", "/_emulator/faults", { token: null })).body.faults).toMatchObject([{ operationId: "*", latencyMs: 20, persistent: true, behaviour: "status" }]);
  });

  it("resets the connection without an answer", async () => {
    await fault({ operationId: "GetKey", behaviour: "reset" });
    const e = await failure(keys().getKey("Contoso-DISK-CMK"));
    expect(e.code).toMatch(/^(ECONNRESET|EPIPE)$/);
    expect(e.statusCode).toBeUndefined();
    expect((await keys().getKey("Contoso-DISK-CMK")).name).toBe("Contoso-DISK-CMK");
  });

  it("hangs: reads the request and never answers, until the client gives up", async () => {
    await fault({ operationId: "GetKey", behaviour: "hang" });
    const e = await failure(keys().getKey("Contoso-DISK-CMK", { abortSignal: AbortSignal.timeout(300) }));
    expect(e.name).toBe("AbortError");
    expect((await keys().getKey("Contoso-DISK-CMK")).name).toBe("Contoso-DISK-CMK");
  });

  it("rejects bad faults naming the field", async () => {
    const bad = async (body: object) => (await call(t.emu, "POST", "/_emulator/faults", { token: null, body })).body.error.message as string;
    expect(await bad({ status: 500 })).toMatch(/^operationId: give at least one of/);
    expect(await bad({ operationId: "Nope*", status: 500 })).toMatch(/^operationId:/);
    expect(await bad({ operationId: "emulator.state", status: 500 })).toMatch(/^operationId:/);
    expect(await bad({ host: "other-hsm", status: 500 })).toMatch(/^host:/);
    expect(await bad({ operationId: "GetKey", behaviour: "reset", retryAfter: 5 })).toMatch(/^retryAfter: does not apply/);
    expect(await bad({ operationId: "GetKey", status: 429, retryAfter: 1.5 })).toMatch(/^retryAfter:/);
    expect(await bad({ operationId: "GetKey", behaviour: "explode" })).toMatch(/^behaviour:/);
  });
});

describe("faults and close()", () => {
  it("close() ends hung requests, and the latencyMs option is a persistent fault that survives reset", async () => {
    const local = await startEmulator({ latencyMs: 5 });
    await call(local, "POST", "/_emulator/reset", { token: null });
    expect((await call(local, "GET", "/_emulator/faults", { token: null })).body.faults).toMatchObject([{ operationId: "*", latencyMs: 5, persistent: true }]);
    await call(local, "POST", "/_emulator/faults", { token: null, body: { host: "hsm", behaviour: "hang" } });
    const hung = call(local, "GET", "/keys?api-version=2025-07-01", { host: hsmHost(local) }).then(
      () => "answered",
      (e: { code?: string }) => e.code ?? "error",
    );
    // The request is held once the fault has consumed it.
    for (let i = 0; i < 100 && (await call(local, "GET", "/_emulator/faults", { token: null })).body.faults.length > 1; i++) await new Promise((r) => setTimeout(r, 10));
    await local.close();
    expect(await hung).toBe("ECONNRESET");
  });
});
