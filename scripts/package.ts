/**
 * `npm run package [-- --policy <file>] [-- --out <zip>]`: writes the function app's deployment zip,
 * dist/keywarden-functions.zip, for `az functionapp deployment source config-zip`. In it, and nothing else:
 * - dist/src/**: the compiled JavaScript (tsconfig.build.json: src without its tests), which the host finds through
 *   package.json's `main` (dist/src/functions/*.js);
 * - host.json;
 * - package.json: name, version, type, main, engines and the root's `dependencies` (no scripts, no devDependencies);
 * - node_modules/: the production dependencies exactly as package-lock.json resolves them, copied from the installed
 *   tree (so it works offline after `npm ci`; an installed version that differs from the lockfile stops packaging),
 *   without the files Node never loads (type declarations, TypeScript sources, source maps, Markdown other than
 *   licences);
 * - with --policy, the policy document at policy/keywarden.policy.json, validated first by the policy loader.
 *
 * Deterministic: entries sorted by path, one fixed timestamp and mode, so two runs from the same tree give the same
 * bytes.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { lstat, mkdir, mkdtemp, readdir, readFile, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import yauzl from "yauzl";
import yazl from "yazl";
import { ConfigError } from "../src/lib/config/errors.js";
import { parsePolicyJson } from "../src/lib/config/load.js";

/** Where `npm run package` writes the zip, relative to the repository. */
export const PACKAGE_ZIP = join("dist", "keywarden-functions.zip");
/** Where, inside the zip (so under the app's root, /home/site/wwwroot), a policy given with --policy lands. */
export const PACKAGED_POLICY_PATH = "policy/keywarden.policy.json";
/** The entry point the Functions host loads: every file it matches must register functions. */
export const FUNCTIONS_MAIN = "dist/src/functions/*.js";

/**
 * Every entry's timestamp. Built from local-time parts because the zip's DOS time fields are local time: the same
 * parts give the same bytes in every time zone. (The Unix extended timestamp is left out for the same reason.)
 */
const ENTRY_MTIME = new Date(2000, 0, 1, 0, 0, 0);
const ENTRY_MODE = 0o100644;

export class PackageError extends Error {
  override readonly name = "PackageError";
}

export interface PackageOptions {
  /** The repository: package.json, package-lock.json, host.json, tsconfig.build.json and the installed node_modules. */
  root: string;
  /** The zip to write (replaced atomically). */
  outFile: string;
  /** A policy document to carry at PACKAGED_POLICY_PATH, validated first. */
  policyFile?: string;
}

export interface PackageResult {
  outFile: string;
  bytes: number;
  sha256: string;
  entries: number;
  /** The production packages copied (lockfile entries, nested ones counted). */
  packages: number;
  /** Bytes of files left out of node_modules because Node never loads them. */
  prunedBytes: number;
  policy?: string;
}

interface Entry {
  path: string;
  file?: string;
  buffer?: Buffer;
}

interface LockPackage {
  version?: string;
  os?: string[];
  cpu?: string[];
  hasInstallScript?: boolean;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  link?: boolean;
  dependencies?: Record<string, string>;
}

