import { StateStoreError } from "../../src/lib/state/errors.js";
import type { StateStore } from "../../src/lib/state/stateStore.js";

export interface StoreCall {
  method: "create" | "put" | "get" | "list" | "delete" | "acquireLease" | "renew" | "release";
  name: string;
}

/**
 * A real state store underneath; every call `fails` picks throws as the Blob store does when Blob Storage answers
 * 503 (a StateStoreError naming the store and the item, never a key). `calls` records the failed ones.
 */
export function failingStore(store: StateStore, fails: (call: StoreCall) => boolean): StateStore & { failed: StoreCall[] } {
  const failed: StoreCall[] = [];
  const check = (method: StoreCall["method"], name: string) => {
    if (!fails({ method, name })) return;
    failed.push({ method, name });
    throw new StateStoreError(`State store ${store.description}: ${method} ${name} failed (503 ServerBusy, injected)`, { item: name });
  };
  return {
    description: store.description,
    failed,
    async create(name, body) {
      check("create", name);
      return store.create(name, body);
    },
    async put(name, body, options) {
      check("put", name);
      return store.put(name, body, options);
    },
    async get(name) {
      check("get", name);
      return store.get(name);
    },
    async list(prefix) {
      check("list", prefix);
      return store.list(prefix);
    },
    async delete(name) {
      check("delete", name);
      return store.delete(name);
    },
    async acquireLease(name, options) {
      check("acquireLease", name);
      const lease = await store.acquireLease(name, options);
      if (!lease) return lease;
      return {
        name: lease.name,
        owner: lease.owner,
        async renew() {
          check("renew", name);
          return lease.renew();
        },
        release: () => lease.release(),
      };
    },
  };
}
