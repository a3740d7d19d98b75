import { createStateContainerClient } from "../azure/storageBlob.js";
import type { Clock } from "../clock.js";
import type { AppSettings } from "../config/types.js";
import { createBlobStore } from "./blobStore.js";
import { createLocalDirectoryStore } from "./localDirectoryStore.js";
import type { StateStore } from "./stateStore.js";

/** The state store the settings name: a local directory (the default) or a Blob Storage container. */
export function createStateStore(settings: AppSettings, clock: Clock): StateStore {
  const state = settings.stateStore;
  if (state.kind === "directory") return createLocalDirectoryStore(state.path, { clock });
  // Blob Storage judges lease expiry on its own clock; the clock is for the local store only.
  return createBlobStore(createStateContainerClient(settings));
}
