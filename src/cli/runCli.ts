import { systemClock, type Clock } from "../lib/clock.js";
import { REGISTERED_CONTROLS } from "../lib/compliance/checks/index.js";
import { loadControls } from "../lib/compliance/registry.js";
import { atLeast, SEVERITIES } from "../lib/compliance/types.js";
import { ConfigError } from "../lib/config/errors.js";
import { forDisplay } from "../lib/report/forDisplay.js";
import { REPORT_FORMATS, renderReport } from "../lib/report/formats.js";
import { describePolicyOrigin, loadConfig } from "../lib/config/load.js";
import { policyWarnings } from "../lib/config/policyWarnings.js";
import type { KeyWardenConfig } from "../lib/config/types.js";
import { ensureError } from "../lib/errors.js";
import { renderInventory } from "../lib/inventory/render.js";
import { runScan } from "../lib/scan/runScan.js";
import { undeliveredAlerts } from "../lib/alerts/deliverAlerts.js";
import { recordedScanSummary, scanAndRecord } from "../lib/scan/scanAndRecord.js";
import { lockOwner } from "../lib/state/lockOwner.js";
import { createStateStore } from "../lib/state/createStateStore.js";
import { readStoredPolicy } from "../lib/state/storedPolicy.js";
import { historyCommand } from "./historyCommand.js";
import { setupRolesCommand } from "./setupRolesCommand.js";
import type { AzureClients } from "../lib/azure/clients.js";
import { loadReportHistory } from "../lib/history/reportHistory.js";
import type { ReportExtras } from "../lib/report/reportHistory.js";
import { readSnapshot, SnapshotError } from "../lib/estate/readSnapshot.js";
import type { EstateSnapshot } from "../lib/estate/snapshot.js";
import { parseArgs, type ParsedArgs } from "./args.js";
import { planCommand, rotateCommand, runsCommand, verifyCommand, type RotationIo, type RotationServices } from "./rotationCommands.js";
import { USAGE } from "./usage.js";
import { UsageError } from "./usageError.js";

