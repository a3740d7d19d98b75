import { readFileSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { createStateStore } from "../../src/lib/state/createStateStore.js";
import { createAzureClients } from "../../src/lib/azure/clients.js";
import type { RunResult } from "../../src/lib/rotation/executor.js";
import { readRun } from "../../src/lib/rotation/journal.js";
import type { Verification } from "../../src/lib/rotation/verify.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { rotationHarness, type RotationHarness } from "../support/rotationHarness.js";

/**
 * The reference estate with every kind of move in it: the South India DES and the storage account are pinned
 * (KeyWarden changes them), the Central India DES follows the latest version on its own (verified), and the
 * SQL MI has no TDE auto-rotation (its key and protector are changed).
 */
function rotationFixture(): Record<string, unknown> {
  const fixture = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "emulator", "fixtures", "contoso-reference.json"), "utf8")) as Record<string, unknown> & {
    diskEncryptionSets: { name: string; rotationToLatestKeyVersionEnabled: boolean }[];
    storageAccounts: { name: string; encryption: { key?: string } }[];
    managedHsms: { keys: { name: string; rotationPolicy?: unknown }[] }[];
  };
  fixture.name = "contoso-rotation";
  for (const des of fixture.diskEncryptionSets) if (des.name === "des-contoso-southindia") des.rotationToLatestKeyVersionEnabled = false;
  for (const account of fixture.storageAccounts) if (account.name === "contosoprodcmkst01") account.encryption.key = "Contoso-PROD-HSM/Contoso-STORAGE-CMK@1";
  // No rotation policy on the disk key: Managed HSM refuses an on-demand rotation until KeyWarden sets one.
  for (const key of fixture.managedHsms[0]?.keys ?? []) if (key.name === "Contoso-DISK-CMK") delete key.rotationPolicy;
  return fixture;
}

function statuses(run: RunResult): string[] {
  return run.outcomes.map((o) => `${o.kind} ${o.resource.name}: ${o.status}`).sort();
}

function rotations(h: RotationHarness, mark: number): number {
  return h.since(mark).filter((e) => e.operationId === "RotateKey" && e.status < 300).length;
}

/** Writes that could disable, expire, delete or purge a key or a version: KeyWarden makes none. */
function versionChanges(h: RotationHarness, mark: number): string[] {
  const forbidden = /^(UpdateKey|DeleteKey|PurgeDeletedKey|ImportKey|RestoreKey)$/;
  return h.writesSince(mark).filter((e) => forbidden.test(e.operationId ?? "") || (e.method === "DELETE" && e.host.includes("managedhsm"))).map((e) => `${e.method} ${e.path}`);
}

/** Every consumer of the estate, on its key's current version. */
const ALL_MOVED = ["des-contoso-centralindia: moved", "des-contoso-southindia: moved", "contoso-sqlmi-01: moved", "contosoprodcmkst01: moved"];

function verdicts(verification: Verification): string[] {
  return verification.consumers.map((c) => `${c.resource.name}: ${c.verdict}`);
}

/** Half a year on: every key's current version is older than rotateAfter (P180D). */
const ALL_DUE = "P181D";

