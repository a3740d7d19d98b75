import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateEstate } from "../../emulator/generate.js";
import { parseFixture } from "../../emulator/fixture.js";
import { REGISTERED_CONTROLS } from "../../src/lib/compliance/checks/index.js";
import { evaluate } from "../../src/lib/compliance/evaluate.js";
import { loadControls } from "../../src/lib/compliance/registry.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";

const estate = generateEstate({ subscriptions: 3, consumers: 60, seed: 7 });

describe("generateEstate (no network)", () => {
  it("is deterministic for a seed and follows the documented mix", () => {
    expect(generateEstate({ subscriptions: 3, consumers: 60, seed: 7 })).toEqual(estate);
    expect(generateEstate({ subscriptions: 3, consumers: 60, seed: 8 }).platformKeyed).not.toEqual(estate.platformKeyed);
    const f = parseFixture(estate.fixture);
    expect([f.sqlManagedInstances.length, f.virtualMachines.length, f.storageAccounts.length]).toEqual([6, 24, 30]);
    expect(f.diskEncryptionSets).toHaveLength(3 * 2);
    expect([estate.platformKeyed.sqlManagedInstances.length, estate.platformKeyed.virtualMachines.length, estate.platformKeyed.storageAccounts.length]).toEqual([1, 2, 3]);
    expect(new Set(f.storageAccounts.map((s) => s.subscriptionId)).size).toBe(3);
    expect(estate.policy.subscriptions).toHaveLength(3);
  });

  it("names the option it rejects", () => {
    expect(() => generateEstate({ subscriptions: 0, consumers: 1 })).toThrow(/'subscriptions' must be an integer from 1/);
    expect(() => generateEstate({ subscriptions: 1, consumers: 1, platformKeyFraction: 2 })).toThrow(/'platformKeyFraction'/);
  });
});

describe("a generated estate through the real SDK clients", () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator(estate.fixture as unknown as string, { pageSize: 7 });
  });
  afterAll(() => t?.close());
  const env = () => ({ KEYWARDEN_POLICY_FILE: "", KEYWARDEN_POLICY_JSON: JSON.stringify(estate.policy) });

  it("loads its policy, lists every subscription, and scans clean except for the platform-keyed consumers", async () => {
    const config = await t.config(env());
    expect(config.policy.subscriptions).toHaveLength(3);
    const snapshot = await t.collect(env());
    expect(snapshot.errors).toEqual([]);
    const c = snapshot.consumers;
    expect(c.diskEncryptionSets).toHaveLength(6);
    // Platform-keyed VMs and storage accounts are discovered, then left out as not consumers of the HSM.
    expect(c.virtualMachines).toHaveLength(24 - 2);
    expect(new Set(c.virtualMachines?.map((vm) => vm.resourceId.split("/")[2])).size).toBe(3);
    // ...except the platform-keyed storage accounts, which the policy expects to be consumers.
    expect(c.storageAccounts).toHaveLength(30);
    const listed = t.exchanges.filter((e) => e.operationId === "StorageAccounts_List" && e.status === 200);
    expect(new Set(listed.map((e) => e.path.split("/")[2])).size).toBe(3);

    const report = evaluate(snapshot, config.policy, loadControls(REGISTERED_CONTROLS), { now: new Date(snapshot.collectedAt) });
    expect(report.summary.results.UNKNOWN).toBe(0);
    const failed = report.controls.flatMap((x) => x.results).filter((r) => r.status === "FAIL");
    const platformNames = [...estate.platformKeyed.sqlManagedInstances, ...estate.platformKeyed.storageAccounts];
    expect(new Set(failed.filter((r) => r.controlId === "keys_expected_consumers_bound").map((r) => r.resourceName))).toEqual(new Set(platformNames));
    const unexplained = failed.filter((r) => !platformNames.some((n) => r.resourceName.startsWith(n)));
    expect(unexplained.map((r) => `${r.controlId} ${r.resourceName}: ${r.message}`)).toEqual([]);
  });
});
