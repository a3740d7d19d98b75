import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/lib/config/errors.js";
import { appSettingFilePaths, loadAppSettings } from "../../src/lib/config/settings.js";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
const BASE = { KEYWARDEN_POLICY_FILE: "policy.json" };
const EMULATOR = {
  ...BASE,
  KEYWARDEN_CLOUD: "Emulator",
  KEYWARDEN_EMULATOR_ENDPOINT: "https://127.0.0.1:8443",
  KEYWARDEN_EMULATOR_CA_PEM: PEM,
  KEYWARDEN_EMULATOR_PRINCIPAL_ID: "a1000000-0000-4000-8000-000000000003",
};

const noFiles = (path: string): string => {
  throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" });
};

function settingsError(env: NodeJS.ProcessEnv, readFile = noFiles): ConfigError {
  try {
    loadAppSettings(env, readFile);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected loadAppSettings to throw");
}

const lines = (error: ConfigError): string[] => error.issues.map((issue) => `${issue.path}: ${issue.message}`);

describe("loadAppSettings", () => {
  it("uses public-cloud endpoints and the documented defaults", () => {
    expect(loadAppSettings(BASE, noFiles)).toEqual({
      cloud: {
        name: "AzurePublicCloud",
        resourceManager: "https://management.azure.com",
        resourceManagerAudience: "https://management.azure.com",
        authorityHost: "https://login.microsoftonline.com",
        managedHsmDnsSuffix: "managedhsm.azure.net",
      },
      policySource: { kind: "file", path: "policy.json" },
      schedules: { scan: "0 0 * * * *", rotation: "0 30 2 * * *" },
      retry: { maxRetries: 3, retryDelayInMs: 1000, maxRetryDelayInMs: 64000 },
      requests: { tryTimeoutMs: 30000, deadlineMs: 600000, maxConcurrency: 32 },
      lroPollIntervalMs: 2000,
      rotationConcurrency: { overall: 256, perSubscription: 10 },
      stateStore: { kind: "directory", path: resolve(".keywarden/state") },
      rotationMode: "plan",
      historyRetentionDays: 400,
    });
  });

  it("reads the history's retention in days and refuses a value out of range", () => {
    expect(loadAppSettings({ ...BASE, KEYWARDEN_HISTORY_RETENTION_DAYS: "30" }, noFiles).historyRetentionDays).toBe(30);
    expect(lines(settingsError({ ...BASE, KEYWARDEN_HISTORY_RETENTION_DAYS: "0" }))).toEqual([expect.stringMatching(/^KEYWARDEN_HISTORY_RETENTION_DAYS: .*1.*3650/)]);
    expect(lines(settingsError({ ...BASE, KEYWARDEN_HISTORY_RETENTION_DAYS: "a year" }))).toEqual([expect.stringMatching(/^KEYWARDEN_HISTORY_RETENTION_DAYS: /)]);
  });

  it("reads the rotation's concurrency, in the run and per subscription", () => {
    expect(loadAppSettings({ ...BASE, KEYWARDEN_ROTATION_CONCURRENCY: "64", KEYWARDEN_ROTATION_SUBSCRIPTION_CONCURRENCY: "4" }, noFiles).rotationConcurrency).toEqual({ overall: 64, perSubscription: 4 });
  });

  it.each([
    ["KEYWARDEN_ROTATION_CONCURRENCY", "0", '"0" is not a whole number from 1 to 4096'],
    ["KEYWARDEN_ROTATION_CONCURRENCY", "-8", '"-8" is not a whole number from 1 to 4096'],
    ["KEYWARDEN_ROTATION_CONCURRENCY", "eight", '"eight" is not a whole number from 1 to 4096'],
    ["KEYWARDEN_ROTATION_CONCURRENCY", "2.5", '"2.5" is not a whole number from 1 to 4096'],
    ["KEYWARDEN_ROTATION_SUBSCRIPTION_CONCURRENCY", "0", '"0" is not a whole number from 1 to 200'],
    ["KEYWARDEN_ROTATION_SUBSCRIPTION_CONCURRENCY", "-1", '"-1" is not a whole number from 1 to 200'],
    ["KEYWARDEN_ROTATION_SUBSCRIPTION_CONCURRENCY", "ten", '"ten" is not a whole number from 1 to 200'],
    ["KEYWARDEN_ROTATION_SUBSCRIPTION_CONCURRENCY", "201", '"201" is not a whole number from 1 to 200'],
  ])("refuses %s=%s, naming the setting", (name, value, message) => {
    expect(lines(settingsError({ ...BASE, [name]: value }))).toEqual([`${name}: ${message}`]);
  });

  it.each([
    ["AzureChinaCloud", "https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn", "managedhsm.azure.cn"],
    ["AzureUSGovernment", "https://management.usgovcloudapi.net", "https://login.microsoftonline.us", "managedhsm.usgovcloudapi.net"],
    ["azurecloud", "https://management.azure.com", "https://login.microsoftonline.com", "managedhsm.azure.net"],
  ])("knows the endpoints of %s", (cloud, arm, authority, suffix) => {
    const { cloud: endpoints } = loadAppSettings({ ...BASE, KEYWARDEN_CLOUD: cloud }, noFiles);
    expect(endpoints).toMatchObject({ resourceManager: arm, resourceManagerAudience: arm, authorityHost: authority, managedHsmDnsSuffix: suffix });
  });

  it("applies endpoint overrides and requires them for a custom cloud", () => {
    const overridden = loadAppSettings({ ...BASE, KEYWARDEN_ARM_ENDPOINT: "https://arm.example.test/", KEYWARDEN_MANAGED_HSM_DNS_SUFFIX: ".HSM.Example.Test" }, noFiles);
    expect(overridden.cloud).toMatchObject({ name: "AzurePublicCloud", resourceManager: "https://arm.example.test", managedHsmDnsSuffix: "hsm.example.test" });

    expect(lines(settingsError({ ...BASE, KEYWARDEN_CLOUD: "Custom", KEYWARDEN_ARM_ENDPOINT: "https://arm.stack.test" }))).toEqual([
      "KEYWARDEN_AUTHORITY_HOST: is required when KEYWARDEN_CLOUD=Custom",
      "KEYWARDEN_MANAGED_HSM_DNS_SUFFIX: is required when KEYWARDEN_CLOUD=Custom",
    ]);
    const custom = loadAppSettings(
      {
        ...BASE,
        KEYWARDEN_CLOUD: "Custom",
        KEYWARDEN_ARM_ENDPOINT: "https://arm.stack.test",
        KEYWARDEN_AUTHORITY_HOST: "https://login.stack.test/adfs",
        KEYWARDEN_MANAGED_HSM_DNS_SUFFIX: "hsm.stack.test",
      },
      noFiles,
    );
    expect(custom.cloud).toEqual({
      name: "Custom",
      resourceManager: "https://arm.stack.test",
      resourceManagerAudience: "https://arm.stack.test",
      authorityHost: "https://login.stack.test/adfs",
      managedHsmDnsSuffix: "hsm.stack.test",
    });
  });

  it("configures the emulator with an inline CA or a CA file", () => {
    const inline = loadAppSettings(EMULATOR, noFiles);
    expect(inline.cloud).toMatchObject({ name: "Emulator", resourceManager: "https://127.0.0.1:8443", managedHsmDnsSuffix: "managedhsm.azure.net" });
    expect(inline.emulator).toEqual({ endpoint: "https://127.0.0.1:8443", caPem: PEM, principalId: "a1000000-0000-4000-8000-000000000003" });

    const fromFile = { ...EMULATOR, KEYWARDEN_EMULATOR_CA_PEM: undefined, KEYWARDEN_EMULATOR_CA_FILE: "ca.pem" };
    expect(appSettingFilePaths(fromFile)).toEqual(["ca.pem"]);
    expect(loadAppSettings(fromFile, (path) => (path === "ca.pem" ? PEM : noFiles(path))).emulator?.caPem).toBe(PEM);
    expect(lines(settingsError(fromFile))).toEqual(['KEYWARDEN_EMULATOR_CA_FILE: cannot read "ca.pem" (ENOENT)']);
  });

  it("never echoes the CA PEM", () => {
    // Looks like key material (assembled here so no key-shaped text sits in the repository).
    const armour = (edge: string) => `-----${edge} ${"PRIVATE"} KEY-----`;
    const secret = `${armour("BEGIN")}\nTOP-SECRET\n${armour("END")}`;
    const error = settingsError({ ...EMULATOR, KEYWARDEN_EMULATOR_CA_PEM: secret });
    expect(lines(error)).toEqual([
      "KEYWARDEN_EMULATOR_CA_PEM: the value does not contain a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)",
    ]);
    expect(error.message).not.toContain("TOP-SECRET");
    const fileError = settingsError({ ...EMULATOR, KEYWARDEN_EMULATOR_CA_PEM: undefined, KEYWARDEN_EMULATOR_CA_FILE: "key.pem" }, () => secret);
    expect(fileError.message).not.toContain("TOP-SECRET");
  });

  it("rejects emulator settings outside the emulator cloud and missing ones inside it", () => {
    expect(lines(settingsError({ ...BASE, KEYWARDEN_EMULATOR_ENDPOINT: "https://127.0.0.1:1" }))).toEqual([
      "KEYWARDEN_EMULATOR_ENDPOINT: is only used when KEYWARDEN_CLOUD=Emulator (the cloud is AzurePublicCloud)",
    ]);
    expect(lines(settingsError({ ...BASE, KEYWARDEN_CLOUD: "Emulator", KEYWARDEN_ARM_ENDPOINT: "https://x.test" }))).toEqual([
      "KEYWARDEN_EMULATOR_ENDPOINT: is required when KEYWARDEN_CLOUD=Emulator",
      "KEYWARDEN_EMULATOR_PRINCIPAL_ID: is required when KEYWARDEN_CLOUD=Emulator",
      "KEYWARDEN_EMULATOR_CA_FILE: is required when KEYWARDEN_CLOUD=Emulator (or KEYWARDEN_EMULATOR_CA_PEM): the emulator's CA is trusted explicitly, never by disabling TLS checks",
      "KEYWARDEN_ARM_ENDPOINT: is not used when KEYWARDEN_CLOUD=Emulator: ARM is served at KEYWARDEN_EMULATOR_ENDPOINT",
    ]);
    expect(lines(settingsError({ ...EMULATOR, KEYWARDEN_EMULATOR_ENDPOINT: "https://127.0.0.1:8443/arm" }))).toEqual([
      'KEYWARDEN_EMULATOR_ENDPOINT: "https://127.0.0.1:8443/arm" must be an origin (https://host:port) without a path',
    ]);
  });

  it("names the setting for each bad value", () => {
    expect(lines(settingsError({ ...BASE, KEYWARDEN_CLOUD: "Mars" }))).toEqual([
      'KEYWARDEN_CLOUD: "Mars" is not a cloud KeyWarden knows; use one of AzurePublicCloud, AzureChinaCloud, AzureUSGovernment, Custom, Emulator',
    ]);
    expect(lines(settingsError({ ...BASE, KEYWARDEN_ARM_ENDPOINT: "http://management.azure.com" }))).toEqual([
      'KEYWARDEN_ARM_ENDPOINT: "http://management.azure.com" must use https',
    ]);
    expect(lines(settingsError({ ...BASE, KEYWARDEN_AUTHORITY_HOST: "https://user:hunter2@login.test" }))).toEqual([
      "KEYWARDEN_AUTHORITY_HOST: must not contain credentials",
    ]);
    expect(lines(settingsError({ ...BASE, KEYWARDEN_MANAGED_IDENTITY_CLIENT_ID: "my-identity" }))).toEqual([
      "KEYWARDEN_MANAGED_IDENTITY_CLIENT_ID: is not a GUID (the client id of a user-assigned managed identity)",
    ]);
    expect(lines(settingsError({ ...BASE, KEYWARDEN_LRO_POLL_INTERVAL_MS: "2s" }))).toEqual([
      'KEYWARDEN_LRO_POLL_INTERVAL_MS: "2s" is not a whole number from 0 to 60000',
    ]);
    expect(lines(settingsError({ ...BASE, KEYWARDEN_RETRY_DELAY_MS: "5000", KEYWARDEN_MAX_RETRY_DELAY_MS: "1000" }))).toEqual([
      "KEYWARDEN_MAX_RETRY_DELAY_MS: the maximum retry delay (1000 ms) is shorter than the initial retry delay (5000 ms)",
    ]);
  });

  it("reads the rotation mode: plan by default, execute only when asked, anything else an error naming it", () => {
    expect(loadAppSettings({ ...BASE }, noFiles).rotationMode).toBe("plan");
    expect(loadAppSettings({ ...BASE, KEYWARDEN_ROTATION_MODE: "Execute" }, noFiles).rotationMode).toBe("execute");
    expect(lines(settingsError({ ...BASE, KEYWARDEN_ROTATION_MODE: "auto" }))).toEqual([
      'KEYWARDEN_ROTATION_MODE: "auto" is not a rotation mode; use plan (propose only, the default) or execute',
    ]);
  });

  it("validates NCRONTAB schedules field by field", () => {
    const ok = loadAppSettings({ ...BASE, KEYWARDEN_SCAN_SCHEDULE: "0 */15 8-18 * JAN-DEC MON-FRI", KEYWARDEN_ROTATION_SCHEDULE: " 0  30 2 1,15 * * " }, noFiles);
    expect(ok.schedules).toEqual({ scan: "0 */15 8-18 * JAN-DEC MON-FRI", rotation: "0 30 2 1,15 * *" });
    expect(lines(settingsError({ ...BASE, KEYWARDEN_SCAN_SCHEDULE: "0 * * * *", KEYWARDEN_ROTATION_SCHEDULE: "0 30 25 * * *" }))).toEqual([
      'KEYWARDEN_SCAN_SCHEDULE: "0 * * * *" has 5 fields; Azure Functions timers use NCRONTAB with 6 ({second} {minute} {hour} {day} {month} {day-of-week}), e.g. "0 0 * * * *" for hourly',
      'KEYWARDEN_ROTATION_SCHEDULE: hour field "25" in "0 30 25 * * *": 25 is outside 0-23',
    ]);
    expect(lines(settingsError({ ...BASE, KEYWARDEN_SCAN_SCHEDULE: "0 0/0 * * * *" }))[0]).toContain("a step of 0 never fires");
    expect(lines(settingsError({ ...BASE, KEYWARDEN_SCAN_SCHEDULE: "0 0 * * * FUNDAY" }))[0]).toContain('"FUNDAY" is not a day-of-week value');
  });

  it("requires exactly one policy source", () => {
    expect(lines(settingsError({}))).toEqual([
      "KEYWARDEN_POLICY_FILE: is required: set KEYWARDEN_POLICY_FILE (path to the policy JSON), KEYWARDEN_POLICY_JSON (the policy JSON itself) or KEYWARDEN_POLICY_BLOB (a blob in the state store holding it)",
    ]);
    const both = "set only one of KEYWARDEN_POLICY_FILE and KEYWARDEN_POLICY_JSON: each is a whole policy document, and KeyWarden will not guess which one you meant";
    expect(lines(settingsError({ KEYWARDEN_POLICY_FILE: "a.json", KEYWARDEN_POLICY_JSON: "{}" }))).toEqual([`KEYWARDEN_POLICY_FILE: ${both}`]);
    expect(lines(settingsError({ KEYWARDEN_POLICY_JSON: "{}", KEYWARDEN_POLICY_BLOB: "policy.json" }))).toEqual([
      "KEYWARDEN_POLICY_JSON: set only one of KEYWARDEN_POLICY_JSON and KEYWARDEN_POLICY_BLOB: each is a whole policy document, and KeyWarden will not guess which one you meant",
    ]);
    expect(lines(settingsError({ KEYWARDEN_POLICY_FILE: "a.json", KEYWARDEN_POLICY_JSON: "{}", KEYWARDEN_POLICY_BLOB: "p.json" }))[0]).toMatch(
      /^KEYWARDEN_POLICY_FILE: set only one of KEYWARDEN_POLICY_FILE and KEYWARDEN_POLICY_JSON and KEYWARDEN_POLICY_BLOB:/,
    );
    expect(loadAppSettings({ KEYWARDEN_POLICY_BLOB: "policy/keywarden.policy.json" }, noFiles).policySource).toEqual({ kind: "store", name: "policy/keywarden.policy.json" });
    expect(loadAppSettings({ KEYWARDEN_POLICY_JSON: '{"version":1}' }, noFiles).policySource).toEqual({ kind: "inline", json: '{"version":1}' });
    // The portal leaves blank values behind; blank means unset.
    expect(loadAppSettings({ KEYWARDEN_POLICY_FILE: "a.json", KEYWARDEN_POLICY_JSON: "  " }, noFiles).policySource).toEqual({ kind: "file", path: "a.json" });
  });

  it("takes KEYWARDEN_POLICY_BLOB only as a blob name inside the state store", () => {
    for (const bad of ["/policy.json", "policy/", "a//b.json", "../outside.json", "a/./b.json", "a\\b.json", "a\u0007.json", "x".repeat(1025)]) {
      expect(lines(settingsError({ KEYWARDEN_POLICY_BLOB: bad }))[0], bad).toMatch(/^KEYWARDEN_POLICY_BLOB: ".*" is not a blob name in the state store/s);
    }
    expect(loadAppSettings({ KEYWARDEN_POLICY_BLOB: "a..b/c.json" }, noFiles).policySource).toEqual({ kind: "store", name: "a..b/c.json" });
  });

  it("rejects unknown KEYWARDEN_ settings, suggesting the intended one, and ignores other variables", () => {
    expect(lines(settingsError({ ...BASE, KEYWARDEN_POLICY_FLIE: "x.json", PATH: "/usr/bin", KEYWARDEN_FOO: "1" }))).toEqual([
      "KEYWARDEN_FOO: is not a KeyWarden setting",
      "KEYWARDEN_POLICY_FLIE: is not a KeyWarden setting (did you mean KEYWARDEN_POLICY_FILE?)",
    ]);
  });

  it("reports every problem at once in one ConfigError", () => {
    const error = settingsError({
      KEYWARDEN_CLOUD: "Emulator",
      KEYWARDEN_EMULATOR_ENDPOINT: "http://127.0.0.1:8443",
      KEYWARDEN_EMULATOR_CA_PEM: "not a pem",
      KEYWARDEN_EMULATOR_PRINCIPAL_ID: "me",
      KEYWARDEN_MAX_RETRIES: "11",
      KEYWARDEN_SCAN_SCHEDULE: "hourly",
    });
    expect(error.issues.map((issue) => issue.path)).toEqual([
      "KEYWARDEN_EMULATOR_ENDPOINT",
      "KEYWARDEN_EMULATOR_PRINCIPAL_ID",
      "KEYWARDEN_EMULATOR_CA_PEM",
      "KEYWARDEN_POLICY_FILE",
      "KEYWARDEN_SCAN_SCHEDULE",
      "KEYWARDEN_MAX_RETRIES",
    ]);
    expect(error.message).toMatch(/^Invalid app settings \(6 problems\):\n {2}- KEYWARDEN_EMULATOR_ENDPOINT: "http:\/\/127\.0\.0\.1:8443" must use https\n/);
    expect(error.message).not.toContain("not a pem");
  });
});
