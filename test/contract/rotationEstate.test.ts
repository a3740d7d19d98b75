import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateRotationEstate, ROTATION_KEY } from "../../emulator/generate.js";
import { parseFixture } from "../../emulator/fixture.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { rotationHarness, type RotationHarness } from "../support/rotationHarness.js";

const estate = generateRotationEstate({ subscriptions: 4, consumers: 40 });

describe("generateRotationEstate (no network)", () => {
  it("puts every consumer kind on the one key's current version, over every subscription, in the documented mix", () => {
    const f = parseFixture(estate.fixture);
    expect(f.managedHsms[0]?.keys.map((k) => k.name)).toEqual([ROTATION_KEY]);
    expect([f.sqlManagedInstances.length, f.diskEncryptionSets.length, f.virtualMachines.length, f.storageAccounts.length]).toEqual([8, 4, 8, 28]);
    const current = `Contoso-PROD-HSM/${ROTATION_KEY}@1`;
    expect(f.sqlManagedInstances.filter((m) => m.encryptionProtector?.key !== current || m.keys.join() !== current)).toEqual([]);
    expect(f.diskEncryptionSets.filter((d) => d.activeKey !== current || d.rotationToLatestKeyVersionEnabled)).toEqual([]);
    const keys = f.storageAccounts.map((a) => (a.encryption.keySource === "Microsoft.Keyvault" ? a.encryption.key : "platform"));
    expect([keys.filter((k) => k === current).length, keys.filter((k) => k === `Contoso-PROD-HSM/${ROTATION_KEY}`).length]).toEqual([16, 12]);
    expect(new Set([...f.sqlManagedInstances, ...f.diskEncryptionSets, ...f.storageAccounts].map((c) => c.subscriptionId)).size).toBe(4);
    expect(estate.policy.managedHsms[0]?.keys?.map((k) => k.name)).toEqual([ROTATION_KEY]);
  });

  it("names the option it rejects", () => {
    expect(() => generateRotationEstate({ subscriptions: 0, consumers: 10 })).toThrow(/'subscriptions' must be an integer from 1/);
  });
});

describe("a rotation estate rotated through the real SDK clients", () => {
  let t: TestEmulator;
  let h: RotationHarness;
  beforeAll(async () => {
    t = await startTestEmulator(estate.fixture as unknown as string);
    h = await rotationHarness(t, { env: { KEYWARDEN_POLICY_FILE: "", KEYWARDEN_POLICY_JSON: JSON.stringify(estate.policy) } });
  });
  afterAll(async () => {
    await h?.close();
    await t?.close();
  });

  it("rotates the due key once, moves every SQL MI, DES and pinned account, and a day later every consumer is on the new version", async () => {
    const plan = await h.plan();
    expect(plan.keys.map((k) => [k.keyName, k.status])).toEqual([[ROTATION_KEY, "due"]]);
    const kinds = plan.steps.map((s) => `${s.kind} ${s.action}`);
    const count = (kind: string) => kinds.filter((k) => k === kind).length;
    expect([count("rotateKey change"), count("sqlMiKey change"), count("tdeProtector change"), count("diskEncryptionSet change"), count("storageAccount change"), count("storageAccount verify")]).toEqual([1, 8, 8, 4, 16, 12]);
    const run = await h.execute(plan);
    expect(run.outcomes.filter((o) => o.status !== "changed" && o.status !== "pending")).toEqual([]);
    expect((await h.verify()).consumers.filter((c) => c.verdict !== "moved" && c.verdict !== "pending")).toEqual([]);
    await h.advance("P1D");
    const later = await h.verify();
    expect(later.consumers).toHaveLength(40);
    expect(later.consumers.filter((c) => c.verdict !== "moved")).toEqual([]);
    expect(await h.accessLost()).toBe(0);
  });
});
