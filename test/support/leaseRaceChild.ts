/**
 * One contender in the cross-process lease race (test/unit/state.localLeaseRace.test.ts): opens the
 * local store in the directory it is given, says "ready", waits for "go" on stdin, tries the lease once
 * and prints "won" or "busy". It exits holding the lease, as a crashed run would.
 */
import { createInterface } from "node:readline";
import { systemClock } from "../../src/lib/clock.js";
import { createLocalDirectoryStore } from "../../src/lib/state/localDirectoryStore.js";

const [dir, name] = process.argv.slice(2);
if (!dir || !name) throw new Error("usage: leaseRaceChild.ts <dir> <name>");
const store = createLocalDirectoryStore(dir, { clock: systemClock });
const lines = createInterface({ input: process.stdin });
process.stdout.write("ready\n");
for await (const line of lines) {
  if (line.trim() !== "go") continue;
  const lease = await store.acquireLease(name, { durationMs: 15_000, owner: `pid ${process.pid}` });
  process.stdout.write(lease ? "won\n" : "busy\n");
  break;
}
lines.close();
