import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError, type ConfigIssue } from "./errors.js";
import { ncrontabProblem } from "./ncrontab.js";
import { Secret } from "./secret.js";
import { closestName } from "./suggest.js";
import type { AppSettings, CloudEndpoints, CloudName, EmulatorSettings, EventsSettings, MonitorSettings, PolicySource, RetrySettings, StateStoreSettings } from "./types.js";

/**
 * App settings: the only place in KeyWarden that reads environment variables. Everything is validated at
 * once and every problem is reported together in one ConfigError, so nothing starts half-configured.
 */

/** Every app setting KeyWarden reads. local.settings.sample.json lists exactly these (a test checks it). */
export const APP_SETTING_NAMES = [
  "KEYWARDEN_CLOUD",
  "KEYWARDEN_ARM_ENDPOINT",
  "KEYWARDEN_ARM_AUDIENCE",
  "KEYWARDEN_AUTHORITY_HOST",
  "KEYWARDEN_MANAGED_HSM_DNS_SUFFIX",
  "KEYWARDEN_EMULATOR_ENDPOINT",
  "KEYWARDEN_EMULATOR_CA_FILE",
  "KEYWARDEN_EMULATOR_CA_PEM",
  "KEYWARDEN_EMULATOR_PRINCIPAL_ID",
  "KEYWARDEN_MANAGED_IDENTITY_CLIENT_ID",
  "KEYWARDEN_PRINCIPAL_ID",
  "KEYWARDEN_POLICY_FILE",
  "KEYWARDEN_POLICY_JSON",
  "KEYWARDEN_POLICY_BLOB",
  "KEYWARDEN_SCAN_SCHEDULE",
  "KEYWARDEN_ROTATION_SCHEDULE",
  "KEYWARDEN_MAX_RETRIES",
  "KEYWARDEN_RETRY_DELAY_MS",
  "KEYWARDEN_MAX_RETRY_DELAY_MS",
  "KEYWARDEN_LRO_POLL_INTERVAL_MS",
  "KEYWARDEN_TRY_TIMEOUT_MS",
  "KEYWARDEN_DEADLINE_MS",
  "KEYWARDEN_MAX_CONCURRENCY",
  "KEYWARDEN_ROTATION_CONCURRENCY",
  "KEYWARDEN_ROTATION_SUBSCRIPTION_CONCURRENCY",
  "KEYWARDEN_STATE_DIR",
  "KEYWARDEN_STATE_BLOB_URL",
  "KEYWARDEN_STATE_BLOB_CONNECTION_STRING",
  "KEYWARDEN_STATE_CONTAINER",
  "KEYWARDEN_ROTATION_MODE",
  "KEYWARDEN_EVENTS_TOPIC_ENDPOINT",
  "KEYWARDEN_EVENTS_SCHEMA",
  "KEYWARDEN_EVENTS_TOPIC_KEY",
  "KEYWARDEN_MONITOR_INGESTION_ENDPOINT",
  "KEYWARDEN_MONITOR_DCR_ID",
  "KEYWARDEN_HISTORY_RETENTION_DAYS",
] as const;

const ROTATION_MODES = ["plan", "execute"] as const;

export type AppSettingName = (typeof APP_SETTING_NAMES)[number];

const SETTING_PREFIX = "KEYWARDEN_";

/** Settings whose values are secrets or key material: never echoed in messages. */
const SECRET_SETTINGS: ReadonlySet<AppSettingName> = new Set([
  "KEYWARDEN_EMULATOR_CA_PEM",
  "KEYWARDEN_POLICY_JSON",
  "KEYWARDEN_STATE_BLOB_CONNECTION_STRING",
  "KEYWARDEN_EVENTS_TOPIC_KEY",
]);

export const CLOUD_NAMES: readonly CloudName[] = ["AzurePublicCloud", "AzureChinaCloud", "AzureUSGovernment", "Custom", "Emulator"];

/** Alternative spellings operators use (the Azure CLI says "AzureCloud"). */
const CLOUD_ALIASES: Readonly<Record<string, CloudName>> = { azurecloud: "AzurePublicCloud", public: "AzurePublicCloud" };

