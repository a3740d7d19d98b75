import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/lib/config/errors.js";
import { loadAppSettings, SETTING_DEFAULTS } from "../../src/lib/config/settings.js";

const BASE = { KEYWARDEN_POLICY_FILE: "policy.json" };
const noFiles = (): string => "";
const sample = JSON.parse(readFileSync(new URL("../../local.settings.sample.json", import.meta.url), "utf8")) as { Values: Record<string, string> };

const issues = (env: Record<string, string>): string[] => {
  try {
    loadAppSettings({ ...BASE, ...env }, noFiles);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error("expected loadAppSettings to throw");
};

describe("request-layer settings", () => {
  it("default to a 30 s try, a 10 min deadline and 32 requests in flight", () => {
    expect(loadAppSettings(BASE, noFiles).requests).toEqual({ tryTimeoutMs: 30_000, deadlineMs: 600_000, maxConcurrency: 32 });
  });

  it("read KEYWARDEN_TRY_TIMEOUT_MS, KEYWARDEN_DEADLINE_MS and KEYWARDEN_MAX_CONCURRENCY", () => {
    const { requests } = loadAppSettings({ ...BASE, KEYWARDEN_TRY_TIMEOUT_MS: "5000", KEYWARDEN_DEADLINE_MS: "200000", KEYWARDEN_MAX_CONCURRENCY: "8" }, noFiles);
    expect(requests).toEqual({ tryTimeoutMs: 5_000, deadlineMs: 200_000, maxConcurrency: 8 });
  });

  it.each([
    ["KEYWARDEN_TRY_TIMEOUT_MS", "0", '"0" is not a whole number from 1 to 600000'],
    ["KEYWARDEN_DEADLINE_MS", "10m", '"10m" is not a whole number from 1 to 86400000'],
    ["KEYWARDEN_MAX_CONCURRENCY", "0", '"0" is not a whole number from 1 to 1024'],
    ["KEYWARDEN_MAX_CONCURRENCY", "2000", '"2000" is not a whole number from 1 to 1024'],
  ])("reject %s=%s, naming the setting", (name, value, message) => {
    expect(issues({ [name]: value })).toEqual([`${name}: ${message}`]);
  });
});

describe("local.settings.sample.json", () => {
  it("lists the request and retry settings with their defaults", () => {
    const expected: Record<string, number> = {
      KEYWARDEN_TRY_TIMEOUT_MS: SETTING_DEFAULTS.tryTimeoutMs,
      KEYWARDEN_DEADLINE_MS: SETTING_DEFAULTS.deadlineMs,
      KEYWARDEN_MAX_CONCURRENCY: SETTING_DEFAULTS.maxConcurrency,
      KEYWARDEN_MAX_RETRIES: SETTING_DEFAULTS.maxRetries,
      KEYWARDEN_RETRY_DELAY_MS: SETTING_DEFAULTS.retryDelayInMs,
      KEYWARDEN_MAX_RETRY_DELAY_MS: SETTING_DEFAULTS.maxRetryDelayInMs,
    };
    for (const [name, value] of Object.entries(expected)) expect(sample.Values[name], name).toBe(String(value));
  });
});
