import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateEstate } from "../../emulator/generate.js";
import { REGISTERED_CONTROLS } from "../../src/lib/compliance/checks/index.js";
import { evaluate } from "../../src/lib/compliance/evaluate.js";
import { loadControls } from "../../src/lib/compliance/registry.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";

/** Three subscriptions through the real SDK clients: one of them denied, or hung, must not hide the others. */
const estate = generateEstate({ subscriptions: 3, consumers: 60, seed: 7 });
const denied = estate.policy.subscriptions?.[1] ?? "";

describe("one subscription that cannot be read", () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator(estate.fixture as unknown as string);
  });
  afterAll(() => t?.close());
  beforeEach(async () => {
    await t.control("DELETE", "/_emulator/faults");
  });
  const env = (extra: Record<string, string> = {}) => ({ KEYWARDEN_POLICY_FILE: "", KEYWARDEN_POLICY_JSON: JSON.stringify(estate.policy), ...extra });

  it("a 403 on every list of one subscription leaves the other subscriptions' consumers and results intact", async () => {
    const clean = await t.collect(env());
    expect(clean.errors).toEqual([]);
    await t.control("POST", "/_emulator/faults", { subscriptionId: denied, status: 403, code: "AuthorizationFailed", persistent: true });
    const partial = await t.collect(env());

    // Every error is about the denied subscription, and names it.
    expect(partial.errors.length).toBeGreaterThan(0);
    expect(partial.errors.filter((e) => e.about.kind !== "subscription" || e.about.subscription !== denied.toLowerCase())).toEqual([]);
    const inDenied = (id: string) => id.toLowerCase().startsWith(`/subscriptions/${denied.toLowerCase()}/`);
    for (const list of ["sqlManagedInstances", "diskEncryptionSets", "disks", "virtualMachines", "storageAccounts"] as const) {
      const others = clean.consumers[list].filter((c) => !inDenied(c.resourceId));
      expect(others.length, list).toBeGreaterThan(0);
      expect(partial.consumers[list].map((c) => c.resourceId), list).toEqual(others.map((c) => c.resourceId));
    }

    const config = await t.config(env());
    const judge = (s: typeof clean) => evaluate(s, config.policy, loadControls(REGISTERED_CONTROLS), { now: new Date(s.collectedAt) }).controls.flatMap((c) => c.results);
    const before = judge(clean).filter((r) => !inDenied(r.resourceId));
    const after = judge(partial);
    const key = (r: { controlId: string; resourceId: string }) => `${r.controlId} ${r.resourceId}`;
    const afterByKey = new Map(after.map((r) => [key(r), r.status]));
    // Results about the other subscriptions' consumers are unchanged...
    const consumerResults = before.filter((r) => r.resourceId.startsWith("/subscriptions/"));
    expect(consumerResults.length).toBeGreaterThan(0);
    expect(consumerResults.filter((r) => afterByKey.get(key(r)) !== r.status).map(key)).toEqual([]);
    // ...and the denied subscription is UNKNOWN, never PASS.
    const aboutDenied = after.filter((r) => r.resourceId.toLowerCase() === `/subscriptions/${denied.toLowerCase()}`);
    expect(aboutDenied.length).toBeGreaterThan(0);
    expect(aboutDenied.filter((r) => r.status !== "UNKNOWN")).toEqual([]);
  });

  it("a subscription whose lists hang ends within the deadline as collection errors, and the rest is read", async () => {
    await t.control("POST", "/_emulator/faults", { subscriptionId: denied, operationId: "StorageAccounts_List", behaviour: "hang", persistent: true });
    const snapshot = await t.collect(env({ KEYWARDEN_TRY_TIMEOUT_MS: "300", KEYWARDEN_DEADLINE_MS: "20000" }));
    expect(snapshot.errors.map((e) => [e.part, e.about, e.code])).toEqual([["consumers.storageAccounts", { kind: "subscription", subscription: denied.toLowerCase() }, "Timeout"]]);
    expect(snapshot.consumers.storageAccounts.length).toBeGreaterThan(0);
    expect(snapshot.consumers.storageAccounts.filter((s) => s.subscriptionId.toLowerCase() === denied.toLowerCase())).toEqual([]);
  });
});