export async function buildPackage(options: PackageOptions): Promise<PackageResult> {
  const root = resolve(options.root);
  const manifest = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as Record<string, unknown>;
  const lock = JSON.parse(await readFile(join(root, "package-lock.json"), "utf8")) as { lockfileVersion?: number; packages?: Record<string, LockPackage> };
  const dependencies = (manifest.dependencies ?? {}) as Record<string, string>;
  if (manifest.main !== FUNCTIONS_MAIN) throw new PackageError(`package.json main is ${JSON.stringify(manifest.main)}; the package is laid out for ${JSON.stringify(FUNCTIONS_MAIN)}.`);

  // Validate the policy before the slow part, so that a bad one fails at once with the loader's own message.
  const policy = options.policyFile === undefined ? undefined : await readPolicy(resolve(options.policyFile));

  // Before the slow compile: a tree that does not match the lockfile stops packaging at once.
  const modules = await productionModules(root, lock, dependencies);
  const staging = await mkdtemp(join(tmpdir(), "keywarden-package-"));
  try {
    compile(root, join(staging, "dist"));
    const entries: Entry[] = [];
    for (const file of await filesUnder(join(staging, "dist"))) entries.push({ path: zipPath(relative(staging, file)), file });
    entries.push({ path: "host.json", file: join(root, "host.json") });
    entries.push({ path: "package.json", buffer: Buffer.from(`${JSON.stringify(productionManifest(manifest), null, 2)}\n`) });
    if (policy) entries.push({ path: PACKAGED_POLICY_PATH, buffer: policy.text });
    entries.push(...modules.entries);

    entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const outFile = resolve(options.outFile);
    const written = await writeZip(entries, outFile);
    return {
      outFile,
      ...written,
      entries: entries.length,
      packages: modules.packages,
      prunedBytes: modules.prunedBytes,
      ...(policy ? { policy: policy.source } : {}),
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function readPolicy(path: string): Promise<{ source: string; text: Buffer }> {
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (error) {
    throw new PackageError(`Cannot read the policy document --policy ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  // Throws the loader's ConfigError, naming the file and every problem with its path in the document.
  parsePolicyJson(text.toString("utf8"), path);
  return { source: path, text };
}

function compile(root: string, outDir: string): void {
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const run = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json"), "--outDir", outDir], { cwd: root, encoding: "utf8" });
  if (run.status !== 0) throw new PackageError(`tsc -p tsconfig.build.json failed (exit ${run.status ?? run.signal}):\n${run.stdout}${run.stderr}`);
}

/** package.json for the app: what the host and Node need, and the root's dependencies exactly. */
export function productionManifest(manifest: Record<string, unknown>): Record<string, unknown> {
  for (const field of ["name", "version", "type", "main", "engines"]) {
    if (manifest[field] === undefined) throw new PackageError(`package.json has no "${field}"; the function app's package.json needs it.`);
  }
  return {
    name: manifest.name,
    version: manifest.version,
    type: manifest.type,
    main: manifest.main,
    engines: manifest.engines,
    dependencies: manifest.dependencies ?? {},
  };
}

/**
 * The production closure as package-lock.json records it (every package not marked dev), each taken from the
 * installed tree after checking that its version is the locked one. Nested node_modules are separate lockfile
 * entries, so a package directory is copied without its own node_modules.
 */
async function productionModules(
  root: string,
  lock: { lockfileVersion?: number; packages?: Record<string, LockPackage> },
  dependencies: Record<string, string>,
): Promise<{ entries: Entry[]; packages: number; prunedBytes: number }> {
  if (!lock.packages || (lock.lockfileVersion ?? 0) < 2) throw new PackageError("package-lock.json has no \"packages\" (lockfile version 2 or later is needed); run npm install with npm 7 or later.");
  const locked = lock.packages[""]?.dependencies ?? {};
  const drift = [...new Set([...Object.keys(locked), ...Object.keys(dependencies)])].filter((name) => locked[name] !== dependencies[name]).sort();
  if (drift.length > 0) throw new PackageError(`package-lock.json is out of date with package.json's dependencies (${drift.join(", ")}); run npm install.`);

  const entries: Entry[] = [];
  let packages = 0;
  let prunedBytes = 0;
  for (const [lockPath, info] of Object.entries(lock.packages)) {
    if (lockPath === "" || info.dev === true) continue;
    if (!lockPath.startsWith("node_modules/") || info.link === true) throw new PackageError(`package-lock.json entry "${lockPath}" is a link or workspace; the package copies installed registry packages only.`);
    const dir = join(root, ...lockPath.split("/"));
    let installed: { version?: string };
    try {
      installed = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { version?: string };
    } catch {
      // An optional dependency for another platform is locked but not installed here, and is not needed here.
      if (info.optional === true || info.devOptional === true) continue;
      throw new PackageError(`${lockPath} is in package-lock.json but not installed; run npm ci.`);
    }
    if (installed.version !== info.version) throw new PackageError(`${lockPath} is installed at ${installed.version} but package-lock.json locks ${info.version}; run npm ci.`);
    // The installed copy was built for this machine; the function app runs on Linux x64. Pure JavaScript only.
    if (info.hasInstallScript === true || info.os !== undefined || info.cpu !== undefined) {
      throw new PackageError(`${lockPath} is platform-specific (${info.hasInstallScript === true ? "an install script" : `os ${JSON.stringify(info.os ?? [])}, cpu ${JSON.stringify(info.cpu ?? [])}`}); copying this machine's build into the package could ship the wrong binary. Package it with a build on the app's platform instead.`);
    }
    packages += 1;
    for (const file of await filesUnder(dir, "node_modules")) {
      const path = zipPath(join(lockPath, relative(dir, file)));
      if (nodeLoads(path)) entries.push({ path, file });
      else prunedBytes += (await lstat(file)).size;
    }
  }
  return { entries, packages, prunedBytes };
}

/**
 * False for the files in node_modules that Node never loads: type declarations and TypeScript sources (Node does
 * not strip types under node_modules), source maps (read only with --enable-source-maps, which the host does not
 * set) and Markdown. Licences stay, whatever their extension.
 */
export function nodeLoads(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  if (/^(licen[cs]e|notice|copying)/i.test(name)) return true;
  return !/\.([mc]?ts|map|md|markdown|tsbuildinfo)$/i.test(name);
}

/** Regular files under dir, recursively, skipping a directory named `skip` at the top. Refuses symlinks. */
async function filesUnder(dir: string, skip?: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string, top: boolean): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) {
        if (!(top && entry.name === skip)) await walk(path, false);
      } else if (entry.isFile()) {
        out.push(path);
      } else {
        throw new PackageError(`${path} is neither a file nor a directory (a symlink?); the package holds regular files only.`);
      }
    }
  };
  await walk(dir, true);
  return out;
}

