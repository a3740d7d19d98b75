/** Runtime settings changed through POST /_emulator/config (validated by the control handler). */
import type { Runtime, RuntimeConfig } from "./runtime.js";
import type { ThrottlingPatch } from "./throttling.js";
import { configureThrottling, copyThrottling } from "./throttling.js";

export interface ConfigPatch {
  pageSize?: number;
  lroPolls?: number;
  throttling?: ThrottlingPatch;
}

/** Applies a validated patch; answers a copy of the whole runtime config. */
export function configure(rt: Runtime, patch: ConfigPatch): RuntimeConfig {
  if (patch.pageSize !== undefined) rt.config.pageSize = patch.pageSize;
  if (patch.lroPolls !== undefined) rt.config.lroPolls = patch.lroPolls;
  if (patch.throttling !== undefined) configureThrottling(rt, patch.throttling);
  return { ...rt.config, throttling: copyThrottling(rt.config.throttling) };
}
