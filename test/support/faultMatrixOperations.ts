import { ROTATIONS_STREAM } from "../../src/lib/alerts/alertRows.js";
import { alertOutboxPrefix } from "../../src/lib/alerts/deliverAlerts.js";
import { EVENTS_OUTBOX_PREFIX } from "../../src/lib/events/outbox.js";
import { outboxLockName } from "../../src/lib/state/outbox.js";
import type { BlobRequestHead } from "./blobHangProxy.js";
import type { StoreCall } from "./failingStore.js";
import type { MatrixOperation } from "./faultMatrix.js";

/** Every write the rotation makes (issue 10). */
export const WRITE_OPERATIONS: readonly MatrixOperation[] = [
  { name: "rotation policy", operationId: "UpdateKeyRotationPolicy", crashAfter: "rotationPolicy" },
  { name: "rotate", operationId: "RotateKey", crashAfter: "rotateKey" },
  { name: "SQL MI key", operationId: "ManagedInstanceKeys_CreateOrUpdate", lro: true, crashAfter: "sqlMiKey" },
  { name: "encryption protector", operationId: "ManagedInstanceEncryptionProtectors_CreateOrUpdate", lro: true, crashAfter: "tdeProtector" },
  { name: "DES patch", operationId: "DiskEncryptionSets_Update", lro: true, crashAfter: "diskEncryptionSet" },
  { name: "storage patch", operationId: "StorageAccounts_Update", crashAfter: "storageAccount" },
];

/** The reads the snapshot needs. */
export const READ_OPERATIONS: readonly MatrixOperation[] = [
  { name: "HSM resource read", operationId: "ManagedHsms_Get" },
  { name: "list keys", operationId: "GetKeys" },
  { name: "key versions", operationId: "GetKeyVersions" },
  { name: "rotation policy read", operationId: "GetKeyRotationPolicy" },
  { name: "HSM role assignments", operationId: "RoleAssignments_ListForScope" },
  { name: "list SQL MIs", operationId: "ManagedInstances_List", hidesConsumers: true },
  { name: "TDE protector read", operationId: "ManagedInstanceEncryptionProtectors_Get", hidesConsumers: true },
  { name: "SQL failover groups", operationId: "InstanceFailoverGroups_ListByLocation" },
  { name: "list DESes", operationId: "DiskEncryptionSets_List", hidesConsumers: true },
  { name: "list storage", operationId: "StorageAccounts_List", hidesConsumers: true },
];

/** A blob written (created or replaced): a PUT with no `comp` (leases, metadata and the like name one). */
const isBlobUpload = (r: BlobRequestHead) => r.method === "PUT" && !r.query.has("comp") && r.blob !== "";

const isJournalWrite = (c: StoreCall) => (c.method === "create" || c.method === "put") && c.name.startsWith("runs/");

/** Picks the nth call `pick` chooses and every one after it (the 4th journal write: a step.finished after its write went out). */
function nth<T>(n: number, pick: (c: T) => boolean): () => (c: T) => boolean {
  return () => {
    let seen = 0;
    return (c) => pick(c) && ++seen >= n;
  };
}

/** The executor's fresh reads and the round's telling (Event Grid, Logs Ingestion), all Azure calls. */
export const EXECUTOR_AND_TELLING_OPERATIONS: readonly MatrixOperation[] = [
  { name: "key read (executor)", operationId: "GetKey" },
  { name: "SQL MI read", operationId: "ManagedInstances_Get" },
  { name: "SQL MI key read", operationId: "ManagedInstanceKeys_Get" },
  { name: "DES read", operationId: "DiskEncryptionSets_Get" },
  { name: "storage read", operationId: "StorageAccounts_GetProperties" },
  { name: "HSM role definitions", operationId: "RoleDefinitions_List" },
  { name: "Event Grid publish", operationId: "PublishEvents" },
  { name: "Logs Ingestion upload", operationId: "Upload" },
];

/**
 * The state store (journal writes, the outbox, the key lock's lease): a proxy over the real local-directory store
 * fails matching calls for the faulted round.
 */
export const STORE_OPERATIONS: readonly MatrixOperation[] = [
  { name: "journal write (first)", store: () => (c) => isJournalWrite(c), hangs: () => (r) => isBlobUpload(r) && r.blob.startsWith("runs/") },
  { name: "journal write (after a write)", store: nth(4, isJournalWrite), hangs: nth(4, (r: BlobRequestHead) => isBlobUpload(r) && r.blob.startsWith("runs/")) },
  { name: "outbox write", store: () => (c) => (c.method === "create" || c.method === "put") && /^(events|alerts)\//.test(c.name), hangs: () => (r) => isBlobUpload(r) && /^(events|alerts)\//.test(r.blob) },
  {
    name: "key lock lease",
    store: () => (c) => c.method === "acquireLease" && c.name.startsWith("locks/"),
    hangs: () => (r) => r.method === "PUT" && r.query.get("comp") === "lease" && r.headers["x-ms-lease-action"] === "acquire" && r.blob.startsWith("locks/"),
  },
];

/** The rotation alerts' outbox. */
const ROTATION_ALERTS = alertOutboxPrefix(ROTATIONS_STREAM);

/**
 * A crash between an outbox's enqueue and its send: the process dies as the flush would take the outbox's lease,
 * right after the enqueue (the alerts are told before the events).
 */
export const OUTBOX_CRASH_OPERATIONS: readonly MatrixOperation[] = [
  { name: "alerts: queued, not sent", diesAt: { at: (c) => c.method === "acquireLease" && c.name === outboxLockName(ROTATION_ALERTS), pending: `${ROTATION_ALERTS}pending/` } },
  { name: "events: queued, not sent", diesAt: { at: (c) => c.method === "acquireLease" && c.name === outboxLockName(EVENTS_OUTBOX_PREFIX), pending: `${EVENTS_OUTBOX_PREFIX}pending/` } },
];
