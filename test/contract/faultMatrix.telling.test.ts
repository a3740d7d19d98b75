import { faultMatrixSuite, type MatrixOperation, type StoreCall } from "../support/faultMatrix.js";

/**
 * The executor's fresh reads, the round's telling (Event Grid, Logs Ingestion) and the state store (journal
 * writes, the key lock's lease) under every fault (issue 10). State-store faults go through a proxy over the real
 * local-directory store that fails matching calls for the faulted round.
 */
const isJournalWrite = (c: StoreCall) => (c.method === "create" || c.method === "put") && c.name.startsWith("runs/");

/** Fails the nth call `pick` chooses and every one after it (the 4th journal write: a step.finished after its write went out). */
function nth(n: number, pick: (c: StoreCall) => boolean): () => (c: StoreCall) => boolean {
  return () => {
    let seen = 0;
    return (c) => pick(c) && ++seen >= n;
  };
}

const OPERATIONS: MatrixOperation[] = [
  { name: "key read (executor)", operationId: "GetKey" },
  { name: "SQL MI read", operationId: "ManagedInstances_Get" },
  { name: "SQL MI key read", operationId: "ManagedInstanceKeys_Get" },
  { name: "DES read", operationId: "DiskEncryptionSets_Get" },
  { name: "storage read", operationId: "StorageAccounts_GetProperties" },
  { name: "HSM role definitions", operationId: "RoleDefinitions_List" },
  { name: "Event Grid publish", operationId: "PublishEvents" },
  { name: "Logs Ingestion upload", operationId: "Upload" },
  { name: "journal write (first)", store: () => (c) => isJournalWrite(c) },
  { name: "journal write (after a write)", store: nth(4, isJournalWrite) },
  { name: "outbox write", store: () => (c) => (c.method === "create" || c.method === "put") && /^(events|alerts)\//.test(c.name) },
  { name: "key lock lease", store: () => (c) => c.method === "acquireLease" && c.name.startsWith("locks/") },
];

faultMatrixSuite("fault matrix: executor reads, telling, state store", "executor reads, telling, state store", OPERATIONS);
