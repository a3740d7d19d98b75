import { expect } from "vitest";
import { ConfigError } from "../../src/lib/config/errors.js";
import { loadAppSettings } from "../../src/lib/config/settings.js";

/** The problems loadAppSettings reports for env, as "SETTING: reason" lines; none of them may quote `secret`. */
export function settingsProblems(env: NodeJS.ProcessEnv, secret: string): string[] {
  try {
    loadAppSettings(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain(secret);
    return (error as ConfigError).issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  throw new Error("expected loadAppSettings to throw");
}