function zipPath(path: string): string {
  return path.split(sep).join("/");
}

async function writeZip(entries: readonly Entry[], outFile: string): Promise<{ bytes: number; sha256: string }> {
  await mkdir(dirname(outFile), { recursive: true });
  const partial = `${outFile}.partial`;
  const zip = new yazl.ZipFile();
  const options = { mtime: ENTRY_MTIME, mode: ENTRY_MODE, forceDosTimestamp: true };
  for (const entry of entries) {
    if (entry.buffer) zip.addBuffer(entry.buffer, entry.path, options);
    else if (entry.file) zip.addFile(entry.file, entry.path, options);
  }
  zip.end();
  const hash = createHash("sha256");
  let bytes = 0;
  await new Promise<void>((done, fail) => {
    const out = createWriteStream(partial);
    zip.outputStream.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    zip.outputStream.on("error", fail);
    out.on("error", fail);
    out.on("close", () => done());
    zip.outputStream.pipe(out);
  });
  await rename(partial, outFile);
  return { bytes, sha256: hash.digest("hex") };
}

/**
 * What the Functions host's Node worker does with the package, run in a child process inside the unzipped app:
 * it answers `require("@azure/functions-core")` (the worker's built-in module, which @azure/functions asks for
 * and, outside the host, does without: "test mode", where registrations are dropped) the way the worker does, by
 * intercepting Module.prototype.require, and records each registerFunction's metadata: exactly what the host is
 * told about each function (its bindings, with route, methods, authLevel, schedule). Then it imports every file
 * package.json's `main` matches, one at a time, and prints the registrations and the import time as JSON. The
 * function files register only (their handlers load on first use); the probe then loads every handler module, as the
 * first invocations do, and times that apart.
 */
const PROBE_SOURCE = `
import Module from "node:module";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
const registrations = [];
let file;
const disposable = { dispose() {} };
const core = {
  version: "keywarden-package-probe",
  hostVersion: "4",
  setProgrammingModel() {},
  registerHook() { return disposable; },
  registerFunction(metadata) { registrations.push({ file, metadata: JSON.parse(JSON.stringify(metadata)) }); return disposable; },
  log() {},
};
Module.prototype.require = new Proxy(Module.prototype.require, {
  apply(target, self, args) { return args[0] === "@azure/functions-core" ? core : Reflect.apply(target, self, args); },
});
const main = JSON.parse(readFileSync("package.json", "utf8")).main;
// The worker resolves main as a glob; the package uses one form only, <dir>/*.js, and this refuses any other.
const dir = main.slice(0, -"/*.js".length);
if (!main.endsWith("/*.js") || dir.includes("*")) throw new Error("package.json main " + JSON.stringify(main) + " is not of the form <dir>/*.js");
const files = readdirSync(dir).filter((name) => name.endsWith(".js")).sort().map((name) => dir + "/" + name);
const start = performance.now();
const cpu = process.cpuUsage();
for (file of files) await import(pathToFileURL(join(process.cwd(), file)).href);
const importMs = performance.now() - start;
const used = process.cpuUsage(cpu);
const importCpuMs = (used.user + used.system) / 1000;
const sinceProcessStartMs = performance.now();
// What the first invocations load: each function's handler module and the SDK clients it needs (a missing
// production dependency fails here, as it would on the first invocation in Azure).
const handlerDir = join(dir, "handlers");
const handlerFiles = readdirSync(handlerDir).filter((name) => name.endsWith(".js")).sort().map((name) => handlerDir + "/" + name);
const handlersStart = performance.now();
for (const handler of handlerFiles) await import(pathToFileURL(join(process.cwd(), handler)).href);
const handlersLoadMs = performance.now() - handlersStart;
console.log(JSON.stringify({ main, files, registrations, importMs, importCpuMs, sinceProcessStartMs, handlerFiles, handlersLoadMs }));
`;

