import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/lib/clock.js";
import { createLocalDirectoryStore } from "../../src/lib/state/localDirectoryStore.js";

/** The local store's leases are safe across processes: two `keywarden rotate` at once, or a crash. */
const NAME = "locks/hsm1/cmk-sql";
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "keywarden-race-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const CHILD = resolve(import.meta.dirname, "..", "support", "leaseRaceChild.ts");

/** Starts a contender and resolves once it is ready; `go()` releases it and resolves with its answer. */
function contender(): Promise<{ go: () => Promise<string> }> {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, NAME], { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  let errors = "";
  child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<string>((done, fail) =>
    child.once("exit", (code) => (code === 0 ? done(output.replace("ready\n", "").trim()) : fail(new Error(`contender exited ${code}: ${errors}`)))),
  );
  return new Promise((ready, fail) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.startsWith("ready\n")) {
        ready({
          go: () => {
            child.stdin.end("go\n");
            return exited;
          },
        });
      }
    });
    exited.catch(fail);
  });
}

describe("the local directory store's leases across processes", () => {
  it("give exactly one of several processes racing for a lease the win", async () => {
    const contenders = await Promise.all([contender(), contender(), contender(), contender()]);
    const answers = await Promise.all(contenders.map((c) => c.go()));
    expect(answers.sort()).toEqual(["busy", "busy", "busy", "won"]);
    // The winner exited holding it: the lease stays taken until it expires.
    expect(await createLocalDirectoryStore(dir, { clock: systemClock }).acquireLease(NAME, { durationMs: 15_000, owner: "late" })).toBeUndefined();
  }, 60_000);

  it("give exactly one of many concurrent acquirers (separate store instances) the win", async () => {
    const stores = Array.from({ length: 16 }, () => createLocalDirectoryStore(dir, { clock: systemClock }));
    const leases = await Promise.all(stores.map((store, i) => store.acquireLease(NAME, { durationMs: 15_000, owner: `run-${i}` })));
    expect(leases.filter((lease) => lease !== undefined)).toHaveLength(1);
  });

  it("break a mutex left behind by a process that died holding it", async () => {
    // A crashed process's mutex: the directory of this name's mutex, last touched a minute ago.
    const mutex = join(dir, "mutex", createHash("sha256").update(NAME).digest("hex").slice(0, 40));
    mkdirSync(mutex, { recursive: true });
    const aMinuteAgo = new Date(systemClock.now().getTime() - 60_000);
    utimesSync(mutex, aMinuteAgo, aMinuteAgo);
    const lease = await createLocalDirectoryStore(dir, { clock: systemClock }).acquireLease(NAME, { durationMs: 15_000, owner: "after-crash" });
    expect(lease).toMatchObject({ owner: "after-crash" });
  });
});
