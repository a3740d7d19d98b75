/** The app settings that point KeyWarden at a running emulator (used by npm start, the bench, tests). */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EmulatorHandle } from "./index.js";

/** KeyWarden's own identity in the Contoso fixtures (Crypto Auditor at "/", Crypto User at "/keys"). */
export const KEYWARDEN_PRINCIPAL_ID = "a1000000-0000-4000-8000-000000000003";
/** The policy document of the Contoso estate. */
export const CONTOSO_POLICY_FILE = join(dirname(fileURLToPath(import.meta.url)), "..", "examples", "contoso.policy.json");

export function keywardenEnv(emulator: EmulatorHandle, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    KEYWARDEN_CLOUD: "Emulator",
    KEYWARDEN_EMULATOR_ENDPOINT: emulator.endpoint,
    KEYWARDEN_EMULATOR_CA_PEM: emulator.caPem,
    KEYWARDEN_EMULATOR_PRINCIPAL_ID: KEYWARDEN_PRINCIPAL_ID,
    KEYWARDEN_POLICY_FILE: CONTOSO_POLICY_FILE,
    ...overrides,
  };
}
