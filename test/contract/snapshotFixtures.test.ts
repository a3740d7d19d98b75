import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { generateSnapshotFixture, SNAPSHOT_FIXTURES, snapshotFixturePath } from "../../scripts/gen-snapshot-fixtures.js";

/**
 * The controls' tests judge test/fixtures/snapshots/*.json, so those must be exactly what the collector makes
 * of the emulator fixtures today: a fixture or collector change that is not regenerated would leave the
 * controls tested on data the collector no longer produces.
 */
describe("the committed snapshot fixtures", () => {
  it.each(SNAPSHOT_FIXTURES)("%s is what the collector makes of the emulator fixture (npx tsx scripts/gen-snapshot-fixtures.ts)", async (fixture) => {
    const { text, errors } = await generateSnapshotFixture(fixture);
    expect(errors).toBe(0);
    const committed = await readFile(snapshotFixturePath(fixture), "utf8");
    expect(committed.length).toBeGreaterThan(1000);
    expect(committed === text, `${snapshotFixturePath(fixture)} is stale: run npx tsx scripts/gen-snapshot-fixtures.ts`).toBe(true);
  });
});