/** Endpoints of the sovereign clouds KeyWarden knows. */
export const KNOWN_CLOUDS: Readonly<Record<"AzurePublicCloud" | "AzureChinaCloud" | "AzureUSGovernment", CloudEndpoints>> = {
  AzurePublicCloud: {
    name: "AzurePublicCloud",
    resourceManager: "https://management.azure.com",
    resourceManagerAudience: "https://management.azure.com",
    authorityHost: "https://login.microsoftonline.com",
    managedHsmDnsSuffix: "managedhsm.azure.net",
  },
  AzureChinaCloud: {
    name: "AzureChinaCloud",
    resourceManager: "https://management.chinacloudapi.cn",
    resourceManagerAudience: "https://management.chinacloudapi.cn",
    authorityHost: "https://login.chinacloudapi.cn",
    managedHsmDnsSuffix: "managedhsm.azure.cn",
  },
  AzureUSGovernment: {
    name: "AzureUSGovernment",
    resourceManager: "https://management.usgovcloudapi.net",
    resourceManagerAudience: "https://management.usgovcloudapi.net",
    authorityHost: "https://login.microsoftonline.us",
    managedHsmDnsSuffix: "managedhsm.usgovcloudapi.net",
  },
};

export const SETTING_DEFAULTS = {
  scanSchedule: "0 0 * * * *",
  rotationSchedule: "0 30 2 * * *",
  maxRetries: 3,
  // The Azure SDK pipeline's own defaults (core-rest-pipeline exponential retry).
  retryDelayInMs: 1_000,
  maxRetryDelayInMs: 64_000,
  lroPollIntervalMs: 2_000,
  tryTimeoutMs: 30_000,
  // For the CLI and the timer; the HTTP trigger runs its scan under a shorter one (it must answer within 230 s).
  deadlineMs: 600_000,
  maxConcurrency: 32,
  // Consumer steps in flight at once in a rotation run, and in one subscription (docs/operations.md, "Rotation
  // throughput"). Per subscription: ARM refills a subscription's write bucket at 10/s per principal and a step
  // takes at least a second (its fresh reads, its write, the polls of a long-running one), so 10 steps write no
  // faster than ARM refills: the 200-token burst is never drawn down, and a subscription with many consumers
  // cannot draw 429s. Overall: a step holds a request slot only while one of its requests is out and sleeps
  // between polls, so 8 steps per slot of KEYWARDEN_MAX_CONCURRENCY's 32 keep the request layer busy without
  // queueing on it.
  rotationConcurrency: 256,
  rotationSubscriptionConcurrency: 10,
  // Relative to the working directory, beside the emulator's CA (.keywarden/ is git-ignored).
  stateDir: ".keywarden/state",
  stateContainer: "keywarden",
  // Stored scans (the evidence history) older than this are deleted; a year and a quarter covers a yearly audit.
  historyRetentionDays: 400,
} as const;

const INTEGER_RANGES = {
  KEYWARDEN_MAX_RETRIES: { min: 0, max: 10 },
  KEYWARDEN_RETRY_DELAY_MS: { min: 0, max: 60_000 },
  KEYWARDEN_MAX_RETRY_DELAY_MS: { min: 0, max: 600_000 },
  KEYWARDEN_LRO_POLL_INTERVAL_MS: { min: 0, max: 60_000 },
  KEYWARDEN_TRY_TIMEOUT_MS: { min: 1, max: 600_000 },
  KEYWARDEN_DEADLINE_MS: { min: 1, max: 86_400_000 },
  KEYWARDEN_MAX_CONCURRENCY: { min: 1, max: 1_024 },
  KEYWARDEN_ROTATION_CONCURRENCY: { min: 1, max: 4_096 },
  // More than ARM's write burst of 200 in one subscription would only queue on its token bucket.
  KEYWARDEN_ROTATION_SUBSCRIPTION_CONCURRENCY: { min: 1, max: 200 },
  KEYWARDEN_HISTORY_RETENTION_DAYS: { min: 1, max: 3_650 },
} as const satisfies Partial<Record<AppSettingName, { min: number; max: number }>>;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Reads a UTF-8 text file synchronously (the emulator CA). Injected in tests and by loadConfig. */
export type ReadTextFileSync = (path: string) => string;

const readTextFileSync: ReadTextFileSync = (path) => readFileSync(path, "utf8");

/**
 * Reads and validates every KEYWARDEN_* app setting. Throws one ConfigError listing each problem as
 * `KEYWARDEN_X: reason`.
 */
