import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parsePolicyDocument } from "../../src/lib/config/load.js";
import type { PolicyDocument } from "../../src/lib/config/types.js";
import type { CheckContext } from "../../src/lib/compliance/types.js";
import { deriveAbout } from "../../src/lib/estate/migrate.js";
import { readSnapshot } from "../../src/lib/estate/readSnapshot.js";
import type { CollectionError, EstateSnapshot } from "../../src/lib/estate/snapshot.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export type SnapshotFixture = "contoso-reference" | "contoso-drifted";

/**
 * A fresh, mutable copy of a snapshot collected from an emulator fixture (see
 * scripts/gen-snapshot-fixtures.ts). Tests change what they need and leave the rest real.
 */
export function loadSnapshot(name: SnapshotFixture = "contoso-reference"): EstateSnapshot {
  const file = join(root, "test", "fixtures", "snapshots", `${name}.json`);
  return readSnapshot(readFileSync(file, "utf8"), file);
}

/**
 * Records a collection error as the collector would, with `about` derived from its part and id (so a
 * test names the failed read the way Azure's error does: by the id it was about).
 */
export function pushError(snapshot: EstateSnapshot, error: Omit<CollectionError, "about">): void {
  snapshot.errors.push({ ...error, about: deriveAbout(snapshot.managedHsms, error.part, error.resourceId) });
}

/** The Contoso policy document (examples/contoso.policy.json), validated. */
export function contosoPolicy(): PolicyDocument {
  const text = readFileSync(join(root, "examples", "contoso.policy.json"), "utf8");
  return parsePolicyDocument(JSON.parse(text), "examples/contoso.policy.json");
}

/** A check context at the snapshot's own time (or `now`). */
export function contextFor(snapshot: EstateSnapshot, options: { policy?: PolicyDocument; now?: string } = {}): CheckContext {
  return { snapshot, policy: options.policy ?? contosoPolicy(), now: new Date(options.now ?? snapshot.collectedAt) };
}

/** The HSM of the Contoso estate, for tests that edit it. */
export function contosoHsm(snapshot: EstateSnapshot) {
  const hsm = snapshot.managedHsms[0];
  if (!hsm) throw new Error("snapshot has no managed HSM");
  return hsm;
}

/** Makes the Contoso HSM's ARM description unreadable (403), as the collector records it. */
export function hsmUnreadable(snapshot: EstateSnapshot): void {
  const hsm = contosoHsm(snapshot);
  hsm.properties = null;
  pushError(snapshot, { part: "managedHsm", resourceId: hsm.resourceId, operation: "managedHsms.get", statusCode: 403, code: "AuthorizationFailed", message: "denied" });
}

/** Makes the Contoso HSM's role assignments unreadable (403 at `scope`), as the collector records it. */
export function roleAssignmentsUnreadable(snapshot: EstateSnapshot, scope = "/"): void {
  const hsm = contosoHsm(snapshot);
  hsm.roleAssignments = null;
  const base = (hsm.hsmUri ?? "").replace(/\/$/, "");
  pushError(snapshot, { part: "rbac.roleAssignments", resourceId: `${base}${scope}`, operation: "roleAssignments.list", statusCode: 403, code: "Forbidden", message: "denied" });
}

/**
 * Makes one of the Contoso HSM's private endpoints unreadable (403 on its Network read), as the collector
 * records it: the connection stays listed, its region is unknown.
 */
export function privateEndpointUnreadable(snapshot: EstateSnapshot, name = "pe-contoso-hsm-centralindia"): void {
  const connection = contosoHsm(snapshot).privateEndpointConnections?.find((c) => c.privateEndpointId?.endsWith(`/privateEndpoints/${name}`));
  if (!connection?.privateEndpointId) throw new Error(`snapshot has no private endpoint ${name}`);
  connection.privateEndpointLocation = null;
  const id = connection.privateEndpointId;
  pushError(snapshot, {
    part: "managedHsm.privateEndpoint",
    resourceId: id,
    operation: "privateEndpoints.get",
    statusCode: 403,
    code: "AuthorizationFailed",
    message: `The client '${KEYWARDEN_PRINCIPAL}' with object id '${KEYWARDEN_PRINCIPAL}' does not have authorization to perform action 'Microsoft.Network/privateEndpoints/read' over scope '${id}' or the scope is invalid.`,
  });
}

/** The principal KeyWarden runs as in the Contoso estate (emulator/keywardenEnv.ts). */
const KEYWARDEN_PRINCIPAL = "a1000000-0000-4000-8000-000000000003";
