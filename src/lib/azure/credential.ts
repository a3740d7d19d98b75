import { DefaultAzureCredential } from "@azure/identity";
import type { TokenCredential } from "@azure/core-auth";
import type { AppSettings } from "../config/types.js";
import { createEmulatorCredential } from "./emulatorCredential.js";

/** DefaultAzureCredential in Azure (managed identity, workload identity, CLI…); a static token for the emulator. */
export function createCredential(settings: AppSettings): TokenCredential {
  if (settings.emulator) return createEmulatorCredential(settings.emulator.principalId);
  return new DefaultAzureCredential({
    authorityHost: settings.cloud.authorityHost,
    ...(settings.managedIdentityClientId ? { managedIdentityClientId: settings.managedIdentityClientId } : {}),
  });
}
