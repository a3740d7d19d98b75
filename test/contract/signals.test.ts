import { KeyClient } from "@azure/keyvault-keys";
import https from "node:https";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loopbackLookup } from "../../emulator/test-support.js";
import { createAzureClients } from "../../src/lib/azure/clients.js";
import { createEmulatorCredential } from "../../src/lib/azure/emulatorCredential.js";
import { check as auditEventsArriving } from "../../src/lib/compliance/checks/hsm_audit_events_arriving/check.js";
import { check as availabilityAndLatency } from "../../src/lib/compliance/checks/hsm_availability_and_latency/check.js";
import { check as deniedRequestsReviewed } from "../../src/lib/compliance/checks/hsm_denied_requests_reviewed/check.js";
import type { CheckFunction } from "../../src/lib/compliance/types.js";
import { fixedClock } from "../../src/lib/clock.js";
import type { KeyWardenConfig } from "../../src/lib/config/types.js";
import type { EstateSnapshot } from "../../src/lib/estate/snapshot.js";
import { collectEstate } from "../../src/lib/inventory/collect.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";

const NOW = new Date("2026-11-28T00:00:00.000Z");
const HSM = "Contoso-PROD-HSM";
/** Holds no role on the HSM: every data-plane call it makes is refused (403). */
const INTRUDER = "c3000000-0000-4000-8000-00000000dead";

/** The HSM's own signals, end to end: emulated HSM → AuditEvent rows / metrics → LogsQueryClient, MetricsClient → controls. */
describe("HSM signals through the emulator (Contoso reference estate)", () => {
  let t: TestEmulator;
  let config: KeyWardenConfig;
  let agent: https.Agent;

  beforeAll(async () => {
    t = await startTestEmulator("contoso-reference", { now: NOW });
    config = await t.config();
    agent = new https.Agent({ ca: t.emulator.caPem, lookup: loopbackLookup });
  });
  afterAll(async () => {
    agent.destroy();
    await t.close();
  });
  beforeEach(async () => {
    await t.control("POST", "/_emulator/reset");
  });

  const emulatorNow = async (): Promise<Date> => new Date(((await t.control("GET", "/_emulator/clock")) as { now: string }).now);
  /** A scan at the emulator's own time, through KeyWarden's real clients. */
  const collect = async (): Promise<EstateSnapshot> => collectEstate(config, createAzureClients(config.settings), fixedClock(await emulatorNow()));
  const judge = (check: CheckFunction, snapshot: EstateSnapshot) => check({ snapshot, policy: config.policy, now: new Date(snapshot.collectedAt) });

  it("a denied call in the emulator is a FAIL of hsm_denied_requests_reviewed naming the caller", async () => {
    const intruder = new KeyClient(t.emulator.hsmUri(HSM), createEmulatorCredential(INTRUDER), { agent, retryOptions: { maxRetries: 0 } });
    await expect(intruder.getKey("Contoso-SQLMI-CMK")).rejects.toMatchObject({ statusCode: 403 });
    await t.control("POST", "/_emulator/clock", { advance: "PT10M" });

    const snapshot = await collect();
    expect(snapshot.errors).toEqual([]);
    const [result] = judge(deniedRequestsReviewed, snapshot);
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain(`object id ${INTRUDER}: 1× 403 on KeyGet`);
    expect(result?.evidence.observed).toMatchObject({ denied: [{ objectId: INTRUDER, statusCode: 403, operation: "KeyGet", count: 1 }] });
    // Its first request drew the bearer challenge: a 401 without a caller, counted but not a finding.
    expect(result?.evidence.observed).toMatchObject({ unauthenticatedRequests: 1 });
    expect(judge(auditEventsArriving, snapshot).map((r) => r.status)).toEqual(["PASS"]);
  });

  it("an HSM with a diagnostic setting but no audit event for longer than the threshold fails hsm_audit_events_arriving", async () => {
    const fresh = await collect();
    expect(judge(auditEventsArriving, fresh).map((r) => r.status)).toEqual(["PASS"]);

    // Two days without a call: the setting is still there, the newest AuditEvent (the scan above) is 48 hours old.
    await t.control("POST", "/_emulator/clock", { advance: "P2D" });
    const stale = await collect();
    expect(stale.managedHsms[0]?.diagnosticSettings?.map((s) => s.name)).toEqual(["hsm-audit"]);
    const [result] = judge(auditEventsArriving, stale);
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("48 hours before the scan (at most 24 allowed)");
  });

  it("availability seeded below the threshold fails hsm_availability_and_latency; the reference passes", async () => {
    expect(judge(availabilityAndLatency, await collect()).map((r) => r.status)).toEqual(["PASS"]);
    await t.control("POST", "/_emulator/monitor/metrics", { hsm: HSM, metric: "Availability", value: 92, from: "-PT3H", to: "-PT2H" });
    const [result] = judge(availabilityAndLatency, await collect());
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("Availability fell to 92 %");
  });

  it("a workspace or metrics endpoint that cannot be read leaves the controls UNKNOWN, with errors naming the part", async () => {
    await t.control("POST", "/_emulator/faults", { host: "loganalytics", status: 403, code: "InsufficientAccessError", persistent: true });
    await t.control("POST", "/_emulator/faults", { host: "metrics", status: 503, persistent: true });
    const snapshot = await collect();
    expect(snapshot.errors.map((e) => [e.part, e.statusCode]).sort()).toEqual([
      ["managedHsm.auditEvents", 403],
      ["managedHsm.deniedRequests", 403],
      ["managedHsm.metrics", 503],
    ]);
    for (const check of [auditEventsArriving, deniedRequestsReviewed, availabilityAndLatency]) {
      const [result] = judge(check, snapshot);
      expect(result?.status).toBe("UNKNOWN");
      expect(result?.evidence.collectionErrors?.length).toBe(1);
    }
  });
});
