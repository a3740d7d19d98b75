import type { TokenCredential } from "@azure/core-auth";
import type { HsmSettingSnapshot } from "../../estate/snapshot.js";
import type { CommonClientOptions } from "../pipelineOptions.js";
import { HsmDataPlane } from "./dataPlane.js";

/**
 * Managed HSM account settings (e.g. AllowKeyManagementOperationsThroughARM), REST per the data-plane spec
 * `settings.json` 2025-07-01. @azure/keyvault-admin (KeyVaultSettingsClient) is not available to us, so this is
 * a thin client over the same transport as the RBAC client.
 */
export const SETTINGS_API_VERSION = "2025-07-01";

export interface WireSetting {
  name?: string;
  value?: string;
  type?: string;
}

export class ManagedHsmSettingsClient {
  private readonly dataPlane: HsmDataPlane;

  constructor(hsmUri: string, credential: TokenCredential, options: CommonClientOptions) {
    this.dataPlane = new HsmDataPlane(hsmUri, credential, options);
  }

  /** Every setting of the HSM (GetSettings). */
  async listSettings(): Promise<HsmSettingSnapshot[]> {
    const body = await this.dataPlane.sendJson<{ settings?: WireSetting[] }>("GET", this.url(), [200]);
    if (!Array.isArray(body.settings)) throw new Error(`Managed HSM settings response from ${this.dataPlane.baseUrl} has no "settings" array`);
    return body.settings.map(toSettingSnapshot);
  }

  /** One setting by name (GetSetting). */
  async getSetting(name: string): Promise<HsmSettingSnapshot> {
    return toSettingSnapshot(await this.dataPlane.sendJson<WireSetting>("GET", this.url(name), [200]));
  }

  /** Sets one setting's value (UpdateSetting; boolean settings take "true" or "false"). */
  async updateSetting(name: string, value: string): Promise<HsmSettingSnapshot> {
    return toSettingSnapshot(await this.dataPlane.sendJson<WireSetting>("PATCH", this.url(name), [200], { value }));
  }

  private url(name?: string): string {
    const query = new URLSearchParams({ "api-version": SETTINGS_API_VERSION });
    return `${this.dataPlane.baseUrl}/settings${name ? `/${encodeURIComponent(name)}` : ""}?${query.toString()}`;
  }
}

/** A setting in the estate's types; a setting without a name or value is not one the spec allows. */
function toSettingSnapshot(s: WireSetting): HsmSettingSnapshot {
  if (typeof s.name !== "string" || typeof s.value !== "string") throw new Error(`Managed HSM returned a setting without a name or value: ${JSON.stringify(s)}`);
  return s.type === undefined ? { name: s.name, value: s.value } : { name: s.name, value: s.value, type: s.type };
}
