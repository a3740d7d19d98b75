import { createHash } from "node:crypto";
import { readFile as readFileAsync } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "./errors.js";
import { formatPath } from "./formatPath.js";
import { parsePolicyJsonText } from "./parsePolicyJson.js";
import { policyDocumentSchema } from "./policySchema.js";
import { appSettingFilePaths, loadAppSettings } from "./settings.js";
import type { AppSettings, KeyWardenConfig, PolicyDocument, PolicyOrigin } from "./types.js";

/** Reads a UTF-8 text file. */
export type ReadTextFile = (path: string) => Promise<string>;

export interface LoadConfigOptions {
  /** Default: process.env (read only by settings.ts). */
  env?: NodeJS.ProcessEnv;
  /** Default: fs.promises.readFile as UTF-8. Reads the policy file and the emulator CA file. */
  readFile?: ReadTextFile;
  /**
   * Where a relative KEYWARDEN_POLICY_FILE is found: the function app's root (where host.json is) in the functions,
   * the working directory in the CLI (the default: the path is used as given).
   */
  baseDir?: string;
  /**
   * Reads a blob of the state store the settings name (KEYWARDEN_POLICY_BLOB): its text and ETag, or undefined when
   * it does not exist. Config does not build stores; the runtime and the CLI pass this.
   */
  readStoredPolicy?: ReadStoredPolicy;
}

export type ReadStoredPolicy = (settings: AppSettings, name: string) => Promise<{ text: string; etag: string } | undefined>;

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

  const { policy, policyOrigin } = await loadPolicy(settings, { readFile, ...(options.baseDir ? { baseDir: options.baseDir } : {}), ...(options.readStoredPolicy ? { readStoredPolicy: options.readStoredPolicy } : {}) });
  return deepFreeze({ settings, policy, policyOrigin });
}

/**
 * Reads and validates the policy document the settings point at. The functions call it again for every invocation
 * when the document is a blob in the state store, so that a change takes effect without a redeployment; a bad
 * document stops that invocation before any read or write, and the next good one is used as soon as it is there.
 */
export async function loadPolicy(
  settings: AppSettings,
  options: { readFile: ReadTextFile; baseDir?: string; readStoredPolicy?: ReadStoredPolicy },
): Promise<{ policy: PolicyDocument; policyOrigin: PolicyOrigin }> {
  const source = settings.policySource;
  if (source.kind === "inline") {
    return { policy: parsePolicyJson(source.json, "KEYWARDEN_POLICY_JSON"), policyOrigin: { setting: "KEYWARDEN_POLICY_JSON", sha256: sha256(source.json) } };
  }
  if (source.kind === "file") {
    const path = options.baseDir === undefined || isAbsolute(source.path) ? source.path : resolve(options.baseDir, source.path);
    let text: string;
    try {
      text = await options.readFile(path);
    } catch (error) {
      throw new ConfigError("Cannot read the policy document", [
        { path: "KEYWARDEN_POLICY_FILE", message: `cannot read "${path}" (${describeFileError(error)})` },
      ]);
    }
    return { policy: parsePolicyJson(text, path), policyOrigin: { setting: "KEYWARDEN_POLICY_FILE", location: path, sha256: sha256(text) } };
  }
  if (!options.readStoredPolicy) throw new Error("KEYWARDEN_POLICY_BLOB is set but no state store reader was given to loadPolicy");
  let stored: { text: string; etag: string } | undefined;
  try {
    stored = await options.readStoredPolicy(settings, source.name);
  } catch (error) {
    throw new ConfigError("Cannot read the policy document", [
      { path: "KEYWARDEN_POLICY_BLOB", message: `cannot read "${source.name}" from the state store (${describeFileError(error)})` },
    ]);
  }
  if (stored === undefined) {
    throw new ConfigError("Cannot read the policy document", [
      { path: "KEYWARDEN_POLICY_BLOB", message: `"${source.name}" does not exist in the state store; upload the policy document there first` },
    ]);
  }
  const where = `blob ${source.name}`;
  return {
    policy: parsePolicyJson(stored.text, where),
    policyOrigin: { setting: "KEYWARDEN_POLICY_BLOB", location: source.name, sha256: sha256(stored.text), etag: stored.etag },
  };
}

/** One line for logs and the CLI: where the document came from and its digest (never its text). */
export function describePolicyOrigin(origin: PolicyOrigin): string {
  return `${origin.setting}${origin.location ? ` ${origin.location}` : ""} (sha256 ${origin.sha256.slice(0, 12)})`;
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
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
