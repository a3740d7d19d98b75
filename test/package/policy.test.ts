import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/lib/config/errors.js";
import { buildPackage, nodeLoads, PackageError } from "../../scripts/package.js";

const root = resolve(import.meta.dirname, "..", "..");
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "keywarden-package-policy-"));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("npm run package -- --policy", () => {
  it("refuses a policy the loader rejects, with the loader's message, before building anything", async () => {
    const bad = join(work, "bad.policy.json");
    await writeFile(bad, JSON.stringify({ version: 1, managedHsms: [] }));
    const outFile = join(work, "never.zip");
    const failure = await buildPackage({ root, outFile, policyFile: bad }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as ConfigError).message).toContain(`Invalid policy document in ${bad}`);
    expect((failure as ConfigError).issues.length).toBeGreaterThan(0);
    expect(existsSync(outFile)).toBe(false);
  });

  it("names a policy file it cannot read", async () => {
    const missing = join(work, "absent.json");
    await expect(buildPackage({ root, outFile: join(work, "never.zip"), policyFile: missing })).rejects.toThrow(new PackageError(`Cannot read the policy document --policy ${missing}: ENOENT`));
  });

  it("exits 2 from the command line with the problem, for a bad policy and for an unknown argument", async () => {
    const bad = join(work, "syntax.policy.json");
    await writeFile(bad, '{ "version": 1, ');
    const tsx = join(root, "node_modules", "tsx", "dist", "cli.mjs");
    const run = spawnSync(process.execPath, [tsx, join(root, "scripts", "package.ts"), "--policy", bad, "--out", join(work, "never.zip")], { cwd: root, encoding: "utf8" });
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toContain(`Invalid policy document in ${resolve(bad)}`);
    expect(run.stderr).toContain("not valid JSON");
    expect(existsSync(join(work, "never.zip"))).toBe(false);

    const unknown = spawnSync(process.execPath, [tsx, join(root, "scripts", "package.ts"), "--polcy", bad], { cwd: root, encoding: "utf8" });
    expect(unknown.status, unknown.stderr).toBe(2);
    expect(unknown.stderr).toContain('Unknown argument "--polcy"');
  });
});

describe("what the package leaves out of node_modules", () => {
  it("drops declarations, TypeScript sources, source maps and Markdown, and keeps code, data and licences", () => {
    const kept = ["node_modules/a/index.js", "node_modules/a/index.mjs", "node_modules/a/index.cjs", "node_modules/a/package.json", "node_modules/a/LICENSE", "node_modules/a/LICENSE.md", "node_modules/a/NOTICE.txt", "node_modules/a/data.wasm"];
    const dropped = ["node_modules/a/index.d.ts", "node_modules/a/index.d.mts", "node_modules/a/index.d.cts", "node_modules/a/src/x.ts", "node_modules/a/index.js.map", "node_modules/a/README.md", "node_modules/a/CHANGELOG.md", "node_modules/a/tsconfig.tsbuildinfo"];
    expect(kept.filter((p) => !nodeLoads(p))).toEqual([]);
    expect(dropped.filter((p) => nodeLoads(p))).toEqual([]);
  });
});
