import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { KeyWardenConfig } from "../../src/lib/config/types.js";
import { handleKeyEvent, TransientEventError, type KeyEventDeps, type KeyEventResult } from "../../src/lib/events/handleKeyEvent.js";
import { KEY_VAULT_EVENT_TYPES, keyVaultEvents } from "../../src/lib/events/keyVaultEvents.js";
import { collectEstate } from "../../src/lib/inventory/collect.js";
import { listRunIds, readRun } from "../../src/lib/rotation/journal.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { rotationHarness, type RotationHarness } from "../support/rotationHarness.js";

/** An event as Event Grid delivers it from a custom topic (Event Grid schema): what KeyWarden published, plus `topic`. */
type Delivered = Record<string, unknown> & { id: string; eventType: string; data: Record<string, unknown> };

const TOPIC = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.EventGrid/topics/kw";

describe("the key event handler against the emulator", () => {
  let t: TestEmulator;
  let h: RotationHarness;
  let deps: KeyEventDeps;
  let sqlCreated: Delivered;

  beforeAll(async () => {
    t = await startTestEmulator("contoso-reference");
  });
  afterAll(() => t?.close());
  beforeEach(async () => {
    await t.control("POST", "/_emulator/reset");
    h = await rotationHarness(t);
    const config: KeyWardenConfig = { ...h.config, settings: { ...h.config.settings, rotationMode: "execute" } };
    deps = { config, clients: h.clients, store: h.store, clock: h.clock, collect: () => collectEstate(config, h.clients, h.clock), owner: "test" };
    const published = keyVaultEvents(await deps.collect(), config.policy, h.clock.now());
    const created = published.find((e) => e.event.type === KEY_VAULT_EVENT_TYPES.newVersion && e.event.subject === "Contoso-SQLMI-CMK")?.event;
    if (!created) throw new Error("no KeyNewVersionCreated for Contoso-SQLMI-CMK");
    sqlCreated = { id: created.id, topic: TOPIC, subject: created.subject, eventType: created.type, eventTime: created.time, data: created.data, dataVersion: "1", metadataVersion: "1" };
    return () => h.close();
  });

  /** The same key version near expiry, as Key Vault would say it (a different event id per type). */
  function nearExpiry(id = "11111111-1111-4111-8111-111111111111"): Delivered {
    return { ...sqlCreated, id, eventType: KEY_VAULT_EVENT_TYPES.nearExpiry };
  }

  async function rotationsInJournal(): Promise<number> {
    let n = 0;
    for (const runId of await listRunIds(h.store)) {
      for (const r of await readRun(h.store, runId)) if (r.type === "step.finished" && r.kind === "rotateKey" && r.outcome === "changed") n += 1;
    }
    return n;
  }

  const rotateCalls = (mark: number) => h.since(mark).filter((e) => e.operationId === "RotateKey" && e.status < 300).length;

  it("rotates on a near-expiry event, and the same event delivered again changes nothing", async () => {
    const mark = h.mark();
    const first = await handleKeyEvent(nearExpiry(), deps);
    expect(first).toMatchObject({ outcome: "rotated", key: { name: "Contoso-SQLMI-CMK" } });
    const again = h.mark();
    const second = await handleKeyEvent(nearExpiry(), deps);
    expect(second.outcome).toBe("duplicate");
    expect(h.writesSince(again)).toEqual([]);
    expect(rotateCalls(mark)).toBe(1);
    expect(await rotationsInJournal()).toBe(1);
    expect(await h.accessLost()).toBe(0);
  });

  it("causes exactly one rotation for a burst of duplicates and related events in random order, delivered concurrently", async () => {
    const burst: Delivered[] = [
      nearExpiry("a0000000-0000-4000-8000-000000000001"),
      nearExpiry("a0000000-0000-4000-8000-000000000001"),
      { ...nearExpiry("a0000000-0000-4000-8000-000000000002"), eventType: KEY_VAULT_EVENT_TYPES.expired },
      nearExpiry("a0000000-0000-4000-8000-000000000003"),
      sqlCreated,
      sqlCreated,
    ];
    const shuffled = shuffle(burst, 7);
    const mark = h.mark();
    // Event Grid delivers concurrently: what hits the key's lock fails and is redelivered until acknowledged.
    let pending = shuffled;
    const outcomes: KeyEventResult["outcome"][] = [];
    for (let round = 0; pending.length > 0 && round < 10; round += 1) {
      const settled = await Promise.allSettled(pending.map((e) => handleKeyEvent(e, deps)));
      const retry: Delivered[] = [];
      settled.forEach((s, i) => {
        if (s.status === "fulfilled") outcomes.push(s.value.outcome);
        else if (s.reason instanceof TransientEventError) retry.push(pending[i] as Delivered);
        else throw s.reason;
      });
      pending = retry;
    }
    expect(pending).toEqual([]);
    expect(outcomes).toHaveLength(burst.length);
    expect(outcomes.filter((o) => o === "rotated")).toHaveLength(1);
    expect(rotateCalls(mark)).toBe(1);
    expect(await rotationsInJournal()).toBe(1);
    expect(await h.accessLost()).toBe(0);
  });

  it("moves consumers on a new version and does not rotate for a stale near-expiry event", async () => {
    // A rotation elsewhere (the timer, a person): the consumers lag the new version.
    await h.clients.hsmKeys(String(sqlCreated.data.Id).split("/keys/")[0] as string).rotateKey("Contoso-SQLMI-CMK");
    const fresh = keyVaultEvents(await deps.collect(), deps.config.policy, h.clock.now()).find((e) => e.event.type === KEY_VAULT_EVENT_TYPES.newVersion && e.event.subject === "Contoso-SQLMI-CMK")?.event;
    expect(fresh?.data.Version).not.toBe(sqlCreated.data.Version);
    const mark = h.mark();
    // the old version's near-expiry arrives late: the key has moved on, so nothing is rotated
    const stale = await handleKeyEvent(nearExpiry(), deps);
    expect(rotateCalls(mark)).toBe(0);
    expect(["propagated", "nothingToDo"]).toContain(stale.outcome);
    const moved = await handleKeyEvent({ ...sqlCreated, id: String(fresh?.id), data: fresh?.data as Record<string, unknown> }, deps);
    expect(["propagated", "nothingToDo"]).toContain(moved.outcome);
    const verification = await h.verify();
    const mi = verification.consumers.find((c) => c.resource.kind === "sqlManagedInstance");
    expect(mi?.verdict).toBe("moved");
    expect(rotateCalls(mark)).toBe(0);
    expect(await h.accessLost()).toBe(0);
  });

  it("acknowledges a malformed event and one for an unmanaged key without reading or writing anything", async () => {
    const mark = h.mark();
    const cases: [unknown, KeyEventResult["outcome"]][] = [
      ["not an event", "malformed"],
      [{ ...sqlCreated, data: { ...sqlCreated.data, Id: "not a url" } }, "malformed"],
      [{ ...sqlCreated, data: { ...sqlCreated.data, Id: undefined } }, "malformed"],
      [{ ...sqlCreated, data: { ...sqlCreated.data, ObjectType: "Secret" } }, "malformed"],
      [{ ...nearExpiry(), data: { ...sqlCreated.data, Id: "https://sample-kv.vault.azure.net/keys/cmk1/ee059b2bb5bc48398a53b168c6cdcb10", Version: "ee059b2bb5bc48398a53b168c6cdcb10" } }, "unmanaged"],
      [{ ...nearExpiry(), data: { ...sqlCreated.data, Version: "ee059b2bb5bc48398a53b168c6cdcb10" } }, "malformed"],
      [{ ...nearExpiry(), data: { ...sqlCreated.data, Id: String(sqlCreated.data.Id).replace("Contoso-SQLMI-CMK", "Someone-Elses-Key") } }, "unmanaged"],
      [{ ...sqlCreated, eventType: "KeyWarden.RotationCompleted" }, "ignored"],
      [{ ...sqlCreated, eventType: "Microsoft.KeyVault.SecretNearExpiry" }, "ignored"],
    ];
    for (const [event, outcome] of cases) expect((await handleKeyEvent(event, deps)).outcome, JSON.stringify(event).slice(0, 120)).toBe(outcome);
    expect(h.since(mark)).toEqual([]);
  });

  it("reads PascalCase and camelCase data alike", async () => {
    const camel = Object.fromEntries(Object.entries(sqlCreated.data).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), v]));
    expect((await handleKeyEvent({ ...nearExpiry(), data: camel }, deps)).outcome).toBe("rotated");
  });

  it("throws a transient failure when the key cannot be read, and the redelivery succeeds", async () => {
    await t.control("POST", "/_emulator/faults", { operationId: "GetKeys", status: 503, count: 1 });
    await expect(handleKeyEvent(nearExpiry(), deps)).rejects.toBeInstanceOf(TransientEventError);
    expect(await rotationsInJournal()).toBe(0);
    expect((await handleKeyEvent(nearExpiry(), deps)).outcome).toBe("rotated");
    expect(await rotationsInJournal()).toBe(1);
  });

  it("only plans in KEYWARDEN_ROTATION_MODE=plan", async () => {
    const planOnly = { ...deps, config: { ...deps.config, settings: { ...deps.config.settings, rotationMode: "plan" as const } } };
    const mark = h.mark();
    const result = await handleKeyEvent(nearExpiry(), planOnly);
    expect(result.outcome).toBe("planned");
    expect(result.plan?.steps.some((s) => s.kind === "rotateKey")).toBe(true);
    expect(h.writesSince(mark)).toEqual([]);
  });
});

/** Deterministic Fisher–Yates. */
function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i -= 1) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
