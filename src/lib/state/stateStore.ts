/**
 * Where KeyWarden keeps what must outlive one process: lease-based locks, the rotation journal and, later,
 * scan evidence. Two implementations pass one contract suite (test/contract/stateStore.test.ts): a local
 * directory (the CLI's default) and a Blob Storage container (the function app's storage account).
 *
 * A name that carries leases is used for leases only: Blob Storage refuses writes to a leased blob.
 */
export interface StoredItem {
  name: string;
  body: string;
  etag: string;
}

export interface StateStore {
  /** For logs and messages: "local directory /abs/path" or "blob container https://acct.blob.core.windows.net/c". Never a key or SAS. */
  readonly description: string;
  /** Creates `name` unless it exists; false when it already exists. Never overwrites. Atomic: a reader sees all of it or nothing. */
  create(name: string, body: string): Promise<boolean>;
  /** Writes `name`. With ifMatch, only while its etag is still that, else throws StateConflictError. */
  put(name: string, body: string, options?: { ifMatch?: string }): Promise<{ etag: string }>;
  get(name: string): Promise<StoredItem | undefined>;
  /** Names (full names) under a prefix, in ascending lexicographic order. */
  list(prefix: string): Promise<string[]>;
  /** Deletes `name` if present (used later by an outbox); false when it was not there. */
  delete(name: string): Promise<boolean>;
  /** Takes the lease on `name` for durationMs (15 000–60 000, as Blob Storage allows); undefined when someone else holds an unexpired lease. */
  acquireLease(name: string, options: { durationMs: number; owner: string }): Promise<Lease | undefined>;
}

export interface Lease {
  readonly name: string;
  readonly owner: string;
  /** Extends the lease by its duration; throws LeaseLostError when it expired and someone else took it (or it is gone). */
  renew(): Promise<void>;
  /** Frees the lease at once (idempotent). */
  release(): Promise<void>;
}
