import { ConfigError } from "../lib/config/errors.js";
import { loadConfig } from "../lib/config/load.js";
import { policyWarnings } from "../lib/config/policyWarnings.js";
import type { KeyWardenConfig } from "../lib/config/types.js";
import { ensureError } from "../lib/errors.js";
import { renderInventory } from "../lib/inventory/render.js";
import type { EstateSnapshot } from "../lib/inventory/snapshot.js";
import { parseArgs, type ParsedArgs } from "./args.js";
import { USAGE } from "./usage.js";
import { UsageError } from "./usageError.js";

export interface CliIo {
  /** Writes text as given (callers add the newlines). */
  stdout(text: string): void;
  stderr(text: string): void;
  /** The environment the CLI was started with; never modified. */
  env: NodeJS.ProcessEnv;
  readFile(path: string): Promise<string>;
  writeFile(path: string, contents: string): Promise<void>;
}

export interface CliDeps {
  /** Collects the estate snapshot (main.ts wires the Azure SDK clients; tests inject a fake). */
  collect(config: KeyWardenConfig): Promise<EstateSnapshot>;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Runs one command line and returns the process exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo, deps: CliDeps): Promise<number> {
  try {
    const args = parseArgs(argv);
    switch (args.command) {
      case "help":
        io.stdout(USAGE);
        return EXIT_OK;
      case "validate":
        return await validate(args, io);
      case "inventory":
        return await inventory(args, io, deps);
    }
  } catch (thrown) {
    const error = ensureError(thrown);
    if (error instanceof UsageError) {
      io.stderr(`keywarden: ${error.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      io.stderr(`keywarden: ${error.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`keywarden: ${error.message}\n`);
    return EXIT_FAILURE;
  }
}

async function inventory(args: ParsedArgs, io: CliIo, deps: CliDeps): Promise<number> {
  const config = await loadCliConfig(args, io);
  const snapshot = await deps.collect(config);
  const json = `${JSON.stringify(snapshot, null, 2)}\n`;

  const out = args.options.get("out");
  if (typeof out === "string") {
    try {
      await io.writeFile(out, json);
    } catch (thrown) {
      throw new Error(`cannot write the snapshot to "${out}": ${ensureError(thrown).message}`, { cause: thrown });
    }
  }

  io.stdout(args.options.has("json") ? json : renderInventory(snapshot, { principalNames: principalNames(config) }));
  // Status lines go to stderr so that stdout stays pure JSON or tables.
  if (typeof out === "string") io.stderr(`Wrote the estate snapshot (JSON) to ${out}\n`);
  if (snapshot.errors.length > 0) {
    const count = snapshot.errors.length;
    const what = count === 1 ? "1 part of the estate could not be read and is" : `${count} parts of the estate could not be read and are`;
    io.stderr(`${what} unknown (see "Collection errors").\n`);
  }
  return EXIT_OK;
}

async function validate(args: ParsedArgs, io: CliIo): Promise<number> {
  const config = await loadCliConfig(args, io);
  const { policy, settings } = config;
  const keys = policy.managedHsms.reduce((count, hsm) => count + hsm.keys.length, 0);
  const source = settings.policySource.kind === "file" ? settings.policySource.path : "KEYWARDEN_POLICY_JSON";
  io.stdout(
    `Configuration is valid.\n` +
      `  Cloud:         ${settings.cloud.name} (${settings.cloud.resourceManager})\n` +
      `  Policy:        ${source}\n` +
      `  Managed HSMs:  ${policy.managedHsms.map((hsm) => hsm.name).join(", ")}\n` +
      `  Keys:          ${keys}\n` +
      `  Subscriptions: ${policy.subscriptions.join(", ")}\n` +
      `  Schedules:     scan "${settings.schedules.scan}", rotation "${settings.schedules.rotation}"\n`,
  );
  return EXIT_OK;
}

/** Options override the environment: build a copy of it, then let settings.ts validate the result. */
async function loadCliConfig(args: ParsedArgs, io: CliIo): Promise<KeyWardenConfig> {
  const config = await loadConfig({ env: cliEnvironment(args, io.env), readFile: (path) => io.readFile(path) });
  for (const warning of policyWarnings(config.policy)) io.stderr(`warning: ${warning.path}: ${warning.message}\n`);
  return config;
}

export function cliEnvironment(args: ParsedArgs, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = { ...env };
  const option = (name: string): string | undefined => {
    const value = args.options.get(name);
    return typeof value === "string" ? value : undefined;
  };
  const policy = option("policy");
  if (policy !== undefined) {
    result.KEYWARDEN_POLICY_FILE = policy;
    delete result.KEYWARDEN_POLICY_JSON;
  }
  const cloud = option("cloud");
  const emulatorEndpoint = option("emulator-endpoint");
  if (cloud !== undefined) {
    result.KEYWARDEN_CLOUD = cloud;
    // An explicit non-emulator cloud wins over emulator settings left in the shell.
    if (cloud.toLowerCase() !== "emulator") {
      for (const name of ["KEYWARDEN_EMULATOR_ENDPOINT", "KEYWARDEN_EMULATOR_CA_FILE", "KEYWARDEN_EMULATOR_CA_PEM", "KEYWARDEN_EMULATOR_PRINCIPAL_ID"]) {
        delete result[name];
      }
    }
  } else if (emulatorEndpoint !== undefined) {
    result.KEYWARDEN_CLOUD = "Emulator";
  }
  const armEndpoint = option("arm-endpoint");
  if (armEndpoint !== undefined) result.KEYWARDEN_ARM_ENDPOINT = armEndpoint;
  if (emulatorEndpoint !== undefined) result.KEYWARDEN_EMULATOR_ENDPOINT = emulatorEndpoint;
  const emulatorCa = option("emulator-ca");
  if (emulatorCa !== undefined) {
    result.KEYWARDEN_EMULATOR_CA_FILE = emulatorCa;
    delete result.KEYWARDEN_EMULATOR_CA_PEM;
  }
  const principalId = option("emulator-principal-id");
  if (principalId !== undefined) result.KEYWARDEN_EMULATOR_PRINCIPAL_ID = principalId;
  return result;
}

function principalNames(config: KeyWardenConfig): Map<string, string> {
  const names = new Map<string, string>();
  for (const hsm of config.policy.managedHsms) {
    for (const principal of [...hsm.keyManagementPrincipals, ...hsm.administratorPrincipals, ...hsm.otherExpectedPrincipals]) {
      if (principal.displayName !== undefined) names.set(principal.principalId.toLowerCase(), principal.displayName);
    }
  }
  return names;
}
