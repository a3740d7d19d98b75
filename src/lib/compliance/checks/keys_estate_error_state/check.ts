import type { ManagedHsmSnapshot, PartRef, SnapshotPart } from "../../../estate/snapshot.js";
import { armName, isAzureValue } from "../../query/hsm.js";
import { unreadListResults } from "../../query/consumers.js";
import { hsmPairs } from "../../query.js";
import { errorsFor, resultsFor, type ResourceRef } from "../../result.js";
import type { CheckContext, ControlResult, EvidenceValue } from "../../types.js";
import { metadata } from "./metadata.js";

const expected = {
  provisioningState: "not Failed",
  autoKeyRotationError: null,
  privateEndpointConnectionStatus: "not Rejected or Disconnected",
  sqlManagedInstanceState: "not Inaccessible",
  storageKeyVersionExpired: false,
};

/** A resource and the error states Azure reports on it (empty: none). */
interface Judged {
  resource: ResourceRef;
  errors: string[];
  observed: EvidenceValue;
}

const FAILED_PROVISIONING = "Failed";
const BAD_CONNECTION_STATUSES = ["Rejected", "Disconnected"];

/**
 * One result per HSM, private endpoint connection, SQL managed instance, disk encryption set and storage account of
 * the snapshot: FAIL for each error state Azure reports on it, whatever its key version; UNKNOWN where the part that
 * would show it could not be read.
 */
export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const results: ControlResult[] = [];
  const judge = (j: Judged) =>
    results.push(
      j.errors.length === 0
        ? r.pass({ resource: j.resource, message: `${j.resource.name} reports no error state.`, observed: j.observed, expected })
        : r.fail({ resource: j.resource, message: `${j.resource.name} reports an error state: ${j.errors.join("; ")}.`, observed: j.observed, expected }),
    );

  for (const pair of hsmPairs(ctx)) {
    const { hsm, resource } = pair;
    if (hsm.properties === null) {
      results.push(r.unknown({ resource, message: `The properties of ${resource.name} could not be read, so its provisioning state is unknown.`, expected, errors: errorsFor(ctx, "managedHsm", pair.about) }));
    } else {
      const state = hsm.properties.provisioningState ?? null;
      judge({ resource, observed: { provisioningState: state }, errors: failedProvisioning(state) });
    }
    results.push(...connectionResults(ctx, r, hsm, resource, pair.about));
  }

  const c = ctx.snapshot.consumers;
  results.push(...unreadListResults(ctx, r, CONSUMER_LISTS, "SQL managed instances, disk encryption sets or storage accounts", expected));
  for (const mi of c.sqlManagedInstances) {
    const provisioningState = mi.provisioningState ?? null;
    const state = mi.state ?? null;
    const errors = [...failedProvisioning(provisioningState), ...(isAzureValue(state, "Inaccessible") ? ["its state is Inaccessible (it cannot reach its TDE protector)"] : [])];
    judge({ resource: { id: mi.resourceId, name: mi.name }, observed: { provisioningState, state }, errors });
  }
  for (const des of c.diskEncryptionSets) {
    const provisioningState = des.provisioningState ?? null;
    const rotationError = des.autoKeyRotationError ? { code: des.autoKeyRotationError.code ?? null, message: des.autoKeyRotationError.message ?? null } : null;
    const errors = [
      ...failedProvisioning(provisioningState),
      ...(rotationError ? [`autoKeyRotationError ${rotationError.code ?? "(no code)"}: ${rotationError.message ?? "(no message)"}`] : []),
    ];
    judge({ resource: { id: des.resourceId, name: des.name }, observed: { provisioningState, autoKeyRotationError: rotationError }, errors });
  }
  for (const sa of c.storageAccounts) {
    const provisioningState = sa.provisioningState ?? null;
    const keyExpires = sa.currentVersionedKeyExpirationTimestamp ?? null;
    const expired = keyExpires !== null && Date.parse(keyExpires) <= ctx.now.getTime();
    const errors = [...failedProvisioning(provisioningState), ...(expired ? [`the key version it uses expired on ${keyExpires} (currentVersionedKeyExpirationTimestamp), so it cannot unwrap its key`] : [])];
    judge({ resource: { id: sa.resourceId, name: sa.name }, observed: { provisioningState, currentVersionedKeyExpirationTimestamp: keyExpires }, errors });
  }
  return results;
}

const CONSUMER_LISTS: SnapshotPart[] = ["consumers.sqlManagedInstances", "consumers.diskEncryptionSets", "consumers.storageAccounts"];

function failedProvisioning(state: string | null): string[] {
  return isAzureValue(state, FAILED_PROVISIONING) ? ["provisioningState is Failed"] : [];
}

function connectionResults(ctx: CheckContext, r: ReturnType<typeof resultsFor>, hsm: ManagedHsmSnapshot, resource: ResourceRef, about: PartRef): ControlResult[] {
  const connections = hsm.privateEndpointConnections;
  if (connections === null) {
    const errors = errorsFor(ctx, "managedHsm.privateEndpointConnections", about);
    return [r.unknown({ resource, message: `The private endpoint connections of ${resource.name} could not be read, so whether any is rejected or disconnected is unknown.`, expected, errors })];
  }
  return connections.map((connection) => {
    const name = `${armName(connection.privateEndpointId) ?? armName(connection.id) ?? connection.id} -> ${resource.name}`;
    const subject = { id: connection.id, name };
    const status = connection.status ?? null;
    const provisioningState = connection.provisioningState ?? null;
    const observed = { status, provisioningState };
    const errors = [
      ...(BAD_CONNECTION_STATUSES.some((s) => isAzureValue(status, s)) ? [`the private endpoint connection is ${status}, so no traffic flows through it`] : []),
      ...failedProvisioning(provisioningState),
    ];
    return errors.length === 0
      ? r.pass({ resource: subject, message: `The private endpoint connection ${name} reports no error state (${status ?? "status not reported"}).`, observed, expected })
      : r.fail({ resource: subject, message: `The private endpoint connection ${name} reports an error state: ${errors.join("; ")}.`, observed, expected });
  });
}
