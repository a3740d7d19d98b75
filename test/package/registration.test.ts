import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SETTING_DEFAULTS } from "../../src/lib/config/settings.js";
import { buildPackage, extractZip, FUNCTIONS_MAIN, PACKAGED_POLICY_PATH, probePackage, type PackageResult, type ProbeResult } from "../../scripts/package.js";

// Builds the zip twice (tsc included: a minute or more each on a busy 2-core machine), so the hooks get room.
const BUILD_TIMEOUT_MS = 600_000;
const root = resolve(import.meta.dirname, "..", "..");
const policyFile = join(root, "examples", "contoso.policy.json");

interface LockPackage {
  version?: string;
  dev?: boolean;
}

let work: string;
let built: PackageResult;
let app: string;
let names: string[];
let probe: ProbeResult;
let lockPackages: Record<string, LockPackage>;
let rootManifest: { name: string; version: string; type: string; main: string; engines: unknown; dependencies: Record<string, string>; devDependencies: Record<string, string> };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "keywarden-package-test-"));
  built = await buildPackage({ root, outFile: join(work, "keywarden-functions.zip"), policyFile });
  app = join(work, "app");
  await mkdir(app);
  names = await extractZip(built.outFile, app);
  probe = probePackage(app);
  lockPackages = (JSON.parse(await readFile(join(root, "package-lock.json"), "utf8")) as { packages: Record<string, LockPackage> }).packages;
  rootManifest = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as typeof rootManifest;
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** The functions src/functions holds: every file there is one the host loads. */
async function sourceFunctions(): Promise<string[]> {
  const files = await readdir(join(root, "src", "functions"));
  return files.filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts")).map((f) => f.slice(0, -".ts".length)).sort();
}

/** The package a file under node_modules belongs to: `node_modules/a/node_modules/@s/b/x.js` → `node_modules/a/node_modules/@s/b`. */
function ownerPackage(path: string): string {
  const parts = path.split("/");
  let end = 0;
  for (let i = 0; i < parts.length - 1; i += 1) {
    if (parts[i] !== "node_modules") continue;
    end = parts[i + 1]?.startsWith("@") ? i + 3 : i + 2;
  }
  return parts.slice(0, end).join("/");
}