export function loadAppSettings(env: NodeJS.ProcessEnv = process.env, readFile: ReadTextFileSync = readTextFileSync): AppSettings {
  const reader = new SettingsReader(env);
  reader.rejectUnknownSettings();

  const cloudName = readCloudName(reader);
  const emulator = readEmulatorSettings(reader, cloudName, readFile);
  const cloud = readCloudEndpoints(reader, cloudName, emulator?.endpoint);
  const managedIdentityClientId = reader.optional("KEYWARDEN_MANAGED_IDENTITY_CLIENT_ID", (value) =>
    GUID.test(value) ? value.toLowerCase() : reader.fail("KEYWARDEN_MANAGED_IDENTITY_CLIENT_ID", "is not a GUID (the client id of a user-assigned managed identity)"),
  );
  const principalId = reader.optional("KEYWARDEN_PRINCIPAL_ID", (value) =>
    GUID.test(value) ? value.toLowerCase() : reader.fail("KEYWARDEN_PRINCIPAL_ID", `"${value}" is not a GUID (the object id of KeyWarden's managed identity, the template's principalId output)`),
  );
  const policySource = readPolicySource(reader);
  const schedules = {
    scan: reader.optional("KEYWARDEN_SCAN_SCHEDULE", (value) => schedule(reader, "KEYWARDEN_SCAN_SCHEDULE", value)) ?? SETTING_DEFAULTS.scanSchedule,
    rotation:
      reader.optional("KEYWARDEN_ROTATION_SCHEDULE", (value) => schedule(reader, "KEYWARDEN_ROTATION_SCHEDULE", value)) ??
      SETTING_DEFAULTS.rotationSchedule,
  };
  const retry = readRetrySettings(reader);
  const lroPollIntervalMs = reader.integer("KEYWARDEN_LRO_POLL_INTERVAL_MS") ?? SETTING_DEFAULTS.lroPollIntervalMs;
  const requests = {
    tryTimeoutMs: reader.integer("KEYWARDEN_TRY_TIMEOUT_MS") ?? SETTING_DEFAULTS.tryTimeoutMs,
    deadlineMs: reader.integer("KEYWARDEN_DEADLINE_MS") ?? SETTING_DEFAULTS.deadlineMs,
    maxConcurrency: reader.integer("KEYWARDEN_MAX_CONCURRENCY") ?? SETTING_DEFAULTS.maxConcurrency,
  };

  const rotationConcurrency = {
    overall: reader.integer("KEYWARDEN_ROTATION_CONCURRENCY") ?? SETTING_DEFAULTS.rotationConcurrency,
    perSubscription: reader.integer("KEYWARDEN_ROTATION_SUBSCRIPTION_CONCURRENCY") ?? SETTING_DEFAULTS.rotationSubscriptionConcurrency,
  };

  const stateStore = readStateStore(reader);
  const rotationMode =
    reader.optional("KEYWARDEN_ROTATION_MODE", (value) => {
      const mode = ROTATION_MODES.find((m) => m === value.toLowerCase());
      return mode ?? reader.fail("KEYWARDEN_ROTATION_MODE", `"${value}" is not a rotation mode; use plan (propose only, the default) or execute`);
    }) ?? "plan";

  const events = readEventsSettings(reader, cloudName);
  const monitor = readMonitorSettings(reader);
  const historyRetentionDays = reader.integer("KEYWARDEN_HISTORY_RETENTION_DAYS") ?? SETTING_DEFAULTS.historyRetentionDays;

  if (reader.issues.length > 0 || cloud === undefined || policySource === undefined || stateStore === undefined) {
    throw new ConfigError("Invalid app settings", reader.issues);
  }
  const settings: AppSettings = { cloud, policySource, schedules, retry, requests, lroPollIntervalMs, rotationConcurrency, stateStore, rotationMode, historyRetentionDays };
  if (emulator !== undefined) settings.emulator = emulator;
  if (events !== undefined) settings.events = events;
  if (monitor !== undefined) settings.monitor = monitor;
  if (managedIdentityClientId !== undefined) settings.managedIdentityClientId = managedIdentityClientId;
  if (principalId !== undefined) settings.principalId = principalId;
  return settings;
}

/**
 * Only the timer schedules, validated, with their defaults. Timer functions need them when they are
 * registered, before (and whether or not) the rest of the configuration is loaded; a bad schedule
 * still stops the app at start with a message naming the setting.
 */