export interface CliIo extends Pick<RotationIo, "isTerminal" | "prompt"> {
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
  /** Azure clients and the state store for plan/rotate/verify/runs (main.ts wires the real ones). */
  services?(config: KeyWardenConfig): Promise<RotationServices>;
  /** Azure clients alone (setup-roles; main.ts wires the real ones). */
  clients?(config: KeyWardenConfig): Promise<AzureClients>;
  /** Evaluation time for `scan` (default: the system clock). */
  clock?: Clock;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** `scan --fail-on`: a FAIL or UNKNOWN result at or above the threshold exists. */
export const EXIT_FINDINGS = 3;

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
      case "scan":
        return await scan(args, io, deps);
      case "plan":
      case "rotate":
      case "verify":
      case "runs":
        return await rotation(args, args.command, io, deps);
      case "history":
        return await history(args, io, deps);
      case "setup-roles":
        return await setupRoles(args, io, deps);
    }
  } catch (thrown) {
    const error = ensureError(thrown);
    if (error instanceof UsageError) {
      io.stderr(`keywarden: ${error.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError || error instanceof SnapshotError) {
      io.stderr(`keywarden: ${error.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`keywarden: ${error.message}\n`);
    return EXIT_FAILURE;
  }
}

const ROTATION_COMMANDS = { plan: planCommand, rotate: rotateCommand, verify: verifyCommand, runs: runsCommand } as const;

async function rotation(args: ParsedArgs, command: keyof typeof ROTATION_COMMANDS, io: CliIo, deps: CliDeps): Promise<number> {
  const config = await loadCliConfig(args, io);
  const snapshotFile = args.options.get("snapshot");
  const collect = typeof snapshotFile === "string" ? async () => readSnapshot(await readInput(io, snapshotFile, "snapshot"), snapshotFile) : () => deps.collect(config);
  const services = () => servicesOf(deps, config, command);
  return ROTATION_COMMANDS[command](args, io, { config, collect, services, clock: deps.clock ?? systemClock });
}

async function history(args: ParsedArgs, io: CliIo, deps: CliDeps): Promise<number> {
  const config = await loadCliConfig(args, io);
  return historyCommand(args, io, { services: () => servicesOf(deps, config, "history") });
}

async function setupRoles(args: ParsedArgs, io: CliIo, deps: CliDeps): Promise<number> {
  const config = await loadCliConfig(args, io);
  const clients = deps.clients;
  if (!clients) throw new Error('"setup-roles" needs the Azure clients, which this build does not wire');
  return setupRolesCommand(args, io, { config, clients: () => clients(config) });
}

function servicesOf(deps: CliDeps, config: KeyWardenConfig, command: string): Promise<RotationServices> {
  if (!deps.services) throw new Error(`"${command}" needs the Azure clients and the state store, which this build does not wire`);
  return deps.services(config);
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

async function scan(args: ParsedArgs, io: CliIo, deps: CliDeps): Promise<number> {
  const format = choice(args, "format", REPORT_FORMATS, "md");
  const minSeverity = choice(args, "min-severity", SEVERITIES, "info");
  const failOn = args.options.has("fail-on") ? choice(args, "fail-on", SEVERITIES, "info") : undefined;
  const snapshotFile = args.options.get("snapshot");
  const emit = args.options.has("emit");
  // The history is the estate as collected for it: a saved snapshot, possibly edited, is not evidence.
  if (emit && typeof snapshotFile === "string") throw new UsageError('--emit records a scan collected now; it does not take --snapshot');
  const config = await loadCliConfig(args, io);
  // A saved snapshot is checked against the schema (and migrated) before any control sees it.
  const collect = typeof snapshotFile === "string" ? async () => readSnapshot(await readInput(io, snapshotFile, "snapshot"), snapshotFile) : deps.collect;
  const scanDeps = { config, collect, controls: loadControls(REGISTERED_CONTROLS), clock: deps.clock ?? systemClock };
  let undelivered: string | undefined;
  let report;
  let extras: ReportExtras = { policy: config.policy };
  if (emit) {
    const { store, logsSink } = await servicesOf(deps, config, "scan --emit");
    const round = await scanAndRecord({ ...scanDeps, store, ...(logsSink ? { sink: logsSink } : {}), log: (line) => io.stderr(`${line}\n`), owner: lockOwner(`cli-${process.pid}`), retentionDays: config.settings.historyRetentionDays });
    report = round.report;
    extras = { ...extras, snapshot: round.snapshot, history: await loadReportHistory(store, round.recorded.scanId) };
    io.stderr(`${recordedScanSummary(round, { logOnly: "printed above only: KEYWARDEN_MONITOR_* are not set" })} History: ${store.description}.\n`);
    undelivered = undeliveredAlerts(round.delivery);
  } else {
    const scanned = await runScan(scanDeps);
    report = scanned.report;
    extras = { ...extras, snapshot: scanned.snapshot };
  }
  // The gate below judges the whole report; --min-severity narrows only what is rendered.
  const rendered = renderReport(forDisplay(report, minSeverity), format, extras);

  const out = args.options.get("out");
  const s = report.summary.results;
  const summary = `${s.FAIL} failed, ${s.UNKNOWN} unknown, ${s.PASS} passed (${report.controls.length} controls; snapshot ${report.snapshot.sha256.slice(0, 12)})\n`;
  if (typeof out === "string") {
    try {
      await io.writeFile(out, rendered.body);
    } catch (thrown) {
      throw new Error(`cannot write the report to "${out}": ${ensureError(thrown).message}`, { cause: thrown });
    }
    io.stdout(summary);
    io.stderr(`Wrote the compliance report (${format}) to ${out}\n`);
  } else {
    io.stdout(rendered.body.endsWith("\n") ? rendered.body : `${rendered.body}\n`);
    io.stderr(summary);
  }
  if (undelivered) io.stderr(`${undelivered}\n`);
  if (failOn === undefined) return undelivered ? EXIT_FAILURE : EXIT_OK;
  const gating = report.controls.flatMap((c) => c.results).filter((r) => r.status !== "PASS" && atLeast(r.severity, failOn));
  if (gating.length === 0) return undelivered ? EXIT_FAILURE : EXIT_OK;
  io.stderr(`${gating.length} result(s) at or above "${failOn}" failed or could not be checked (--fail-on ${failOn}).\n`);
  return EXIT_FINDINGS;
}

async function readInput(io: CliIo, path: string, what: string): Promise<string> {
  try {
    return await io.readFile(path);
  } catch (thrown) {
    throw new SnapshotError(`cannot read the ${what} "${path}": ${ensureError(thrown).message}`);
  }
}

function choice<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[], fallback: T): T {
  const value = args.options.get(name);
  if (value === undefined) return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`option "--${name}" must be one of ${allowed.join(", ")} (got "${String(value)}")`);
}

async function validate(args: ParsedArgs, io: CliIo): Promise<number> {
  const config = await loadCliConfig(args, io);
  const { policy, settings } = config;
  const keys = policy.managedHsms.reduce((count, hsm) => count + hsm.keys.length, 0);
  const source = describePolicyOrigin(config.policyOrigin);
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
  const config = await loadConfig({
    env: cliEnvironment(args, io.env),
    readFile: (path) => io.readFile(path),
    readStoredPolicy: (settings, name) => readStoredPolicy(createStateStore(settings, systemClock), name),
  });
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
    delete result.KEYWARDEN_POLICY_BLOB;
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