describe("the function app package", () => {
  it("holds only the compiled functions, host.json, package.json, the policy and the production dependencies", () => {
    expect(names.length).toBe(built.entries);
    const outside = names.filter((n) => !(n.startsWith("dist/src/") || n.startsWith("node_modules/") || ["host.json", "package.json", PACKAGED_POLICY_PATH].includes(n)));
    expect(outside).toEqual([]);
    const forbidden = names.filter((n) => {
      const base = n.slice(n.lastIndexOf("/") + 1);
      return /^(emulator|test|scripts|\.keywarden)\//.test(n) || /^dist\/src\/.*\.test\.js(\.map)?$/.test(n) || /^local\.settings.*\.json$/.test(base) || base === ".env" || base.startsWith(".env.");
    });
    expect(forbidden).toEqual([]);
    expect(names).toContain("dist/src/functions/complianceReport.js");
    // Entries are written sorted, which is half of what makes the zip reproducible.
    expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it("writes a production package.json: the root's dependencies exactly, no scripts or devDependencies", async () => {
    const manifest = JSON.parse(await readFile(join(app, "package.json"), "utf8")) as Record<string, unknown>;
    expect(manifest).toEqual({
      name: rootManifest.name,
      version: rootManifest.version,
      type: "module",
      main: FUNCTIONS_MAIN,
      engines: rootManifest.engines,
      dependencies: rootManifest.dependencies,
    });
    expect(await readFile(join(app, "host.json"), "utf8")).toBe(await readFile(join(root, "host.json"), "utf8"));
  });

  it("carries the --policy document, byte for byte, at its documented path", async () => {
    expect(await readFile(join(app, PACKAGED_POLICY_PATH))).toEqual(await readFile(policyFile));
    expect(built.policy).toBe(policyFile);
  });

  it("holds exactly the production closure package-lock.json records, at the locked versions, and no dev dependency", async () => {
    const owners = new Set(names.filter((n) => n.startsWith("node_modules/")).map(ownerPackage));
    const production = Object.entries(lockPackages).filter(([path, p]) => path !== "" && p.dev !== true && existsSync(join(root, path))).map(([path]) => path);
    expect(production.length).toBeGreaterThanOrEqual(Object.keys(rootManifest.dependencies).length);
    expect([...owners].sort()).toEqual(production.sort());
    expect(built.packages).toBe(production.length);

    const devOnly = [...owners].filter((o) => lockPackages[o]?.dev === true);
    expect(devOnly).toEqual([]);
    const devNames = Object.keys(rootManifest.devDependencies).filter((name) => owners.has(`node_modules/${name}`));
    expect(devNames).toEqual([]);

    const wrongVersion: string[] = [];
    for (const owner of owners) {
      const installed = JSON.parse(await readFile(join(app, owner, "package.json"), "utf8")) as { version: string };
      if (installed.version !== lockPackages[owner]?.version) wrongVersion.push(`${owner}@${installed.version}`);
    }
    expect(wrongVersion).toEqual([]);
  });

  it("agrees with npm's own reading of the lockfile (npm ls --omit=dev --package-lock-only)", () => {
    // --package-lock-only: npm's view of the lockfile's production tree, independent of how this module reads it
    // (and of the installed tree, which npm ls misreads when node_modules is a symlink, as in a git worktree).
    const ls = spawnSync("npm", ["ls", "--omit=dev", "--all", "--parseable", "--package-lock-only"], { cwd: root, encoding: "utf8" });
    expect(ls.status, ls.stderr).toBe(0);
    const npmPaths = ls.stdout
      .trim()
      .split("\n")
      .map((line) => relative(root, line).split(sep).join("/"))
      .filter((p) => p !== "" && existsSync(join(root, p)));
    const owners = new Set(names.filter((n) => n.startsWith("node_modules/")).map(ownerPackage));
    expect(npmPaths.length).toBeGreaterThan(0);
    expect([...new Set(npmPaths)].sort()).toEqual([...owners].sort());
  });

  it("leaves out of node_modules only what Node never loads, and keeps the licences", () => {
    const prunable = names.filter((n) => n.startsWith("node_modules/") && /\.(d\.[mc]?ts|[mc]?ts|map|md)$/i.test(n) && !/\/(licen[cs]e|notice|copying)[^/]*$/i.test(n));
    expect(prunable).toEqual([]);
    expect(names).toContain("node_modules/@azure/functions/LICENSE");
    expect(built.prunedBytes).toBeGreaterThan(0);
  });

  it("keeps the compiled functions' import graph inside the package: relative imports under dist/src, bare ones production dependencies", async () => {
    const dependencies = new Set(Object.keys(rootManifest.dependencies));
    const srcDir = join(app, "dist", "src");
    const seen = new Set<string>();
    const escapes: string[] = [];
    const undeclared: string[] = [];
    const queue = probe.files.map((f) => join(app, f));
    expect(queue.length).toBeGreaterThan(0);
    while (queue.length > 0) {
      const file = queue.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      const imports = ts.preProcessFile(await readFile(file, "utf8"), true, true).importedFiles.map((i) => i.fileName);
      for (const specifier of imports) {
        if (specifier.startsWith(".")) {
          const target = resolve(dirname(file), specifier);
          if (!target.startsWith(srcDir + sep) || !existsSync(target)) escapes.push(`${relative(app, file)} → ${specifier}`);
          else queue.push(target);
        } else if (!isBuiltin(specifier)) {
          const parts = specifier.split("/");
          const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
          if (!dependencies.has(name)) undeclared.push(`${relative(app, file)} → ${specifier}`);
        }
      }
    }
    expect(escapes).toEqual([]);
    expect(undeclared).toEqual([]);
    // The whole compiled tree is src's: nothing from emulator/, test/ or scripts/ was compiled in beside it.
    expect(names.filter((n) => n.startsWith("dist/") && !n.startsWith("dist/src/"))).toEqual([]);
    expect(seen.size).toBeGreaterThan(probe.files.length);
  });

  it("registers every function in src/functions with its trigger when the host loads package.json's main", async () => {
    // The child resolves packages only from the app's own node_modules: nothing above it may hold one.
    const ancestors: string[] = [];
    for (let dir = dirname(app); dir !== dirname(dir); dir = dirname(dir)) ancestors.push(dir);
    expect(ancestors.filter((dir) => existsSync(join(dir, "node_modules")))).toEqual([]);

    const functions = await sourceFunctions();
    expect(probe.main).toBe(FUNCTIONS_MAIN);
    expect(probe.files).toEqual(functions.map((f) => `dist/src/functions/${f}.js`));
    // One registration per file, named after it: a file under src/functions that registers nothing would be dead
    // to the host, and one that registers two would hide the second from this table.
    expect(probe.registrations.map((r) => [r.file, r.metadata.name])).toEqual(functions.map((f) => [`dist/src/functions/${f}.js`, f]));
    // Each registers with its handler loading lazily, from a module of its own name that the probe then loads too.
    expect(probe.handlerFiles).toEqual(functions.map((f) => `dist/src/functions/handlers/${f}.js`));

    const triggers = Object.fromEntries(
      probe.registrations.map((r) => {
        const inputs = Object.values(r.metadata.bindings).filter((b) => b.direction === "in" && typeof b.type === "string" && b.type.endsWith("Trigger"));
        expect(inputs, r.metadata.name).toHaveLength(1);
        const { type, methods, authLevel, route, schedule } = inputs[0] as Record<string, unknown>;
        return [r.metadata.name, { type, ...(methods ? { methods } : {}), ...(authLevel ? { authLevel } : {}), ...(route ? { route } : {}), ...(schedule ? { schedule } : {}) }];
      }),
    );
    expect(triggers).toEqual({
      complianceReport: { type: "httpTrigger", methods: ["GET"], authLevel: "function", route: "compliance/report" },
      complianceScan: { type: "timerTrigger", schedule: SETTING_DEFAULTS.scanSchedule },
      keyEvents: { type: "eventGridTrigger" },
      keyEventsWebhook: { type: "httpTrigger", methods: ["POST", "OPTIONS"], authLevel: "function", route: "events" },
      keyRotation: { type: "timerTrigger", schedule: SETTING_DEFAULTS.rotationSchedule },
    });
    const http = probe.registrations.flatMap((r) => Object.values(r.metadata.bindings).filter((b) => b.type === "httpTrigger"));
    expect(http.length).toBeGreaterThan(0);
    expect(http.filter((b) => b.authLevel === "anonymous" || b.authLevel === undefined)).toEqual([]);
  });

  it("fails to load when a production dependency is missing (the child sees no other node_modules), at the latest when the handlers load", async () => {
    const zod = join(app, "node_modules", "zod");
    const aside = join(work, "zod-aside");
    await rename(zod, aside);
    try {
      expect(() => probePackage(app)).toThrow(/Cannot find package 'zod'/);
    } finally {
      await rename(aside, zod);
    }
  });

  it(
    "is reproducible: a second build from the same tree gives the same bytes",
    async () => {
      const again = await buildPackage({ root, outFile: join(work, "again.zip"), policyFile });
      expect(again.sha256).toBe(built.sha256);
      expect((await readFile(again.outFile)).equals(await readFile(built.outFile))).toBe(true);
    },
    BUILD_TIMEOUT_MS,
  );
});