export function loadSchedules(env: NodeJS.ProcessEnv = process.env): AppSettings["schedules"] {
  const reader = new SettingsReader(env);
  const scan = reader.optional("KEYWARDEN_SCAN_SCHEDULE", (value) => schedule(reader, "KEYWARDEN_SCAN_SCHEDULE", value)) ?? SETTING_DEFAULTS.scanSchedule;
  const rotation =
    reader.optional("KEYWARDEN_ROTATION_SCHEDULE", (value) => schedule(reader, "KEYWARDEN_ROTATION_SCHEDULE", value)) ?? SETTING_DEFAULTS.rotationSchedule;
  if (reader.issues.length > 0) throw new ConfigError("Invalid app settings", reader.issues);
  return { scan, rotation };
}

/**
 * Files loadAppSettings will read for these settings (the emulator CA), so that an async caller can read
 * them first and hand loadAppSettings a synchronous reader over the results.
 */
export function appSettingFilePaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const caFile = new SettingsReader(env).value("KEYWARDEN_EMULATOR_CA_FILE");
  return caFile === undefined ? [] : [caFile];
}

/** Collects problems while reading; a blank value counts as unset (the portal leaves blanks behind). */
class SettingsReader {
  readonly issues: ConfigIssue[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  value(name: AppSettingName): string | undefined {
    const raw = this.env[name];
    if (raw === undefined || raw.trim() === "") return undefined;
    // Key material keeps its exact text; everything else is a name, number or URL.
    return SECRET_SETTINGS.has(name) ? raw : raw.trim();
  }

  isSet(name: AppSettingName): boolean {
    return this.value(name) !== undefined;
  }

  /** Records a problem and returns undefined, so validators can `return reader.fail(...)`. */
  fail(path: string, message: string): undefined {
    this.issues.push({ path, message });
    return undefined;
  }

  optional<T>(name: AppSettingName, parse: (value: string) => T | undefined): T | undefined {
    const value = this.value(name);
    return value === undefined ? undefined : parse(value);
  }

  required<T>(name: AppSettingName, why: string, parse: (value: string) => T | undefined): T | undefined {
    const value = this.value(name);
    return value === undefined ? this.fail(name, `is required ${why}`) : parse(value);
  }

  integer(name: keyof typeof INTEGER_RANGES): number | undefined {
    const { min, max } = INTEGER_RANGES[name];
    return this.optional(name, (value) => {
      const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      return parsed >= min && parsed <= max ? parsed : this.fail(name, `"${value}" is not a whole number from ${min} to ${max}`);
    });
  }

  httpsUrl(name: AppSettingName, value: string, options: { originOnly: boolean }): string | undefined {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return this.fail(name, `"${value}" is not a URL (expected e.g. https://management.azure.com)`);
    }
    if (url.protocol !== "https:") return this.fail(name, `"${value}" must use https`);
    // Reporting the URL back would leak an embedded password, so say only what is wrong.
    if (url.username !== "" || url.password !== "") return this.fail(name, "must not contain credentials");
    if (url.search !== "" || url.hash !== "") return this.fail(name, `"${value}" must not have a query or fragment`);
    if (options.originOnly && url.pathname !== "/") return this.fail(name, `"${value}" must be an origin (https://host:port) without a path`);
    return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
  }

  rejectUnknownSettings(): void {
    const known: readonly string[] = APP_SETTING_NAMES;
    for (const name of Object.keys(this.env).sort()) {
      if (!name.toUpperCase().startsWith(SETTING_PREFIX) || known.includes(name)) continue;
      // Compare without the shared prefix, or every name would look close to every other.
      const suffix = closestName(
        name.slice(SETTING_PREFIX.length),
        APP_SETTING_NAMES.map((known) => known.slice(SETTING_PREFIX.length)),
      );
      this.fail(name, `is not a KeyWarden setting${suffix === undefined ? "" : ` (did you mean ${SETTING_PREFIX}${suffix}?)`}`);
    }
  }
}

function readCloudName(reader: SettingsReader): CloudName {
  return (
    reader.optional("KEYWARDEN_CLOUD", (value) => {
      const lower = value.toLowerCase();
      const name = CLOUD_NAMES.find((candidate) => candidate.toLowerCase() === lower) ?? CLOUD_ALIASES[lower];
      return name ?? reader.fail("KEYWARDEN_CLOUD", `"${value}" is not a cloud KeyWarden knows; use one of ${CLOUD_NAMES.join(", ")}`);
    }) ?? "AzurePublicCloud"
  );
}

