import { describe, expect, it } from "vitest";
import type { DeniedRequestGroup, EstateSnapshot } from "../../../estate/snapshot.js";
import { contextFor, contosoHsm, loadSnapshot, pushError } from "../../../../../test/support/snapshots.js";
import { coveredCheck } from "../../../../../test/support/controlCoverage.js";
import { check as checkUnderTest } from "./check.js";
import { metadata } from "./metadata.js";

const check = coveredCheck(metadata.id, checkUnderTest);

const denied = (snapshot: EstateSnapshot) => contosoHsm(snapshot).signals!.deniedRequests!;
const group = (g: Partial<DeniedRequestGroup>): DeniedRequestGroup => ({ operation: "KeyGet", statusCode: 403, count: 1, lastSeen: "2026-11-27T20:00:00.000Z", callerIpAddress: "10.1.2.3", ...g });

describe("hsm_denied_requests_reviewed", () => {
  it("passes on the reference and drifted estates", () => {
    for (const fixture of ["contoso-reference", "contoso-drifted"] as const) {
      const results = check(contextFor(loadSnapshot(fixture)));
      expect(results.map((r) => r.status)).toEqual(["PASS"]);
    }
  });

  it("passes over unauthenticated 401s (every SDK client's first challenge), counting them", () => {
    const snapshot = loadSnapshot();
    denied(snapshot).groups = [group({ statusCode: 401, operation: "Authentication", count: 12 })];
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("PASS");
    expect(result?.message).toContain("12 unauthenticated requests answered 401");
    expect(result?.evidence.observed).toMatchObject({ denied: [], unauthenticatedRequests: 12 });
  });

  it("fails on a 403, naming the caller by the policy's display name and its object id", () => {
    const snapshot = loadSnapshot();
    denied(snapshot).groups = [group({ objectId: "a1000000-0000-4000-8000-000000000002", operation: "KeyRotate", count: 3 })];
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("refused 3 requests in the last 24 hours: Key management team (object id a1000000-0000-4000-8000-000000000002): 3× 403 on KeyRotate from 10.1.2.3");
    expect(result?.evidence.observed).toMatchObject({ denied: [{ objectId: "a1000000-0000-4000-8000-000000000002", statusCode: 403, count: 3 }] });
  });

  it("fails on a 401 that names a caller (a token the HSM refused), and says when more groups exist than were read", () => {
    const snapshot = loadSnapshot();
    denied(snapshot).groups = [group({ statusCode: 401, appId: "d4000000-0000-4000-8000-0000000000aa", count: 1 })];
    denied(snapshot).truncated = true;
    const [result] = check(contextFor(snapshot));
    expect(result?.status).toBe("FAIL");
    expect(result?.message).toContain("app id d4000000-0000-4000-8000-0000000000aa: 1× 401 on KeyGet");
    expect(result?.message).toContain("and more groups than were read");
  });

  it("is UNKNOWN when the denied requests could not be read, or no workspace receives the audit events", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.signals!.deniedRequests = null;
    pushError(snapshot, { part: "managedHsm.deniedRequests", resourceId: hsm.resourceId, operation: "logs.queryResource(deniedRequests)", statusCode: 400, code: "BadArgumentError", message: "bad query" });
    const [first] = check(contextFor(snapshot));
    expect(first?.status).toBe("UNKNOWN");
    expect(first?.evidence.collectionErrors?.map((e) => e.operation)).toEqual(["logs.queryResource(deniedRequests)"]);

    const none = loadSnapshot();
    Object.assign(contosoHsm(none).signals!, { workspace: "none", auditEvents: null, deniedRequests: null });
    const [second] = check(contextFor(none));
    expect(second?.status).toBe("UNKNOWN");
    expect(second?.message).toContain("cannot be read");
  });
});