describe("rotation end to end against the emulator", () => {
  let t: TestEmulator;
  let h: RotationHarness;
  beforeAll(async () => {
    t = await startTestEmulator(rotationFixture() as unknown as string);
  });
  afterAll(() => t?.close());
  beforeEach(async () => {
    await t.control("POST", "/_emulator/reset");
    h = await rotationHarness(t);
    await h.advance(ALL_DUE);
    return () => h.close();
  });

  it("rotates each due key once, moves every consumer, verifies them, and a second run writes nothing", async () => {
    const mark = h.mark();
    const plan = await h.plan();
    expect(plan.keys.map((k) => k.status)).toEqual(["due", "due", "due"]);
    const run = await h.execute(plan);
    expect(statuses(run)).toEqual([
      "diskEncryptionSet des-contoso-centralindia: pending",
      "diskEncryptionSet des-contoso-southindia: changed",
      "rotateKey Contoso-DISK-CMK: changed",
      "rotateKey Contoso-SQLMI-CMK: changed",
      "rotateKey Contoso-STORAGE-CMK: changed",
      "rotationPolicy Contoso-DISK-CMK: changed",
      "sqlMiKey contoso-sqlmi-01: changed",
      "storageAccount contosoprodcmkst01: changed",
      "tdeProtector contoso-sqlmi-01: changed",
    ]);
    expect(rotations(h, mark)).toBe(3);

    // The DES that rotates on its own catches up within the hour, on the emulator clock.
    const early = await h.verify();
    expect(early.consumers.find((c) => c.resource.name === "des-contoso-centralindia")).toMatchObject({ verdict: "pending", pastDeadline: false });
    await h.advance("PT1H");
    const verification = await h.verify();
    expect(verdicts(verification)).toEqual(ALL_MOVED);

    const again = h.mark();
    const second = await h.plan();
    expect(second.steps).toEqual([]);
    const nothing = await h.execute(second);
    expect(nothing.outcomes).toEqual([]);
    expect(h.writesSince(again)).toEqual([]);
    expect(await h.accessLost()).toBe(0);
    expect(versionChanges(h, mark)).toEqual([]);
  });

  it("journals every write before and after it, with Azure's request ids", async () => {
    const run = await h.execute(await h.plan());
    const records = await readRun(h.store, run.runId);
    expect(records[0]?.type).toBe("run.started");
    expect(records.at(-1)?.type).toBe("run.finished");
    const changed = run.outcomes.filter((o) => o.status === "changed");
    expect(changed.length).toBeGreaterThan(0);
    for (const outcome of changed) {
      const started = records.findIndex((r) => r.type === "step.started" && r.stepId === outcome.stepId);
      const finished = records.findIndex((r) => r.type === "step.finished" && r.stepId === outcome.stepId);
      expect(started, outcome.stepId).toBeGreaterThan(0);
      expect(finished, outcome.stepId).toBeGreaterThan(started);
      expect(records[finished]?.requestIds?.length, outcome.stepId).toBeGreaterThan(0);
      expect(records[finished]?.planId).toBe(run.planId);
    }
  });

  it("--dry-run makes no write at all, to Azure or to the state store", async () => {
    const mark = h.mark();
    const run = await h.execute(await h.plan(), { dryRun: true });
    expect(run.outcomes.length).toBeGreaterThan(0);
    expect(run.outcomes.filter((o) => o.status !== "wouldChange" && o.status !== "blocked")).toEqual([]);
    expect(h.writesSince(mark)).toEqual([]);
    expect(await h.store.list("")).toEqual([]);
  });

  it("re-reads the roles just before the write: a consumer that lost its role after planning is not switched", async () => {
    const plan = await h.plan({ keys: ["Contoso-SQLMI-CMK"] });
    const protector = plan.steps.find((s) => s.kind === "tdeProtector");
    expect(protector?.action).toBe("change");
    // A security officer (the HSM administrator) removes the role; KeyWarden itself may not.
    const admin = createAzureClients((await t.config({ KEYWARDEN_EMULATOR_PRINCIPAL_ID: "a1000000-0000-4000-8000-000000000001" })).settings);
    const rbac = admin.hsmRbac(protector?.key.hsmUri ?? "");
    const assignments = await rbac.listRoleAssignments("/keys/Contoso-SQLMI-CMK");
    const mine = assignments.filter((a) => a.properties?.principalId === "b2000000-0000-4000-8000-000000000001");
    expect(mine.length).toBeGreaterThan(0);
    for (const a of mine) await rbac.deleteRoleAssignment(a.properties?.scope ?? "", a.name ?? "");
    // Removing the role cuts the instance off its current version already (as in Azure); KeyWarden must add nothing.
    const lostByTheRemoval = await h.accessLost();
    const protectorBefore = await h.clients.sql.getEncryptionProtector(protector?.resource.id ?? "");

    const run = await h.execute(plan);
    const sql = run.outcomes.filter((o) => o.resource.name === "contoso-sqlmi-01");
    expect(sql.map((o) => o.status)).toEqual(["blocked", "skipped"]);
    expect(sql[0]?.message).toMatch(/cannot use Contoso-SQLMI-CMK: b2000000-0000-4000-8000-000000000001 lacks read\/wrap\/unwrap/);
    expect((await h.clients.sql.getEncryptionProtector(protector?.resource.id ?? "")).uri).toBe(protectorBefore.uri);
    expect(await h.accessLost()).toBe(lostByTheRemoval);
  });

  it("two concurrent runs of the same plan rotate each key once", async () => {
    const mark = h.mark();
    const plan = await h.plan();
    const [a, b] = await Promise.all([h.execute(plan), h.execute(plan)]);
    expect(rotations(h, mark)).toBe(3);
    const rotated = [...a.outcomes, ...b.outcomes].filter((o) => o.kind === "rotateKey" && o.status === "changed");
    expect(rotated).toHaveLength(3);
    // Whichever run did not rotate a key either waited out the lock or found it rotated.
    const followUp = await h.execute(await h.plan());
    expect(followUp.outcomes.filter((o) => o.status === "changed" || o.status === "failed")).toEqual([]);
    expect(await h.accessLost()).toBe(0);
  });

  it("two function instances sharing a Blob container (Azurite) rotate each key once", async () => {
    const config = await t.config({ KEYWARDEN_STATE_BLOB_CONNECTION_STRING: inject("azuriteConnectionString"), KEYWARDEN_STATE_CONTAINER: `rotation-${randomUUID().slice(0, 8)}` });
    const [first, second] = [createStateStore(config.settings, h.clock), createStateStore(config.settings, h.clock)];
    const mark = h.mark();
    const plan = await h.plan();
    const [a, b] = await Promise.all([h.execute(plan, { store: first }), h.execute(plan, { store: second })]);
    expect(rotations(h, mark)).toBe(3);
    const skipped = [...a.outcomes, ...b.outcomes].filter((o) => o.status === "skipped" && /lock/.test(o.message));
    const rotated = [...a.outcomes, ...b.outcomes].filter((o) => o.kind === "rotateKey" && o.status === "changed");
    expect(rotated).toHaveLength(3);
    expect(skipped.length + [...a.outcomes, ...b.outcomes].filter((o) => o.kind === "rotateKey" && o.status === "unchanged").length).toBeGreaterThan(0);
    expect(await h.accessLost()).toBe(0);
  });
});

