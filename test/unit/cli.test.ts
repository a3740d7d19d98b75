import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseArgs } from "../../src/cli/args.js";
import { cliEnvironment, runCli, type CliDeps } from "../../src/cli/runCli.js";
import type { KeyWardenConfig } from "../../src/lib/config/types.js";
import type { EstateSnapshot } from "../../src/lib/estate/snapshot.js";
import { loadSnapshot, privateEndpointUnreadable } from "../support/snapshots.js";

const POLICY = readFileSync(new URL("../../examples/contoso.policy.json", import.meta.url), "utf8");
/** The reference estate as collected, with one part (a private endpoint) the collector could not read. */
const SNAPSHOT: EstateSnapshot = loadSnapshot("contoso-reference");
privateEndpointUnreadable(SNAPSHOT);
const PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

interface Harness {
  run(...argv: string[]): Promise<number>;
  stdout: string;
  stderr: string;
  written: Map<string, string>;
  collected: KeyWardenConfig[];
}

function harness(options: { env?: NodeJS.ProcessEnv; files?: Record<string, string>; collect?: CliDeps["collect"] } = {}): Harness {
  const files = new Map(Object.entries({ "policy.json": POLICY, ...options.files }));
  const env = Object.freeze({ ...(options.env ?? { KEYWARDEN_POLICY_FILE: "policy.json" }) });
  const h: Harness = {
    stdout: "",
    stderr: "",
    written: new Map(),
    collected: [],
    run: (...argv) =>
      runCli(
        argv,
        {
          stdout: (text) => void (h.stdout += text),
          stderr: (text) => void (h.stderr += text),
          env,
          readFile: async (path) => {
            const text = files.get(path);
            if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" });
            return text;
          },
          writeFile: async (path, contents) => {
            if (path.startsWith("/readonly/")) throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: "EACCES" });
            h.written.set(path, contents);
          },
        },
        {
          collect:
            options.collect ??
            (async (config) => {
              h.collected.push(config);
              return SNAPSHOT;
            }),
        },
      ),
  };
  return h;
}

