/**
 * The package section of `npm run bench`: the deployment zip's size (target under 15 MB) and the cold import of the
 * functions in a fresh Node process, as the host loads them (target under 300 ms, median of 5). When a target is
 * missed it shows who is responsible: the largest packages in the zip (compressed) and the import time of each
 * production dependency alone.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yauzl from "yauzl";
import { buildPackage, extractZip, probePackage } from "./package.js";

const ZIP_TARGET_BYTES = 15e6;
const IMPORT_TARGET_MS = 300;
const IMPORT_RUNS = 5;
const DEPENDENCY_RUNS = 3;

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const s = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const mb = (bytes: number): string => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(0)} kB`);

/** Runs the section, prints its lines and returns the targets it missed. */
export async function benchPackage(root: string): Promise<string[]> {
  const work = await mkdtemp(join(tmpdir(), "keywarden-bench-package-"));
  const misses: string[] = [];
  const target = (ok: boolean, what: string): string => {
    if (!ok) misses.push(what);
    return `${ok ? "met" : "MISSED"}: ${what}`;
  };
  try {
    const built = await buildPackage({ root, outFile: join(work, "keywarden-functions.zip") });
    const app = join(work, "app");
    await mkdir(app);
    await extractZip(built.outFile, app);
    const probes = Array.from({ length: IMPORT_RUNS }, () => probePackage(app));
    const importMs = median(probes.map((p) => p.importMs));
    const fromStartMs = median(probes.map((p) => p.sinceProcessStartMs));
    const cpuMs = median(probes.map((p) => p.importCpuMs));
    const handlersMs = median(probes.map((p) => p.handlersLoadMs));
    const functions = probes[0]?.registrations.length ?? 0;

    console.log(`\nPackage (what npm run package writes; node ${process.version})`);
    console.log(`  zip           ${mb(built.bytes)}, ${built.entries} entries, ${built.packages} production packages; ${mb(built.prunedBytes)} of declarations, TypeScript sources, source maps and Markdown left out`);
    console.log(`  largest       ${(await compressedByPackage(built.outFile)).slice(0, 8).map(([name, bytes]) => `${name} ${mb(bytes)}`).join(", ")} (compressed, nested packages counted with their parent)`);
    console.log(`  cold import   ${s(importMs)} for the ${functions} functions (fresh node process, median of ${IMPORT_RUNS}); ${s(fromStartMs)} from the process's start; ${s(cpuMs)} of CPU`);
    console.log(`  first calls   ${s(handlersMs)} more to load the ${probes[0]?.handlerFiles.length ?? 0} handlers and the SDK clients they need, paid by the first invocations (not a target; it was part of the import before the handlers loaded lazily)`);
    const ok = importMs < IMPORT_TARGET_MS;
    if (!ok) console.log(`  by dependency ${dependencyImports(app, root).map(([name, ms]) => `${name} ${s(ms)}`).join(", ")} (each alone in a fresh process, median of ${DEPENDENCY_RUNS}; they share @azure/core-*, so these overlap)`);
    console.log(`  ${target(built.bytes < ZIP_TARGET_BYTES, `zip under 15 MB (${mb(built.bytes)})`)}`);
    console.log(`  ${target(ok, `cold import under 300 ms (${s(importMs)})`)}`);
    return misses;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Compressed bytes per top-level package (and "dist" for KeyWarden's own code), largest first. */
async function compressedByPackage(zipFile: string): Promise<[string, number][]> {
  const zip = await new Promise<yauzl.ZipFile>((done, fail) => yauzl.open(zipFile, { lazyEntries: true }, (error, z) => (error ? fail(error) : done(z))));
  const totals = new Map<string, number>();
  await new Promise<void>((done, fail) => {
    zip.on("error", fail);
    zip.on("end", () => done());
    zip.on("entry", (entry: yauzl.Entry) => {
      const parts = entry.fileName.split("/");
      const owner = parts[0] !== "node_modules" ? (parts[0] ?? "") : parts[1]?.startsWith("@") ? `${parts[1]}/${parts[2]}` : (parts[1] ?? "");
      totals.set(owner, (totals.get(owner) ?? 0) + entry.compressedSize);
      zip.readEntry();
    });
    zip.readEntry();
  });
  return [...totals].sort(([, a], [, b]) => b - a);
}

/** Each of the root's production dependencies imported alone from the app, slowest first. */
function dependencyImports(app: string, root: string): [string, number][] {
  const { dependencies } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  const rows: [string, number][] = [];
  for (const name of Object.keys(dependencies)) {
    const runs: number[] = [];
    for (let i = 0; i < DEPENDENCY_RUNS; i += 1) {
      const source = `const t = performance.now(); await import(${JSON.stringify(name)}); console.log(performance.now() - t);`;
      const run = spawnSync(process.execPath, ["--input-type=module", "--eval", source], { cwd: app, encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: app } });
      if (run.status !== 0) throw new Error(`importing ${name} from the package failed: ${run.stderr}`);
      runs.push(Number(run.stdout.trim().split("\n").pop()));
    }
    rows.push([name, median(runs)]);
  }
  return rows.sort(([, a], [, b]) => b - a);
}
