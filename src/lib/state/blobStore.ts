import {
  acquireBlobLease,
  BlobCallError,
  containerUrlOf,
  deleteIfExists,
  download,
  ensureContainer,
  listNames,
  releaseBlobLease,
  renewBlobLease,
  upload,
  uploadIfAbsent,
  type ContainerClient,
} from "../azure/storageBlob.js";
import { LeaseLostError, StateConflictError, StateStoreError } from "./errors.js";
import { assertLeaseDuration, assertStateName, assertStatePrefix } from "./stateName.js";
import type { Lease, StateStore } from "./stateStore.js";

/**
 * The state store in a Blob Storage container: one blob per item, Blob Storage's own conditional writes
 * (If-None-Match: * to create, If-Match to replace) and blob leases for locks. The container is created
 * on first use if it is absent.
 */
export function createBlobStore(containerClient: ContainerClient): StateStore {
  const description = `blob container ${containerUrlOf(containerClient)}`;
  let ready: Promise<void> | undefined;

  /** Creates the container once; a failure is not cached, so the next call tries again. */
  const ensureReady = (): Promise<void> => {
    ready ??= ensureContainer(containerClient).catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };

  /** Runs one Blob call, turning its failure into a StateStoreError that names the item and the store. */
  async function call<T>(item: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      await ensureReady();
      return await fn();
    } catch (error) {
      if (error instanceof StateStoreError) throw error;
      const what = error instanceof BlobCallError ? error.message : `failed (${error instanceof Error ? error.name : "unknown error"})`;
      throw new StateStoreError(`State store ${description}: ${what}`, { ...(item === undefined ? {} : { item }), cause: error });
    }
  }

  function leaseOf(name: string, owner: string, leaseId: string): Lease {
    return {
      name,
      owner,
      renew: () =>
        call(name, async () => {
          if ((await renewBlobLease(containerClient, name, leaseId)) === "lost") {
            throw new LeaseLostError(`The lease on ${name} held by ${owner} was lost: it expired and another holder took it, or the item is gone`, { item: name });
          }
        }),
      release: () => call(name, () => releaseBlobLease(containerClient, name, leaseId)),
    };
  }

  return {
    description,

    async create(name, body) {
      assertStateName(name);
      return call(name, () => uploadIfAbsent(containerClient, name, body));
    },

    async put(name, body, options) {
      assertStateName(name);
      const ifMatch = options?.ifMatch;
      const result = await call(name, () => upload(containerClient, name, body, ifMatch));
      if (result === "conflict") throw new StateConflictError(`State item ${name} changed (or is gone) since etag ${ifMatch}; it was not written`, { item: name });
      return result;
    },

    async get(name) {
      assertStateName(name);
      const found = await call(name, () => download(containerClient, name));
      return found && { name, body: found.body, etag: found.etag };
    },

    async list(prefix) {
      assertStatePrefix(prefix);
      // Blob Storage lists in lexicographic order already; sorting again keeps the contract explicit.
      return (await call(undefined, () => listNames(containerClient, prefix))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    },

    async delete(name) {
      assertStateName(name);
      return call(name, () => deleteIfExists(containerClient, name));
    },

    async acquireLease(name, { durationMs, owner }) {
      assertStateName(name);
      assertLeaseDuration(name, durationMs);
      const leaseId = await call(name, () => acquireBlobLease(containerClient, name, durationMs / 1000));
      return leaseId === undefined ? undefined : leaseOf(name, owner, leaseId);
    },
  };
}
