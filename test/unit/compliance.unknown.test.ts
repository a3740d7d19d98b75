import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { REGISTERED_CONTROLS } from "../../src/lib/compliance/checks/index.js";
import { loadControls } from "../../src/lib/compliance/registry.js";
import type { CollectionError, EstateSnapshot } from "../../src/lib/estate/snapshot.js";
import { contextFor, loadSnapshot, pushError } from "../support/snapshots.js";

const controls = loadControls(REGISTERED_CONTROLS);
const checksDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "lib", "compliance", "checks");

/** The Contoso snapshot as if every read had failed (403 everywhere), with the errors recorded. */
function nothingReadable(): EstateSnapshot {
  const s = loadSnapshot();
  s.errors = [];
  const fail = (part: CollectionError["part"], resourceId: string) =>
    pushError(s, { part, resourceId, operation: "test", statusCode: 403, code: "AuthorizationFailed", message: "denied" });
  for (const hsm of s.managedHsms) {
    Object.assign(hsm, { properties: null, regions: null, privateEndpointConnections: null, diagnosticSettings: null, keys: null, roleDefinitions: null, roleAssignments: null });
    for (const part of ["managedHsm", "managedHsm.regions", "managedHsm.privateEndpointConnections", "managedHsm.diagnosticSettings"] as const) fail(part, hsm.resourceId);
    const base = (hsm.hsmUri ?? "").replace(/\/+$/, "");
    fail("keys", `${base}/keys`);
    fail("rbac.roleDefinitions", `${base}/`);
    fail("rbac.roleAssignments", `${base}/`);
  }
  const sub = `/subscriptions/${s.subscriptions[0]}`;
  s.consumers = { sqlManagedInstances: [], diskEncryptionSets: [], disks: [], virtualMachines: [], storageAccounts: [] };
  for (const part of ["consumers.sqlManagedInstances", "consumers.diskEncryptionSets", "consumers.disks", "consumers.virtualMachines", "consumers.storageAccounts"] as const) fail(part, sub);
  return s;
}

describe("never a false PASS", () => {
  it.each(controls.map((c) => [c.metadata.id, c] as const))("%s: reports UNKNOWN, never PASS, when nothing could be read", (_id, control) => {
    const results = control.check(contextFor(nothingReadable()));
    expect(results.length).toBeGreaterThan(0);
    expect(results.filter((r) => r.status === "PASS")).toEqual([]);
    for (const r of results.filter((x) => x.status === "UNKNOWN")) expect(r.evidence.collectionErrors?.length ?? 0).toBeGreaterThan(0);
  });

  it("every control's tests cover PASS, FAIL and UNKNOWN", () => {
    for (const folder of readdirSync(checksDir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const tests = readFileSync(join(checksDir, folder.name, "check.test.ts"), "utf8");
      for (const status of ["PASS", "FAIL", "UNKNOWN"]) expect(tests, `${folder.name} has no ${status} test`).toContain(`"${status}"`);
    }
  });
});