function readCloudEndpoints(reader: SettingsReader, cloudName: CloudName, emulatorEndpoint: string | undefined): CloudEndpoints | undefined {
  const armEndpoint = reader.optional("KEYWARDEN_ARM_ENDPOINT", (value) => reader.httpsUrl("KEYWARDEN_ARM_ENDPOINT", value, { originOnly: false }));
  const armAudience = reader.optional("KEYWARDEN_ARM_AUDIENCE", (value) => reader.httpsUrl("KEYWARDEN_ARM_AUDIENCE", value, { originOnly: false }));
  const authorityHost = reader.optional("KEYWARDEN_AUTHORITY_HOST", (value) =>
    reader.httpsUrl("KEYWARDEN_AUTHORITY_HOST", value, { originOnly: false }),
  );
  const dnsSuffix = reader.optional("KEYWARDEN_MANAGED_HSM_DNS_SUFFIX", (value) => {
    const suffix = value.replace(/^\./, "").toLowerCase();
    return DNS_NAME.test(suffix)
      ? suffix
      : reader.fail("KEYWARDEN_MANAGED_HSM_DNS_SUFFIX", `"${value}" is not a DNS suffix (expected e.g. managedhsm.azure.net)`);
  });

  if (cloudName === "Custom") {
    const why = "when KEYWARDEN_CLOUD=Custom";
    if (!reader.isSet("KEYWARDEN_ARM_ENDPOINT")) reader.fail("KEYWARDEN_ARM_ENDPOINT", `is required ${why}`);
    if (!reader.isSet("KEYWARDEN_AUTHORITY_HOST")) reader.fail("KEYWARDEN_AUTHORITY_HOST", `is required ${why}`);
    if (!reader.isSet("KEYWARDEN_MANAGED_HSM_DNS_SUFFIX")) reader.fail("KEYWARDEN_MANAGED_HSM_DNS_SUFFIX", `is required ${why}`);
    if (armEndpoint === undefined || authorityHost === undefined || dnsSuffix === undefined) return undefined;
    return {
      name: "Custom",
      resourceManager: armEndpoint,
      resourceManagerAudience: armAudience ?? armEndpoint,
      authorityHost,
      managedHsmDnsSuffix: dnsSuffix,
    };
  }

  let base: CloudEndpoints;
  if (cloudName === "Emulator") {
    // ARM is served by the emulator; the data-plane names stay public-cloud so the real challenge resource
    // (https://managedhsm.azure.net) matches the host, and tokens are minted locally.
    if (reader.isSet("KEYWARDEN_ARM_ENDPOINT")) {
      reader.fail("KEYWARDEN_ARM_ENDPOINT", "is not used when KEYWARDEN_CLOUD=Emulator: ARM is served at KEYWARDEN_EMULATOR_ENDPOINT");
    }
    if (emulatorEndpoint === undefined) return undefined;
    base = { ...KNOWN_CLOUDS.AzurePublicCloud, name: "Emulator", resourceManager: emulatorEndpoint };
  } else {
    base = KNOWN_CLOUDS[cloudName];
  }
  return {
    name: base.name,
    resourceManager: armEndpoint ?? base.resourceManager,
    resourceManagerAudience: armAudience ?? base.resourceManagerAudience,
    authorityHost: authorityHost ?? base.authorityHost,
    managedHsmDnsSuffix: dnsSuffix ?? base.managedHsmDnsSuffix,
  };
}

const EMULATOR_SETTINGS = [
  "KEYWARDEN_EMULATOR_ENDPOINT",
  "KEYWARDEN_EMULATOR_CA_FILE",
  "KEYWARDEN_EMULATOR_CA_PEM",
  "KEYWARDEN_EMULATOR_PRINCIPAL_ID",
] as const satisfies readonly AppSettingName[];

