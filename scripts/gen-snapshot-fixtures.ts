/**
 * Writes test/fixtures/snapshots/<fixture>.json: the estate snapshot of each emulator fixture,
 * collected through the real SDK clients at a fixed time. The controls' tests run on these, so they
 * judge data shaped exactly as the collector produces it. The emulator's port is removed from HSM
 * URLs so the snapshots read like Azure's. Regenerate after changing a fixture or the collector:
 * `npx tsx scripts/gen-snapshot-fixtures.ts` (test/contract/snapshotFixtures.test.ts fails until then).
 */
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEmulator } from "../emulator/index.js";
import { keywardenEnv } from "../emulator/keywardenEnv.js";
import { createAzureClients } from "../src/lib/azure/clients.js";
import { fixedClock } from "../src/lib/clock.js";
import { loadConfig } from "../src/lib/config/load.js";
import { collectEstate } from "../src/lib/inventory/collect.js";

export const SNAPSHOT_TIME = "2026-11-28T00:00:00.000Z";
export const SNAPSHOT_FIXTURES = ["contoso-reference", "contoso-drifted"] as const;
const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export const snapshotFixturePath = (fixture: string): string => join(root, "test", "fixtures", "snapshots", `${fixture}.json`);

/** The text of test/fixtures/snapshots/<fixture>.json as the collector makes it today. */
export async function generateSnapshotFixture(fixture: string): Promise<{ text: string; errors: number }> {
  const emulator = await startEmulator({ fixture, now: new Date(SNAPSHOT_TIME) });
  try {
    const config = await loadConfig({
      env: keywardenEnv(emulator),
      readFile: (p) => readFile(p, "utf8"),
    });
    const snapshot = await collectEstate(config, createAzureClients(config.settings), fixedClock(SNAPSHOT_TIME));
    const json = JSON.stringify(snapshot, null, 2).replaceAll(`.managedhsm.azure.net:${emulator.port}`, ".managedhsm.azure.net");
    return { text: `${json}\n`, errors: snapshot.errors.length };
  } finally {
    await emulator.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const fixture of SNAPSHOT_FIXTURES) {
    const { text, errors } = await generateSnapshotFixture(fixture);
    await writeFile(snapshotFixturePath(fixture), text);
    console.log(`wrote ${snapshotFixturePath(fixture)} (${errors} collection errors)`);
  }
}
