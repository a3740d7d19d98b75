import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/lib/config/errors.js";
import { loadConfig } from "../../src/lib/config/load.js";

const EXAMPLE = new URL("../../examples/contoso.policy.json", import.meta.url);
const PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

/** An in-memory file system for loadConfig. */
async function filesWith(entries: Record<string, string>) {
  const files = new Map(Object.entries(entries));
  const reads: string[] = [];
  return {
    reads,
    readFile: async (path: string): Promise<string> => {
      reads.push(path);
      const text = files.get(path);
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" });
      return text;
    },
  };
}

async function loadError(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe("loadConfig", () => {
  it("loads settings and the policy file and freezes the whole result", async () => {
    const fs = await filesWith({ "contoso.policy.json": await readFile(EXAMPLE, "utf8") });
    const config = await loadConfig({ env: { KEYWARDEN_POLICY_FILE: "contoso.policy.json" }, readFile: fs.readFile });

    expect(fs.reads).toEqual(["contoso.policy.json"]);
    expect(config.settings.cloud.name).toBe("AzurePublicCloud");
    expect(config.policy.managedHsms[0]?.name).toBe("Contoso-PROD-HSM");

    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.settings.cloud)).toBe(true);
    expect(Object.isFrozen(config.policy.managedHsms)).toBe(true);
    expect(Object.isFrozen(config.policy.managedHsms[0]?.keys[0]?.rotation.rotateAfter)).toBe(true);
    expect(Object.isFrozen(config.policy.thresholds.allowedDiskEncryptionTypes)).toBe(true);
    expect(() => {
      (config.policy.thresholds as { minRsaKeySize: number }).minRsaKeySize = 1024;
    }).toThrow(TypeError);
  });

  it("reads inline policy JSON from KEYWARDEN_POLICY_JSON", async () => {
    const json = await readFile(EXAMPLE, "utf8");
    const fs = await filesWith({});
    const config = await loadConfig({ env: { KEYWARDEN_POLICY_JSON: json }, readFile: fs.readFile });
    expect(config.policy.managedHsms[0]?.keys).toHaveLength(3);
    expect(fs.reads).toEqual([]);
  });

  it("reads the emulator CA through the injected reader", async () => {
    const fs = await filesWith({ "ca.pem": PEM, "p.json": await readFile(EXAMPLE, "utf8") });
    const config = await loadConfig({
      env: {
        KEYWARDEN_CLOUD: "Emulator",
        KEYWARDEN_EMULATOR_ENDPOINT: "https://127.0.0.1:9443",
        KEYWARDEN_EMULATOR_CA_FILE: "ca.pem",
        KEYWARDEN_EMULATOR_PRINCIPAL_ID: "a1000000-0000-4000-8000-000000000003",
        KEYWARDEN_POLICY_FILE: "p.json",
      },
      readFile: fs.readFile,
    });
    expect(config.settings.emulator?.caPem).toBe(PEM);
  });

  it("names the policy file it cannot read", async () => {
    const fs = await filesWith({});
    const error = await loadError(loadConfig({ env: { KEYWARDEN_POLICY_FILE: "missing.json" }, readFile: fs.readFile }));
    expect(error.issues).toEqual([{ path: "KEYWARDEN_POLICY_FILE", message: 'cannot read "missing.json" (ENOENT)' }]);
  });

  it("names the source of an invalid policy", async () => {
    const fs = await filesWith({ "bad.json": '{ "version": 1, "managedHsms": [] }' });
    const error = await loadError(loadConfig({ env: { KEYWARDEN_POLICY_FILE: "bad.json" }, readFile: fs.readFile }));
    expect(error.message).toBe("Invalid policy document in bad.json (1 problem):\n  - managedHsms: must list at least one Managed HSM");

    const inline = await loadError(loadConfig({ env: { KEYWARDEN_POLICY_JSON: "{ version: 1 }" }, readFile: fs.readFile }));
    expect(inline.message).toMatch(/^Invalid policy document in KEYWARDEN_POLICY_JSON \(1 problem\):\n {2}- not valid JSON at line 1, column 3: /);
  });

  it("stops at invalid app settings before reading the policy", async () => {
    const fs = await filesWith({});
    const error = await loadError(loadConfig({ env: { KEYWARDEN_POLICY_FILE: "p.json", KEYWARDEN_MAX_RETRIES: "many" }, readFile: fs.readFile }));
    expect(error.issues).toEqual([{ path: "KEYWARDEN_MAX_RETRIES", message: '"many" is not a whole number from 0 to 10' }]);
    expect(fs.reads).toEqual([]);
  });
});