function readEmulatorSettings(reader: SettingsReader, cloudName: CloudName, readFile: ReadTextFileSync): EmulatorSettings | undefined {
  if (cloudName !== "Emulator") {
    for (const name of EMULATOR_SETTINGS) {
      if (reader.isSet(name)) reader.fail(name, `is only used when KEYWARDEN_CLOUD=Emulator (the cloud is ${cloudName})`);
    }
    return undefined;
  }
  const why = "when KEYWARDEN_CLOUD=Emulator";
  const endpoint = reader.required("KEYWARDEN_EMULATOR_ENDPOINT", why, (value) =>
    reader.httpsUrl("KEYWARDEN_EMULATOR_ENDPOINT", value, { originOnly: true }),
  );
  const principalId = reader.required("KEYWARDEN_EMULATOR_PRINCIPAL_ID", why, (value) =>
    GUID.test(value)
      ? value.toLowerCase()
      : reader.fail("KEYWARDEN_EMULATOR_PRINCIPAL_ID", `"${value}" is not a GUID (the object id the emulator's token carries)`),
  );

  let caPem: string | undefined;
  const caFile = reader.value("KEYWARDEN_EMULATOR_CA_FILE");
  const inlinePem = reader.value("KEYWARDEN_EMULATOR_CA_PEM");
  if (caFile !== undefined && inlinePem !== undefined) {
    reader.fail("KEYWARDEN_EMULATOR_CA_FILE", "set either KEYWARDEN_EMULATOR_CA_FILE or KEYWARDEN_EMULATOR_CA_PEM, not both");
  } else if (caFile !== undefined) {
    try {
      caPem = certificatePem(reader, "KEYWARDEN_EMULATOR_CA_FILE", readFile(caFile), `"${caFile}"`);
    } catch (error) {
      reader.fail("KEYWARDEN_EMULATOR_CA_FILE", `cannot read "${caFile}" (${describeFileError(error)})`);
    }
  } else if (inlinePem !== undefined) {
    caPem = certificatePem(reader, "KEYWARDEN_EMULATOR_CA_PEM", inlinePem, "the value");
  } else {
    reader.fail("KEYWARDEN_EMULATOR_CA_FILE", `is required ${why} (or KEYWARDEN_EMULATOR_CA_PEM): the emulator's CA is trusted explicitly, never by disabling TLS checks`);
  }

  if (endpoint === undefined || principalId === undefined || caPem === undefined) return undefined;
  return { endpoint, caPem, principalId };
}

function certificatePem(reader: SettingsReader, name: AppSettingName, text: string, what: string): string | undefined {
  // Never quote the content: say only what is missing.
  return /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(text)
    ? text
    : reader.fail(name, `${what} does not contain a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)`);
}

function describeFileError(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") return error.code;
  return error instanceof Error ? error.message : String(error);
}

const POLICY_SOURCE_SETTINGS = ["KEYWARDEN_POLICY_FILE", "KEYWARDEN_POLICY_JSON", "KEYWARDEN_POLICY_BLOB"] as const satisfies readonly AppSettingName[];

