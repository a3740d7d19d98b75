import { StateStoreError } from "../../src/lib/state/errors.js";
import type { StateStore } from "../../src/lib/state/stateStore.js";

export interface StoreCall {
  method: "create" | "put" | "get" | "list" | "delete" | "acquireLease" | "renew" | "release";
  name: string;
}

/**
 * A real state store underneath, with `before` called ahead of every call (and of each lease's renew and release):
 * it throws to fail the call as the store would, or returns to let it through. The fault proxies are built on it.
 */
export function interceptStore(store: StateStore, before: (method: StoreCall["method"], name: string) => void): StateStore {
  return {
    description: store.description,
    async create(name, body) {
      before("create", name);
      return store.create(name, body);
    },
    async put(name, body, options) {
      before("put", name);
      return store.put(name, body, options);
    },
    async get(name) {
      before("get", name);
      return store.get(name);
    },
    async list(prefix) {
      before("list", prefix);
      return store.list(prefix);
    },
    async delete(name) {
      before("delete", name);
      return store.delete(name);
    },
    async acquireLease(name, options) {
      before("acquireLease", name);
      const lease = await store.acquireLease(name, options);
      if (!lease) return lease;
      return {
        name: lease.name,
        owner: lease.owner,
        async renew() {
          before("renew", name);
          return lease.renew();
        },
        async release() {
          before("release", name);
          return lease.release();
        },
      };
    },
  };
}

/**
 * Every call `fails` picks throws as the Blob store does when Blob Storage answers 503 (a StateStoreError naming
 * the store and the item, never a key); a lease's release always goes through. `failed` records the failed calls.
 */
export function failingStore(store: StateStore, fails: (call: StoreCall) => boolean): StateStore & { failed: StoreCall[] } {
  const failed: StoreCall[] = [];
  const proxy = interceptStore(store, (method, name) => {
    if (method === "release" || !fails({ method, name })) return;
    failed.push({ method, name });
    throw new StateStoreError(`State store ${store.description}: ${method} ${name} failed (503 ServerBusy, injected)`, { item: name });
  });
  return Object.assign(proxy, { failed });
}
