import { hsmHost } from "./keyReference.js";
import { consumerRef, hsmRef, keyRef, privateEndpointRef, rbacScopeRef, subscriptionRef } from "./partRef.js";
import { subscriptionOf } from "./resourceId.js";
import { CONSUMER_LIST_PARTS, type ConsumerListName, type ManagedHsmSnapshot, type PartRef, type SnapshotPart } from "./snapshot.js";

/** What a collection error is about, derived from its part and the id it names (schema 1 had only the id). */
export function deriveAbout(managedHsms: readonly Pick<ManagedHsmSnapshot, "resourceId" | "hsmUri" | "privateEndpointConnections">[], part: SnapshotPart, resourceId: string): PartRef {
  switch (part) {
    case "managedHsm":
    case "managedHsm.regions":
    case "managedHsm.privateEndpointConnections":
    case "managedHsm.diagnosticSettings":
    case "managedHsm.metrics":
      return hsmRef(resourceId);
    case "managedHsm.auditEvents":
    case "managedHsm.deniedRequests": // not in schema 1; their errors are about the HSM, whose id they name
      return hsmRef(resourceId);
    case "managedHsm.privateEndpoint": {
      const id = resourceId.toLowerCase();
      const hsm = managedHsms.find((h) => h.privateEndpointConnections?.some((c) => c.privateEndpointId?.toLowerCase() === id)) ?? onlyHsm(managedHsms);
      return privateEndpointRef(hsm?.resourceId ?? "", resourceId);
    }
    case "managedHsm.settings":
    case "keys":
    case "key":
    case "key.versions":
    case "key.rotationPolicy":
    case "rbac.roleDefinitions":
    case "rbac.roleAssignments": {
      const { hsm, path } = dataPlaneTarget(managedHsms, resourceId);
      const hsmId = hsm?.resourceId ?? "";
      if (part === "keys" || part === "managedHsm.settings") return hsmRef(hsmId);
      if (part.startsWith("rbac.")) return rbacScopeRef(hsmId, path || "/");
      return keyRef(hsmId, path.split("/").filter(Boolean)[1] ?? "");
    }
    case "consumers.sqlManagedInstance.encryptionProtector":
    case "consumers.sqlManagedInstance.keys":
    case "consumers.sqlManagedInstance.failoverGroups": // not in schema 1; its errors name the instance too
      return consumerRef(resourceId);
    case "consumers.sqlManagedInstances":
    case "consumers.diskEncryptionSets":
    case "consumers.disks":
    case "consumers.virtualMachines":
    case "consumers.storageAccounts":
      return subscriptionRef(subscriptionOf(resourceId) ?? "");
  }
}

function onlyHsm<T>(hsms: readonly T[]): T | undefined {
  return hsms.length === 1 ? hsms[0] : undefined;
}

/** The HSM a data-plane URL belongs to (by host), and the URL's path below it. */
function dataPlaneTarget<T extends Pick<ManagedHsmSnapshot, "hsmUri">>(managedHsms: readonly T[], url: string): { hsm: T | undefined; path: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { hsm: onlyHsm(managedHsms), path: "" };
  }
  const host = parsed.host.toLowerCase();
  const hsm = managedHsms.find((h) => h.hsmUri !== undefined && hsmHost(h.hsmUri) === host);
  return { hsm, path: parsed.pathname.replace(/\/+$/, "") };
}

type Json = Record<string, unknown>;

/**
 * Schema 1 → 2. Schema 1 set a whole consumer list to null when any subscription's list failed, so
 * which subscriptions were read is lost: the list becomes empty with an error for every subscription
 * (unknown everywhere, as it was), never a list that looks complete.
 */
export function migrateV1(v1: Json): Json {
  const managedHsms = (Array.isArray(v1.managedHsms) ? v1.managedHsms : []) as ManagedHsmSnapshot[];
  const subscriptions = (Array.isArray(v1.subscriptions) ? v1.subscriptions : []) as string[];
  const errors: Json[] = ((Array.isArray(v1.errors) ? v1.errors : []) as Json[]).map((e) => ({
    ...e,
    about: deriveAbout(managedHsms, e.part as SnapshotPart, String(e.resourceId ?? "")),
  }));
  const consumers = { ...((v1.consumers ?? {}) as Json) };
  for (const [list, part] of Object.entries(CONSUMER_LIST_PARTS) as [ConsumerListName, SnapshotPart][]) {
    if (consumers[list] !== null) continue;
    consumers[list] = [];
    const recorded = new Set(errors.filter((e) => e.part === part).map((e) => (e.about as { subscription?: string }).subscription?.toLowerCase()));
    for (const sub of subscriptions.filter((s) => !recorded.has(s.toLowerCase()))) {
      errors.push({
        part,
        about: subscriptionRef(sub),
        resourceId: `/subscriptions/${sub}`,
        operation: "snapshot.migrate",
        message: "A schema 1 snapshot left this list unknown for every subscription when any subscription's list failed.",
      });
    }
  }
  return { ...v1, schemaVersion: 2, consumers, errors };
}