/** Every write the rotation makes, and the faults each must survive; a rerun converges and rotates nothing twice. */
const WRITES = ["UpdateKeyRotationPolicy", "RotateKey", "ManagedInstanceKeys_CreateOrUpdate", "ManagedInstanceEncryptionProtectors_CreateOrUpdate", "DiskEncryptionSets_Update", "StorageAccounts_Update"] as const;
const LONG_RUNNING = new Set<string>(["ManagedInstanceKeys_CreateOrUpdate", "ManagedInstanceEncryptionProtectors_CreateOrUpdate", "DiskEncryptionSets_Update"]);
const FAULTS = {
  "429 without Retry-After": { status: 429, code: "TooManyRequests" },
  "429 with Retry-After": { status: 429, code: "TooManyRequests", retryAfter: 1 },
  "500": { status: 500, code: "InternalServerError" },
  "a connection reset": { behaviour: "reset" },
  "a hang": { behaviour: "hang" },
} as const;
const CASES = WRITES.flatMap((operationId) => [
  ...Object.entries(FAULTS).map(([fault, spec]) => ({ operationId, fault, inject: { kind: "fault" as const, spec } })),
  ...(LONG_RUNNING.has(operationId) ? [{ operationId, fault: "a long-running operation that ends Failed", inject: { kind: "lro" as const } }] : []),
]);

describe("a failed write, then a rerun", () => {
  let t: TestEmulator;
  let h: RotationHarness;
  beforeAll(async () => {
    t = await startTestEmulator(rotationFixture() as unknown as string);
    // The emulator makes each key's material once (about a second for RSA-3072), then keeps it across resets.
    await t.collect();
  });
  afterAll(() => t?.close());
  beforeEach(async () => {
    await t.control("POST", "/_emulator/reset");
    // No retries and a short try: the fault reaches the executor at once.
    h = await rotationHarness(t, { env: { KEYWARDEN_TRY_TIMEOUT_MS: "1000" } });
    await h.advance(ALL_DUE);
    return () => h.close();
  });

  async function converged(mark: number): Promise<void> {
    const rerun = await h.execute(await h.plan());
    expect(rerun.outcomes.filter((o) => o.status === "failed"), "the rerun fails nothing").toEqual([]);
    await h.advance("PT1H");
    const verification = await h.verify();
    expect(verdicts(verification)).toEqual(ALL_MOVED);
    expect(rotations(h, mark), "each key rotated once").toBe(3);
    expect(await h.accessLost(), "no consumer lost access at any moment").toBe(0);
    expect(versionChanges(h, mark), "no key version disabled, expired, deleted or purged").toEqual([]);
  }

  it.each(CASES)("$operationId answering $fault", async ({ operationId, inject }) => {
    const mark = h.mark();
    if (inject.kind === "fault") await t.control("POST", "/_emulator/faults", { operationId, count: 1, ...inject.spec });
    else await t.control("POST", "/_emulator/lro-failures", { operationId, code: "InternalServerError", message: "injected", count: 1 });
    const first = await h.execute(await h.plan());
    const hit = first.outcomes.filter((o) => o.status === "failed");
    expect(hit.length, "the fault made a step fail").toBeGreaterThan(0);
    await t.control("DELETE", "/_emulator/faults");
    await converged(mark);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])("a run stopped after %i step(s) is finished by the next one", async (after) => {
    const mark = h.mark();
    const stop = new AbortController();
    let ended = 0;
    const first = await h.execute(await h.plan(), {
      signal: stop.signal,
      onOutcome: () => {
        if (++ended === after) stop.abort();
      },
    });
    expect(first.outcomes.some((o) => o.status === "skipped" && /stopped/.test(o.message))).toBe(true);
    await converged(mark);
  });
});