describe("keywarden inventory", () => {
  it("collects with the loaded configuration and prints tables", async () => {
    const h = harness();
    expect(await h.run("inventory")).toBe(0);
    expect(h.collected).toHaveLength(1);
    expect(h.collected[0]?.policy.managedHsms[0]?.name).toBe("Contoso-PROD-HSM");
    expect(h.stdout).toContain("Managed HSM Contoso-PROD-HSM");
    // Display names come from the policy.
    expect(h.stdout).toContain("a1000000-0000-4000-8000-000000000002 (Key management team)");
    expect(h.stderr).toBe('1 part of the estate could not be read and is unknown (see "Collection errors").\n');
  });

  it("prints the snapshot as JSON with --json", async () => {
    const h = harness();
    expect(await h.run("inventory", "--json")).toBe(0);
    expect(JSON.parse(h.stdout)).toEqual(SNAPSHOT);
  });

  it("writes the snapshot as JSON with --out and says where on stderr", async () => {
    const h = harness();
    expect(await h.run("inventory", "--out=snap.json")).toBe(0);
    expect(JSON.parse(h.written.get("snap.json") ?? "")).toEqual(SNAPSHOT);
    expect(h.stdout).toContain("KeyWarden estate snapshot");
    expect(h.stderr).toContain("Wrote the estate snapshot (JSON) to snap.json\n");
  });

  it("fails with exit code 1 when the output file cannot be written", async () => {
    const h = harness();
    expect(await h.run("inventory", "--out", "/readonly/snap.json")).toBe(1);
    expect(h.stderr).toBe('keywarden: cannot write the snapshot to "/readonly/snap.json": EACCES: permission denied, open \'/readonly/snap.json\'\n');
  });

  it("fails with exit code 1 when collection fails", async () => {
    const h = harness({
      collect: async () => {
        throw new Error("getaddrinfo ENOTFOUND management.azure.com");
      },
    });
    expect(await h.run("inventory")).toBe(1);
    expect(h.stderr).toBe("keywarden: getaddrinfo ENOTFOUND management.azure.com\n");
  });

  it("lets options override the environment without touching it", async () => {
    const env = { KEYWARDEN_POLICY_JSON: "{}", KEYWARDEN_CLOUD: "AzureChinaCloud" };
    const h = harness({ env, files: { "ca.pem": PEM, "other.json": POLICY } });
    const code = await h.run(
      "inventory",
      "--policy",
      "other.json",
      "--emulator-endpoint",
      "https://127.0.0.1:9443",
      "--emulator-ca",
      "ca.pem",
      "--emulator-principal-id",
      "a1000000-0000-4000-8000-000000000003",
      "--cloud",
      "Emulator",
    );
    expect(h.stderr).toBe('1 part of the estate could not be read and is unknown (see "Collection errors").\n');
    expect(code).toBe(0);
    const settings = h.collected[0]?.settings;
    expect(settings?.cloud).toMatchObject({ name: "Emulator", resourceManager: "https://127.0.0.1:9443" });
    expect(settings?.emulator).toEqual({ endpoint: "https://127.0.0.1:9443", caPem: PEM, principalId: "a1000000-0000-4000-8000-000000000003" });
    expect(settings?.policySource).toEqual({ kind: "file", path: "other.json" });
    expect(env).toEqual({ KEYWARDEN_POLICY_JSON: "{}", KEYWARDEN_CLOUD: "AzureChinaCloud" });
  });

  it("builds the environment from options", () => {
    const env = { KEYWARDEN_EMULATOR_ENDPOINT: "https://127.0.0.1:1", KEYWARDEN_EMULATOR_CA_PEM: PEM, OTHER: "x" };
    expect(cliEnvironment(parseArgs(["inventory", "--emulator-endpoint", "https://127.0.0.1:2"]), env)).toEqual({
      KEYWARDEN_CLOUD: "Emulator",
      KEYWARDEN_EMULATOR_ENDPOINT: "https://127.0.0.1:2",
      KEYWARDEN_EMULATOR_CA_PEM: PEM,
      OTHER: "x",
    });
    // An explicit real cloud drops emulator settings left in the shell.
    expect(cliEnvironment(parseArgs(["inventory", "--cloud", "AzurePublicCloud", "--arm-endpoint", "https://arm.test"]), env)).toEqual({
      KEYWARDEN_CLOUD: "AzurePublicCloud",
      KEYWARDEN_ARM_ENDPOINT: "https://arm.test",
      OTHER: "x",
    });
  });

  it("exits 2 on invalid configuration, naming each setting", async () => {
    const h = harness({ env: { KEYWARDEN_CLOUD: "Mars" } });
    expect(await h.run("inventory", "--arm-endpoint", "http://arm.test")).toBe(2);
    expect(h.stderr).toBe(
      "keywarden: Invalid app settings (3 problems):\n" +
        '  - KEYWARDEN_CLOUD: "Mars" is not a cloud KeyWarden knows; use one of AzurePublicCloud, AzureChinaCloud, AzureUSGovernment, Custom, Emulator\n' +
        '  - KEYWARDEN_ARM_ENDPOINT: "http://arm.test" must use https\n' +
        "  - KEYWARDEN_POLICY_FILE: is required: set KEYWARDEN_POLICY_FILE (path to the policy JSON), KEYWARDEN_POLICY_JSON (the policy JSON itself) or KEYWARDEN_POLICY_BLOB (a blob in the state store holding it)\n",
    );
    expect(h.collected).toHaveLength(0);
  });

  it("exits 2 on an invalid policy, naming the field", async () => {
    const policy = JSON.parse(POLICY) as { managedHsms: { keys: { rotation: { rotateAfter: string } }[] }[] };
    const key = policy.managedHsms[0]?.keys[1];
    if (key !== undefined) key.rotation.rotateAfter = "P7D";
    const h = harness({ files: { "policy.json": JSON.stringify(policy) } });
    expect(await h.run("inventory")).toBe(2);
    expect(h.stderr).toBe(
      "keywarden: Invalid policy document in policy.json (1 problem):\n" +
        '  - managedHsms[0].keys[1].rotation.rotateAfter: "P7D" is shorter than the 28-day minimum Managed HSM allows between rotations (P28D)\n',
    );
  });

  it("prints policy warnings on stderr", async () => {
    const h = harness({ files: { "policy.json": POLICY.replaceAll('"notifyBefore": "P30D"', '"notifyBefore": "P200D"') } });
    expect(await h.run("inventory", "--json")).toBe(0);
    expect(h.stderr).toContain("warning: managedHsms[0].keys[0].rotation.notifyBefore: ");
    expect(() => JSON.parse(h.stdout) as unknown).not.toThrow();
  });
});

describe("keywarden command line", () => {
  it.each([
    [["frobnicate"], 'unknown command "frobnicate"'],
    [[], "no command given"],
    [["--json"], 'expected a command before the option "--json"'],
    [["inventory", "--jsn"], 'unknown option "--jsn"'],
    [["inventory", "--out"], 'option "--out" needs a value'],
    [["inventory", "--out", "--json"], 'option "--out" needs a value'],
    [["inventory", "--json=yes"], 'option "--json" does not take a value'],
    [["inventory", "--json", "--json"], 'option "--json" is given more than once'],
    [["inventory", "extra"], 'unexpected argument "extra"'],
    [["validate", "--json"], 'option "--json" does not apply to "validate"'],
  ])("%j exits 2 naming the problem, with the usage", async (argv, message) => {
    const h = harness();
    expect(await h.run(...argv)).toBe(2);
    expect(h.stderr.startsWith(`keywarden: ${message}\n\nUsage: keywarden <command> [options]`)).toBe(true);
    expect(h.stdout).toBe("");
    expect(h.collected).toHaveLength(0);
  });

  it.each([["help"], ["--help"], ["inventory", "-h"]])("%j prints the usage and exits 0", async (...argv) => {
    const h = harness();
    expect(await h.run(...argv)).toBe(0);
    expect(h.stdout).toMatch(/^Usage: keywarden <command> \[options\]/);
    expect(h.stdout).toContain("--emulator-ca <file>");
  });

  it("validate checks the configuration without collecting", async () => {
    const h = harness();
    expect(await h.run("validate")).toBe(0);
    expect(h.stdout).toContain("Configuration is valid.");
    expect(h.stdout).toContain("Managed HSMs:  Contoso-PROD-HSM");
    expect(h.stdout).toContain("Keys:          3");
    expect(h.collected).toHaveLength(0);
  });
});
