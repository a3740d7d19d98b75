import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAzureClients } from "../../src/lib/azure/clients.js";
import { fixedClock } from "../../src/lib/clock.js";
import { collectEstate } from "../../src/lib/inventory/collect.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";

/** A scan run under its overall deadline, end to end against the emulator: an expired deadline is a collection error, never a hang. */
describe("a collection under an overall deadline", () => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startTestEmulator("contoso-reference");
  });
  afterAll(() => t.close());

  it("records every call the deadline cut off as a DeadlineExceeded collection error", async () => {
    const config = await t.config({ KEYWARDEN_MAX_RETRIES: "3" });
    const clients = createAzureClients(config.settings);
    t.exchanges.length = 0;
    const snapshot = await collectEstate(config, clients, fixedClock(new Date()), { deadlineMs: 0 });
    expect(snapshot.errors.length).toBeGreaterThan(0);
    expect(snapshot.errors.filter((e) => e.code !== "DeadlineExceeded")).toEqual([]);
    expect(snapshot.errors.map((e) => e.message).filter((m) => !/did not finish within the overall deadline of 0 ms/.test(m))).toEqual([]);
    expect(snapshot.managedHsms[0]?.properties).toBeNull();
    expect(t.exchanges).toEqual([]);
  });

  it("reads the estate in full when the deadline is ample", async () => {
    const config = await t.config();
    const snapshot = await collectEstate(config, createAzureClients(config.settings), fixedClock(new Date()), { deadlineMs: 120_000 });
    expect(snapshot.errors).toEqual([]);
  });
});
