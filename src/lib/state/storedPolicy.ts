import type { StateStore } from "./stateStore.js";

/** The policy document's blob in the state store (KEYWARDEN_POLICY_BLOB): its text and ETag, or undefined when absent. */
export async function readStoredPolicy(store: StateStore, name: string): Promise<{ text: string; etag: string } | undefined> {
  const item = await store.get(name);
  return item && { text: item.body, etag: item.etag };
}
