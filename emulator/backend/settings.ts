import { kvBadParameter, kvSettingNotFound } from "../errors.js";
import type { HsmSetting, HsmState } from "./state.js";

/** Managed HSM account settings (settings.json 2025-07-01): read them, and change a boolean one. */

export function listSettings(hsm: HsmState): HsmSetting[] {
  return [...hsm.settings.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function getSettingOrThrow(hsm: HsmState, name: string): HsmSetting {
  const setting = hsm.settings.get(name.toLowerCase());
  if (!setting) throw kvSettingNotFound(name);
  return setting;
}

/** Boolean settings take "true" or "false" (case-insensitive, stored lower-case). */
export function updateSetting(hsm: HsmState, name: string, value: unknown): HsmSetting {
  const setting = getSettingOrThrow(hsm, name);
  if (typeof value !== "string" || !/^(true|false)$/i.test(value)) throw kvBadParameter(`The value of setting '${setting.name}' must be "true" or "false".`);
  setting.value = value.toLowerCase();
  return setting;
}
