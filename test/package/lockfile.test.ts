import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPackage, FUNCTIONS_MAIN, PackageError } from "../../scripts/package.js";

let work: string;
let count = 0;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "keywarden-package-lockfile-"));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

interface Tree {
  main?: string;
  dependencies?: Record<string, string>;
  locked?: Record<string, string>;
  packages?: Record<string, Record<string, unknown>>;
  installed?: Record<string, string>;
}

/** A repository with only what packaging reads before it compiles: package.json, the lockfile, node_modules. */
async function tree(t: Tree): Promise<string> {
  count += 1;
  const root = join(work, `root-${count}`);
  await mkdir(root);
  const dependencies = t.dependencies ?? { a: "^1.0.0" };
  await writeFile(join(root, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", type: "module", main: t.main ?? FUNCTIONS_MAIN, engines: { node: ">=20" }, dependencies }));
  const packages = t.packages ?? { "node_modules/a": { version: "1.0.0" } };
  await writeFile(join(root, "package-lock.json"), JSON.stringify({ lockfileVersion: 3, packages: { "": { dependencies: t.locked ?? dependencies }, ...packages } }));
  for (const [path, version] of Object.entries(t.installed ?? { "node_modules/a": "1.0.0" })) {
    await mkdir(join(root, path), { recursive: true });
    await writeFile(join(root, path, "package.json"), JSON.stringify({ name: path.slice(path.lastIndexOf("/") + 1), version }));
  }
  return root;
}

const refusal = async (root: string): Promise<unknown> =>
  buildPackage({ root, outFile: join(root, "out.zip") }).then(
    () => "built",
    (error: unknown) => error,
  );

describe("packaging refuses a tree it cannot vouch for, before compiling", () => {
  it("a package.json main other than the layout it builds", async () => {
    expect(await refusal(await tree({ main: "index.js" }))).toEqual(new PackageError(`package.json main is "index.js"; the package is laid out for "${FUNCTIONS_MAIN}".`));
  });

  it("a lockfile out of date with package.json's dependencies, naming them", async () => {
    expect(await refusal(await tree({ dependencies: { a: "^1.0.0", b: "^2.0.0" }, locked: { a: "^1.0.0" } }))).toEqual(
      new PackageError("package-lock.json is out of date with package.json's dependencies (b); run npm install."),
    );
  });

  it("an installed version other than the locked one", async () => {
    expect(await refusal(await tree({ installed: { "node_modules/a": "1.0.1" } }))).toEqual(new PackageError("node_modules/a is installed at 1.0.1 but package-lock.json locks 1.0.0; run npm ci."));
  });

  it("a locked production package that is not installed, but not an optional one for another platform", async () => {
    expect(await refusal(await tree({ installed: {} }))).toEqual(new PackageError("node_modules/a is in package-lock.json but not installed; run npm ci."));
    const optional = await tree({ packages: { "node_modules/a": { version: "1.0.0" }, "node_modules/a-darwin": { version: "1.0.0", optional: true, os: ["darwin"] } } });
    // It gets past the tree (the missing optional is skipped) and on to compiling, which this bare tree cannot do.
    expect(String(await refusal(optional))).toContain("tsc -p tsconfig.build.json failed");
  });

  it("a production package with an install script or an os/cpu constraint (this machine's build, maybe not Linux x64's)", async () => {
    const script = await refusal(await tree({ packages: { "node_modules/a": { version: "1.0.0", hasInstallScript: true } } }));
    expect(script).toBeInstanceOf(PackageError);
    expect((script as Error).message).toContain("node_modules/a is platform-specific (an install script)");
    const native = await refusal(await tree({ packages: { "node_modules/a": { version: "1.0.0", os: ["linux"], cpu: ["arm64"] } } }));
    expect((native as Error).message).toContain('node_modules/a is platform-specific (os ["linux"], cpu ["arm64"])');
  });

  it("dev packages are not part of it: a dev entry that is not installed is no problem", async () => {
    const root = await tree({ packages: { "node_modules/a": { version: "1.0.0" }, "node_modules/devthing": { version: "9.0.0", dev: true } } });
    expect(String(await refusal(root))).toContain("tsc -p tsconfig.build.json failed");
  });
});