/** A blob name in the state store: relative, `/`-separated, no empty, `.` or `..` segment, no backslash or control character (Blob Storage allows 1,024 characters). */
function isStoredPolicyName(name: string): boolean {
  if (name.length > 1024 || name.includes("\\")) return false;
  if ([...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return false;
  return name.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
}

function readPolicySource(reader: SettingsReader): PolicySource | undefined {
  const chosen = POLICY_SOURCE_SETTINGS.filter((name) => reader.isSet(name));
  if (chosen.length > 1) {
    return reader.fail(chosen[0]!, `set only one of ${chosen.join(" and ")}: each is a whole policy document, and KeyWarden will not guess which one you meant`);
  }
  const path = reader.value("KEYWARDEN_POLICY_FILE");
  if (path !== undefined) return { kind: "file", path };
  const json = reader.value("KEYWARDEN_POLICY_JSON");
  if (json !== undefined) return { kind: "inline", json };
  const blob = reader.value("KEYWARDEN_POLICY_BLOB");
  if (blob !== undefined) {
    return isStoredPolicyName(blob)
      ? { kind: "store", name: blob }
      : reader.fail("KEYWARDEN_POLICY_BLOB", `"${blob}" is not a blob name in the state store (relative, "/"-separated, no empty, "." or ".." part, e.g. policy/keywarden.policy.json)`);
  }
  return reader.fail(
    "KEYWARDEN_POLICY_FILE",
    "is required: set KEYWARDEN_POLICY_FILE (path to the policy JSON), KEYWARDEN_POLICY_JSON (the policy JSON itself) or KEYWARDEN_POLICY_BLOB (a blob in the state store holding it)",
  );
}

function schedule(reader: SettingsReader, name: AppSettingName, value: string): string | undefined {
  const problem = ncrontabProblem(value);
  return problem === undefined ? value.split(/\s+/).join(" ") : reader.fail(name, problem);
}

const STATE_STORE_SETTINGS = ["KEYWARDEN_STATE_DIR", "KEYWARDEN_STATE_BLOB_URL", "KEYWARDEN_STATE_BLOB_CONNECTION_STRING"] as const satisfies readonly AppSettingName[];

/** Blob container names: 3–63 lower-case letters, digits and single hyphens, starting and ending alphanumeric. */
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$/;

function readStateStore(reader: SettingsReader): StateStoreSettings | undefined {
  const chosen = STATE_STORE_SETTINGS.filter((name) => reader.isSet(name));
  if (chosen.length > 1) {
    return reader.fail(chosen[0]!, `set only one of ${chosen.join(" and ")}: each names a different state store`);
  }
  const container = reader.optional("KEYWARDEN_STATE_CONTAINER", (value) =>
    CONTAINER_NAME.test(value)
      ? value
      : reader.fail("KEYWARDEN_STATE_CONTAINER", `"${value}" is not a blob container name (3-63 lower-case letters, digits and single hyphens)`),
  );
  if (reader.isSet("KEYWARDEN_STATE_CONTAINER") && chosen[0] !== "KEYWARDEN_STATE_BLOB_CONNECTION_STRING") {
    reader.fail("KEYWARDEN_STATE_CONTAINER", "is only used with KEYWARDEN_STATE_BLOB_CONNECTION_STRING (KEYWARDEN_STATE_BLOB_URL names its container in the URL)");
  }

  if (chosen[0] === "KEYWARDEN_STATE_BLOB_URL") {
    const url = reader.optional("KEYWARDEN_STATE_BLOB_URL", (value) => reader.httpsUrl("KEYWARDEN_STATE_BLOB_URL", value, { originOnly: false }));
    if (url === undefined) return undefined;
    if (!/^https:\/\/[^/]+\/[^/]+$/.test(url)) {
      return reader.fail("KEYWARDEN_STATE_BLOB_URL", `"${url}" is not a container URL (expected https://<account>.blob.core.windows.net/<container>)`);
    }
    return { kind: "blob", containerUrl: url };
  }
  if (chosen[0] === "KEYWARDEN_STATE_BLOB_CONNECTION_STRING") {
    const text = reader.value("KEYWARDEN_STATE_BLOB_CONNECTION_STRING")!;
    // Never quote it: say only what is missing.
    const keys = new Set(text.split(";").map((part) => part.split("=")[0]!.trim().toLowerCase()));
    const usable = keys.has("usedevelopmentstorage") || (keys.has("accountname") && (keys.has("accountkey") || keys.has("sharedaccesssignature"))) || (keys.has("blobendpoint") && keys.has("sharedaccesssignature"));
    if (!usable) {
      return reader.fail("KEYWARDEN_STATE_BLOB_CONNECTION_STRING", "is not a storage connection string (expected AccountName=…;AccountKey=…, a SharedAccessSignature, or UseDevelopmentStorage=true)");
    }
    if (container === undefined && reader.isSet("KEYWARDEN_STATE_CONTAINER")) return undefined;
    return { kind: "blobConnectionString", connectionString: new Secret(text), container: container ?? SETTING_DEFAULTS.stateContainer };
  }
  return { kind: "directory", path: resolve(reader.value("KEYWARDEN_STATE_DIR") ?? SETTING_DEFAULTS.stateDir) };
}

const EVENT_SCHEMAS = ["EventGridSchema", "CloudEventSchemaV1_0"] as const;

/**
 * The Event Grid custom topic KeyWarden publishes to (KEYWARDEN_EVENTS_TOPIC_ENDPOINT; unset: no events). In Azure
 * it publishes with its managed identity (EventGrid Data Sender on the topic); an access key is accepted only
 * against the emulator, so that no long-lived topic key sits in a production app's settings.
 */
function readEventsSettings(reader: SettingsReader, cloudName: CloudName | undefined): EventsSettings | undefined {
  const schema =
    reader.optional("KEYWARDEN_EVENTS_SCHEMA", (value) => {
      const known = EVENT_SCHEMAS.find((s) => s.toLowerCase() === value.toLowerCase() || (s === "CloudEventSchemaV1_0" && value.toLowerCase() === "cloudevents"));
      return known ?? reader.fail("KEYWARDEN_EVENTS_SCHEMA", `"${value}" is not an Event Grid input schema; use EventGridSchema (the default) or CloudEventSchemaV1_0, as the topic was created with`);
    }) ?? "EventGridSchema";
  const key = reader.value("KEYWARDEN_EVENTS_TOPIC_KEY");
  if (key !== undefined && cloudName !== undefined && cloudName !== "Emulator") {
    reader.fail("KEYWARDEN_EVENTS_TOPIC_KEY", "a topic access key is accepted only against the emulator (KEYWARDEN_CLOUD=Emulator); in Azure KeyWarden publishes with its managed identity: give it EventGrid Data Sender on the topic and remove this setting");
  }
  const endpoint = reader.optional("KEYWARDEN_EVENTS_TOPIC_ENDPOINT", (value) => {
    const url = reader.httpsUrl("KEYWARDEN_EVENTS_TOPIC_ENDPOINT", value, { originOnly: false });
    if (url === undefined) return undefined;
    const u = new URL(url);
    if (!/^\/api\/events\/?$/i.test(u.pathname) || u.search !== "") {
      return reader.fail("KEYWARDEN_EVENTS_TOPIC_ENDPOINT", `"${url}" is not a topic endpoint (expected https://<topic>.<region>-1.eventgrid.azure.net/api/events, as the topic's Overview shows it)`);
    }
    return `${u.origin}/api/events`;
  });
  if (endpoint === undefined) {
    for (const name of ["KEYWARDEN_EVENTS_SCHEMA", "KEYWARDEN_EVENTS_TOPIC_KEY"] as const) {
      if (reader.isSet(name) && !reader.isSet("KEYWARDEN_EVENTS_TOPIC_ENDPOINT")) reader.fail(name, "is only used with KEYWARDEN_EVENTS_TOPIC_ENDPOINT (the topic to publish to)");
    }
    return undefined;
  }
  return { topicEndpoint: endpoint, schema, ...(key !== undefined ? { topicKey: new Secret(key) } : {}) };
}

const DCR_IMMUTABLE_ID = /^dcr-[0-9a-f]{32}$/i;

/**
 * Azure Monitor Logs Ingestion: the data collection endpoint (or the rule's own logs ingestion endpoint) and the
 * rule's immutable id. Both or neither; unset, alerts go to the function log only.
 */
function readMonitorSettings(reader: SettingsReader): MonitorSettings | undefined {
  const endpoint = reader.optional("KEYWARDEN_MONITOR_INGESTION_ENDPOINT", (value) => reader.httpsUrl("KEYWARDEN_MONITOR_INGESTION_ENDPOINT", value, { originOnly: true }));
  const ruleId = reader.optional("KEYWARDEN_MONITOR_DCR_ID", (value) =>
    DCR_IMMUTABLE_ID.test(value) ? value.toLowerCase() : reader.fail("KEYWARDEN_MONITOR_DCR_ID", `"${value}" is not a data collection rule's immutable id (dcr- and 32 hex digits, as the rule's JSON view shows it)`),
  );
  const setEndpoint = reader.isSet("KEYWARDEN_MONITOR_INGESTION_ENDPOINT");
  const setRule = reader.isSet("KEYWARDEN_MONITOR_DCR_ID");
  if (setEndpoint !== setRule) {
    return reader.fail(setEndpoint ? "KEYWARDEN_MONITOR_DCR_ID" : "KEYWARDEN_MONITOR_INGESTION_ENDPOINT", `is required with ${setEndpoint ? "KEYWARDEN_MONITOR_INGESTION_ENDPOINT" : "KEYWARDEN_MONITOR_DCR_ID"} (alerts need both the endpoint and the rule)`);
  }
  if (endpoint === undefined || ruleId === undefined) return undefined;
  return { ingestionEndpoint: endpoint, ruleId };
}

function readRetrySettings(reader: SettingsReader): RetrySettings {
  const retry: RetrySettings = {
    maxRetries: reader.integer("KEYWARDEN_MAX_RETRIES") ?? SETTING_DEFAULTS.maxRetries,
    retryDelayInMs: reader.integer("KEYWARDEN_RETRY_DELAY_MS") ?? SETTING_DEFAULTS.retryDelayInMs,
    maxRetryDelayInMs: reader.integer("KEYWARDEN_MAX_RETRY_DELAY_MS") ?? SETTING_DEFAULTS.maxRetryDelayInMs,
  };
  if (retry.maxRetryDelayInMs < retry.retryDelayInMs) {
    const explicit = reader.isSet("KEYWARDEN_MAX_RETRY_DELAY_MS") ? "KEYWARDEN_MAX_RETRY_DELAY_MS" : "KEYWARDEN_RETRY_DELAY_MS";
    reader.fail(
      explicit,
      `the maximum retry delay (${retry.maxRetryDelayInMs} ms) is shorter than the initial retry delay (${retry.retryDelayInMs} ms)`,
    );
  }
  return retry;
}