export interface ProbeRegistration {
  file: string;
  metadata: { name: string; bindings: Record<string, Record<string, unknown>> };
}

export interface ProbeResult {
  main: string;
  /** The files `main` matched, relative to the app. */
  files: string[];
  registrations: ProbeRegistration[];
  /** From before the first import to after the last. */
  importMs: number;
  /** CPU (user and system) over the same span: what a busy machine inflates least. */
  importCpuMs: number;
  /** The same end, from the process's start (Node's own start-up included). */
  sinceProcessStartMs: number;
  /** The handler modules (`<main dir>/handlers/*.js`) the first invocations load, and the time to load them all after the import. */
  handlerFiles: string[];
  handlersLoadMs: number;
}

/**
 * Loads the unzipped app at appDir in a fresh Node process, as the host would. Its environment is only PATH and a
 * HOME inside the app (no NODE_PATH, no NODE_OPTIONS, no KEYWARDEN_* settings, so schedules are the defaults), and
 * it runs in the app's directory: the only packages it can resolve are the app's own node_modules (provided no
 * directory above appDir holds a node_modules).
 */
export function probePackage(appDir: string): ProbeResult {
  const run = spawnSync(process.execPath, ["--input-type=module", "--eval", PROBE_SOURCE], {
    cwd: appDir,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: appDir },
    maxBuffer: 16 * 1024 * 1024,
  });
  if (run.status !== 0) throw new PackageError(`Loading the package at ${appDir} failed (exit ${run.status ?? run.signal}):\n${run.stderr}`);
  const last = run.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(last) as ProbeResult;
}

/** Unzips zipFile into dir (which should be empty), refusing an entry that would land outside it. */
export async function extractZip(zipFile: string, dir: string): Promise<string[]> {
  const zip = await new Promise<yauzl.ZipFile>((done, fail) => yauzl.open(zipFile, { lazyEntries: true, strictFileNames: true }, (error, z) => (error ? fail(error) : done(z))));
  const names: string[] = [];
  await new Promise<void>((done, fail) => {
    zip.on("error", fail);
    zip.on("end", () => done());
    zip.on("entry", (entry: yauzl.Entry) => {
      const target = resolve(dir, entry.fileName);
      if (!target.startsWith(resolve(dir) + sep)) return fail(new PackageError(`zip entry ${entry.fileName} lands outside ${dir}`));
      names.push(entry.fileName);
      if (entry.fileName.endsWith("/")) return zip.readEntry();
      zip.openReadStream(entry, (error, stream) => {
        if (error) return fail(error);
        void mkdir(dirname(target), { recursive: true }).then(() => {
          const out = createWriteStream(target);
          out.on("error", fail);
          out.on("close", () => zip.readEntry());
          stream.on("error", fail);
          stream.pipe(out);
        }, fail);
      });
    });
    zip.readEntry();
  });
  return names;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

function parseArgs(args: readonly string[]): { policyFile?: string; outFile?: string } {
  const parsed: { policyFile?: string; outFile?: string } = {};
  for (let i = 0; i < args.length; i += 1) {
    const flag = args[i];
    const value = args[i + 1];
    if (flag !== "--policy" && flag !== "--out") throw new PackageError(`Unknown argument ${JSON.stringify(flag)}; usage: npm run package [-- --policy <policy.json>] [--out <zip>]`);
    if (value === undefined || value.startsWith("--")) throw new PackageError(`${flag} needs a path.`);
    if (flag === "--policy") parsed.policyFile = value;
    else parsed.outFile = value;
    i += 1;
  }
  return parsed;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(import.meta.dirname, "..");
  try {
    const args = parseArgs(process.argv.slice(2));
    const result = await buildPackage({ root, outFile: args.outFile ?? join(root, PACKAGE_ZIP), ...(args.policyFile !== undefined ? { policyFile: args.policyFile } : {}) });
    console.log(
      `Wrote ${relative(process.cwd(), result.outFile)}: ${mb(result.bytes)}, ${result.entries} entries, ${result.packages} production packages ` +
        `(${mb(result.prunedBytes)} of declarations, sources, maps and Markdown left out); sha256 ${result.sha256}` +
        (result.policy ? `; policy ${result.policy} as ${PACKAGED_POLICY_PATH}` : ""),
    );
  } catch (error) {
    // A bad argument, policy or tree is the operator's to fix (2, with its message); anything else is a fault (1).
    const known = error instanceof PackageError || error instanceof ConfigError;
    console.error(known ? error.message : error);
    process.exitCode = known ? 2 : 1;
  }
}
