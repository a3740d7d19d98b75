import { describe, expect, it } from "vitest";
import type { EstateSnapshot, MetricSummary } from "../../../estate/snapshot.js";
import { contextFor, contosoHsm, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const metrics = (snapshot: EstateSnapshot) => contosoHsm(snapshot).signals!.metrics!;
const summary = (average: number | null, minimum = average, points = average === null ? 0 : 24): MetricSummary => ({ average, minimum, maximum: average, points });

describe("hsm_availability_and_latency", () => {
  it("passes on the reference and drifted estates (100 %, 20 ms)", () => {
    for (const fixture of ["contoso-reference", "contoso-drifted"] as const) {
      const results = check(contextFor(loadSnapshot(fixture)));
      expect(results.map((r) => r.status)).toEqual(["PASS"]);
      expect(results[0]?.message).toContain("average Availability 100 % (minimum 100 %), average ServiceApiLatency 20 ms");
    }
  });

  it("fails when availability dips below the threshold, on average or at its minimum", () => {
    const snapshot = loadSnapshot();
    metrics(snapshot).availability = summary(99.95, 98.5);
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("Availability fell to 98.5 %");
    expect(result?.message).not.toContain("average Availability");
  });

  it("fails when latency is above the threshold", () => {
    const snapshot = loadSnapshot();
    metrics(snapshot).serviceApiLatency = summary(750);
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("average ServiceApiLatency 750 ms is above 500 ms");
  });

  it("fails when the HSM reported no availability data at all", () => {
    const snapshot = loadSnapshot();
    metrics(snapshot).availability = summary(null);
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("no Availability data points");
  });

  it("is UNKNOWN when the metrics could not be read", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.signals!.metrics = null;
    pushError(snapshot, { part: "managedHsm.metrics", resourceId: hsm.resourceId, operation: "metrics.queryResources", statusCode: 403, code: "AuthorizationFailed", message: "denied" });
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("UNKNOWN");
    expect(result?.evidence.collectionErrors?.map((e) => e.part)).toEqual(["managedHsm.metrics"]);
  });
});
