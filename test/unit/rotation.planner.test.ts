import { describe, expect, it } from "vitest";
import type { EstateSnapshot, SqlManagedInstanceConsumer } from "../../src/lib/estate/snapshot.js";
import { planRotation } from "../../src/lib/rotation/planner.js";
import type { PlanStep, RotationPlan } from "../../src/lib/rotation/plan.js";
import { contosoHsm, contosoPolicy, loadSnapshot, roleAssignmentsUnreadable } from "../support/snapshots.js";

const NOW = new Date("2026-11-28T00:00:00.000Z");
const policy = contosoPolicy();

function plan(snapshot: EstateSnapshot, now = NOW, options = {}): RotationPlan {
  return planRotation(snapshot, policy, now, options);
}

function key(snapshot: EstateSnapshot, name: string) {
  const found = contosoHsm(snapshot).keys?.find((k) => k.name === name);
  if (!found) throw new Error(`no key ${name}`);
  return found;
}

function stepsOf(p: RotationPlan, kind: PlanStep["kind"]): PlanStep[] {
  return p.steps.filter((s) => s.kind === kind);
}

/** Makes a key's current version `days` old (and its expiry a year after). */
function ageKey(snapshot: EstateSnapshot, name: string, days: number): void {
  const k = key(snapshot, name);
  const created = new Date(NOW.getTime() - days * 86_400_000).toISOString();
  const expires = new Date(Date.parse(created) + 365 * 86_400_000).toISOString();
  k.createdOn = created;
  k.expiresOn = expires;
  for (const v of k.versions ?? []) if (v.version === k.currentVersion) Object.assign(v, { createdOn: created, expiresOn: expires });
}

function sqlMi(snapshot: EstateSnapshot): SqlManagedInstanceConsumer {
  const mi = snapshot.consumers.sqlManagedInstances[0];
  if (!mi) throw new Error("no SQL MI");
  return mi;
}

