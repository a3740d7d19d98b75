import { readFile as readFileAsync } from "node:fs/promises";
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "./errors.js";
import { formatPath } from "./formatPath.js";
import { parsePolicyJsonText } from "./parsePolicyJson.js";
import { policyDocumentSchema } from "./policySchema.js";
import { appSettingFilePaths, loadAppSettings } from "./settings.js";
import type { KeyWardenConfig, PolicyDocument } from "./types.js";

/** Reads a UTF-8 text file. */
export type ReadTextFile = (path: string) => Promise<string>;

export interface LoadConfigOptions {
  /** Default: process.env (read only by settings.ts). */
  env?: NodeJS.ProcessEnv;
  /** Default: fs.promises.readFile as UTF-8. Reads the policy file and the emulator CA file. */
  readFile?: ReadTextFile;
}

const readTextFile: ReadTextFile = (path) => readFileAsync(path, "utf8");

/**
 * Loads the app settings and the policy document they point at, validates both and returns them deeply
 * frozen. Throws ConfigError (app settings first, then the policy) naming every problem.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<KeyWardenConfig> {
  const env = options.env ?? process.env;
  const readFile = options.readFile ?? readTextFile;

  // loadAppSettings is synchronous; read the files it needs first and hand it the results.
  const files = new Map<string, { text: string } | { error: unknown }>();
  for (const path of appSettingFilePaths(env)) {
    try {
      files.set(path, { text: await readFile(path) });
    } catch (error) {
      files.set(path, { error });
    }
  }
  const settings = loadAppSettings(env, (path) => {
    const file = files.get(path);
    if (file === undefined) throw new Error(`${path} was not read in advance`);
    if ("error" in file) throw file.error;
    return file.text;
  });

  let policy: PolicyDocument;
  if (settings.policySource.kind === "file") {
    const { path } = settings.policySource;
    let text: string;
    try {
      text = await readFile(path);
    } catch (error) {
      throw new ConfigError("Cannot read the policy document", [
        { path: "KEYWARDEN_POLICY_FILE", message: `cannot read "${path}" (${describeFileError(error)})` },
      ]);
    }
    policy = parsePolicyJson(text, path);
  } else {
    policy = parsePolicyJson(settings.policySource.json, "KEYWARDEN_POLICY_JSON");
  }

  return deepFreeze({ settings, policy });
}

export { formatPath };

/**
 * Parses and validates policy JSON text. A syntax error, a duplicate key, a document over 1 MiB or nested
 * deeper than 64 levels is a ConfigError naming the source and the line and column.
 */
export function parsePolicyJson(text: string, source: string): PolicyDocument {
  return parsePolicyDocument(parsePolicyJsonText(text, source), source);
}

/**
 * Validates a parsed policy document. Throws ConfigError whose issues name each field by its path in the
 * document (`managedHsms[0].keys[1].rotation.rotateAfter`). The result is not frozen; loadConfig freezes it.
 */
export function parsePolicyDocument(json: unknown, source: string): PolicyDocument {
  const result = policyDocumentSchema.safeParse(json);
  if (result.success) return result.data;
  throw new ConfigError(
    `Invalid policy document in ${source}`,
    result.error.issues.map((issue) => toConfigIssue(issue, json)),
  );
}

function toConfigIssue(issue: z.core.$ZodIssue, input: unknown): ConfigIssue {
  const path = formatPath(issue.path);
  if (issue.code !== "custom" && isMissing(input, issue.path)) return { path, message: "is required" };
  return { path, message: issue.message };
}


/** True when the value at `path` is absent (its parent is an object without that property). */
function isMissing(input: unknown, path: readonly PropertyKey[]): boolean {
  let value: unknown = input;
  for (const [index, segment] of path.entries()) {
    if (typeof value !== "object" || value === null) return false;
    const record = value as Record<PropertyKey, unknown>;
    if (index === path.length - 1) return !(segment in record) || record[segment] === undefined;
    value = record[segment];
  }
  return false;
}

function describeFileError(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") return error.code;
  return error instanceof Error ? error.message : String(error);
}

/** Freezes an object graph of plain data, so nothing downstream can change the configuration. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