describe("planRotation", () => {
  it("plans nothing for the reference estate, and gives the same id for the same inputs at another time", () => {
    const snapshot = loadSnapshot();
    const first = plan(snapshot);
    expect(first.steps).toEqual([]);
    expect(first.keys.map((k) => k.status)).toEqual(["current", "current", "current"]);
    expect(plan(loadSnapshot(), new Date(NOW.getTime() + 3_600_000)).id).toBe(first.id);
  });

  it("plans the drifted estate: the near-expiry key is rotated, the lagging DES is moved, versionless storage is verified", () => {
    const p = plan(loadSnapshot("contoso-drifted"), new Date(loadSnapshot("contoso-drifted").collectedAt));
    const byKey = new Map(p.keys.map((k) => [k.keyName, k]));
    expect(byKey.get("Contoso-STORAGE-CMK")?.status).toBe("due");
    expect(byKey.get("Contoso-STORAGE-CMK")?.reasons.join(" ")).toMatch(/within notifyBefore P30D/);
    expect(byKey.get("Contoso-DISK-CMK")?.status).toBe("propagate");
    const rotate = stepsOf(p, "rotateKey");
    expect(rotate.map((s) => s.key.name)).toEqual(["Contoso-STORAGE-CMK"]);
    const storage = stepsOf(p, "storageAccount");
    expect(storage).toHaveLength(1);
    expect(storage[0]).toMatchObject({ action: "verify", catchUpWithin: "P1D", dependsOn: [rotate[0]?.id] });
    expect(storage[0]?.risks.map((r) => r.code)).toContain("storageCatchUp");
    expect(stepsOf(p, "diskEncryptionSet").map((s) => [s.resource.name, s.action])).toEqual([["des-contoso-centralindia", "change"]]);
  });

  it("rotates a key whose current version is older than rotateAfter, then moves the SQL MI: its key first, then its protector", () => {
    const snapshot = loadSnapshot();
    ageKey(snapshot, "Contoso-SQLMI-CMK", 181);
    sqlMi(snapshot).failoverGroups = [];
    const p = plan(snapshot);
    expect(p.keys.find((k) => k.keyName === "Contoso-SQLMI-CMK")).toMatchObject({ status: "due", target: { kind: "new" } });
    expect(p.steps.map((s) => [s.kind, s.action])).toEqual([
      ["rotateKey", "change"],
      ["sqlMiKey", "change"],
      ["tdeProtector", "change"],
    ]);
    const [rotate, miKey, protector] = p.steps as [PlanStep, PlanStep, PlanStep];
    expect(miKey.dependsOn).toEqual([rotate.id]);
    expect(protector.dependsOn).toEqual([rotate.id, miKey.id]);
    expect(protector.after.protectorUri).toBe("https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-SQLMI-CMK/<new version>");
    expect(miKey.after.registeredKey).toBe("contoso-prod-hsm_Contoso-SQLMI-CMK_<new version>");
  });

  it("is not due a day before rotateAfter", () => {
    const snapshot = loadSnapshot();
    ageKey(snapshot, "Contoso-SQLMI-CMK", 179);
    expect(plan(snapshot).steps).toEqual([]);
  });

  it("rotates a key with no usable version (its current version is disabled)", () => {
    const snapshot = loadSnapshot();
    const k = key(snapshot, "Contoso-DISK-CMK");
    k.enabled = false;
    for (const v of k.versions ?? []) if (v.version === k.currentVersion) v.enabled = false;
    const p = plan(snapshot);
    const disk = p.keys.find((x) => x.keyName === "Contoso-DISK-CMK");
    expect(disk?.status).toBe("due");
    expect(disk?.reasons.join(" ")).toMatch(/not usable/);
    // Both DES rotate to the latest version on their own: verified, not changed.
    expect(stepsOf(p, "diskEncryptionSet").map((s) => s.action)).toEqual(["verify", "verify"]);
  });

  it("blocks a consumer whose identity cannot unwrap, and never plans a change for it", () => {
    const snapshot = loadSnapshot();
    ageKey(snapshot, "Contoso-SQLMI-CMK", 200);
    sqlMi(snapshot).failoverGroups = [];
    const hsm = contosoHsm(snapshot);
    hsm.roleAssignments = (hsm.roleAssignments ?? []).filter((a) => a.principalId !== sqlMi(snapshot).identity?.principalId);
    const p = plan(snapshot);
    const consumerSteps = p.steps.filter((s) => s.resource.id === sqlMi(snapshot).resourceId);
    expect(consumerSteps.map((s) => s.action)).toEqual(["blocked", "blocked"]);
    expect(consumerSteps[1]?.risks.map((r) => r.code)).toContain("identityCannotUnwrap");
    expect(consumerSteps[1]?.reason).toMatch(/lacks read\/wrap\/unwrap/);
  });

  it("blocks consumers when the HSM's role assignments could not be read: access cannot be proven", () => {
    const snapshot = loadSnapshot();
    ageKey(snapshot, "Contoso-SQLMI-CMK", 200);
    sqlMi(snapshot).failoverGroups = [];
    roleAssignmentsUnreadable(snapshot);
    const protector = stepsOf(plan(snapshot), "tdeProtector");
    expect(protector).toHaveLength(1);
    expect(protector[0]?.action).toBe("blocked");
    expect(protector[0]?.risks.map((r) => r.code)).toContain("accessUnknown");
  });

  it("gives a failover partner the key before the primary's protector moves, and blocks when the partner was not read", () => {
    const snapshot = loadSnapshot();
    ageKey(snapshot, "Contoso-SQLMI-CMK", 200);
    const primary = sqlMi(snapshot);
    const secondary: SqlManagedInstanceConsumer = structuredClone(primary);
    secondary.resourceId = primary.resourceId.replace("contoso-sqlmi-01", "contoso-sqlmi-02");
    secondary.name = "contoso-sqlmi-02";
    secondary.location = "centralindia";
    const group = { id: "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Sql/locations/southindia/instanceFailoverGroups/fog", name: "fog" };
    primary.failoverGroups = [{ ...group, role: "Primary", partnerManagedInstanceIds: [secondary.resourceId] }];
    secondary.failoverGroups = [{ ...group, role: "Secondary", partnerManagedInstanceIds: [primary.resourceId] }];
    snapshot.consumers.sqlManagedInstances.push(secondary);

    const p = plan(snapshot);
    const ids = p.steps.map((s) => s.id);
    const primaryProtector = p.steps.find((s) => s.kind === "tdeProtector" && s.resource.name === "contoso-sqlmi-01");
    const secondaryKey = p.steps.find((s) => s.kind === "sqlMiKey" && s.resource.name === "contoso-sqlmi-02");
    expect(primaryProtector?.action).toBe("change");
    expect(primaryProtector?.dependsOn).toContain(secondaryKey?.id);
    expect(primaryProtector?.partners).toEqual([secondary.resourceId]);
    expect(primaryProtector?.risks.map((r) => r.code)).toContain("failoverGroup");
    expect(ids.indexOf(secondaryKey?.id ?? "")).toBeLessThan(ids.indexOf(primaryProtector?.id ?? ""));

    snapshot.consumers.sqlManagedInstances.pop();
    const alone = plan(snapshot).steps.find((s) => s.kind === "tdeProtector");
    expect(alone?.action).toBe("blocked");
    expect(alone?.reason).toMatch(/was not read/);
  });

  it("blocks a protector switch when the instance's failover groups could not be read", () => {
    const snapshot = loadSnapshot();
    ageKey(snapshot, "Contoso-SQLMI-CMK", 200);
    sqlMi(snapshot).failoverGroups = null;
    const protector = stepsOf(plan(snapshot), "tdeProtector");
    expect(protector.map((s) => s.action)).toEqual(["blocked"]);
    // Adding the key to the instance is harmless: that step still runs.
    expect(stepsOf(plan(snapshot), "sqlMiKey").map((s) => s.action)).toEqual(["change"]);
  });

  it("names an ASR-protected VM as a risk on the DES its disks use, and moves a DES without auto-rotation", () => {
    const snapshot = loadSnapshot();
    ageKey(snapshot, "Contoso-DISK-CMK", 200);
    for (const des of snapshot.consumers.diskEncryptionSets) des.rotationToLatestKeyVersionEnabled = false;
    const vm = snapshot.consumers.virtualMachines.find((v) => v.location === "southindia");
    if (!vm) throw new Error("no VM");
    vm.siteRecoveryProtected = true;
    const des = stepsOf(plan(snapshot), "diskEncryptionSet");
    expect(des.map((s) => [s.resource.name, s.action])).toEqual([
      ["des-contoso-centralindia", "change"],
      ["des-contoso-southindia", "change"],
    ]);
    expect(des[0]?.risks).toEqual([]);
    expect(des[1]?.risks.map((r) => r.code)).toEqual(["siteRecoveryProtected"]);
    expect(des[1]?.risks[0]?.message).toContain(vm.name);
  });

  it("moves a pinned storage account, and verifies a versionless one", () => {
    const snapshot = loadSnapshot();
    ageKey(snapshot, "Contoso-STORAGE-CMK", 200);
    const versionless = stepsOf(plan(snapshot), "storageAccount");
    expect(versionless.map((s) => s.action)).toEqual(["verify"]);
    const account = snapshot.consumers.storageAccounts[0];
    if (!account) throw new Error("no storage account");
    account.keyVersion = key(snapshot, "Contoso-STORAGE-CMK").currentVersion;
    const pinned = stepsOf(plan(snapshot), "storageAccount");
    expect(pinned.map((s) => [s.action, s.before.keyVersion, s.after.keyVersion])).toEqual([["change", account.keyVersion, "<new version>"]]);
  });

  it("sets the rotation policy before an on-demand rotation when the key has none", () => {
    const snapshot = loadSnapshot();
    ageKey(snapshot, "Contoso-DISK-CMK", 200);
    key(snapshot, "Contoso-DISK-CMK").rotationPolicy = { lifetimeActions: [] };
    const p = plan(snapshot, NOW, { keys: ["contoso-disk-cmk"] });
    expect(p.keys.map((k) => k.keyName)).toEqual(["Contoso-DISK-CMK"]);
    const [policyStep, rotate] = p.steps as [PlanStep, PlanStep];
    expect(policyStep).toMatchObject({ kind: "rotationPolicy", action: "change", after: { expiresIn: "P1Y", rotateTimeAfterCreate: "P180D" } });
    expect(rotate).toMatchObject({ kind: "rotateKey", dependsOn: [policyStep.id] });
  });

  it("blocks a rotation that would exceed the HSM's version limit", () => {
    const snapshot = loadSnapshot();
    ageKey(snapshot, "Contoso-DISK-CMK", 200);
    const k = key(snapshot, "Contoso-DISK-CMK");
    const template = k.versions?.[0];
    if (!template) throw new Error("no version");
    k.versions = Array.from({ length: policy.thresholds.maxKeyVersions }, (_, i) => ({ ...template, version: `v${i}`, id: `${k.id}/v${i}` }));
    const rotate = stepsOf(plan(snapshot), "rotateKey");
    expect(rotate.map((s) => s.action)).toEqual(["blocked"]);
    expect(rotate[0]?.risks.map((r) => r.code)).toEqual(["versionCap"]);
  });

  it("plans nothing for a key it could not read, and says so", () => {
    const snapshot = loadSnapshot();
    contosoHsm(snapshot).keys = null;
    const p = plan(snapshot);
    expect(p.steps).toEqual([]);
    expect(p.keys.map((k) => k.status)).toEqual(["unknown", "unknown", "unknown"]);
  });

  it("orders every step after the steps it depends on", () => {
    const snapshot = loadSnapshot("contoso-drifted");
    for (const name of ["Contoso-SQLMI-CMK", "Contoso-DISK-CMK", "Contoso-STORAGE-CMK"]) ageKey(snapshot, name, 200);
    for (const mi of snapshot.consumers.sqlManagedInstances) mi.failoverGroups = [];
    const p = plan(snapshot);
    expect(p.steps.length).toBeGreaterThan(5);
    const seen = new Set<string>();
    for (const step of p.steps) {
      for (const dep of step.dependsOn) expect(seen.has(dep), `${step.id} after ${dep}`).toBe(true);
      seen.add(step.id);
    }
    expect(new Set(p.steps.map((s) => s.id)).size).toBe(p.steps.length);
  });
});
