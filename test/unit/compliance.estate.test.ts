import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { REGISTERED_CONTROLS } from "../../src/lib/compliance/checks/index.js";
import { evaluate } from "../../src/lib/compliance/evaluate.js";
import { loadControls } from "../../src/lib/compliance/registry.js";
import { renderReport } from "../../src/lib/report/formats.js";
import { contosoPolicy, loadSnapshot, type SnapshotFixture } from "../support/snapshots.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const controls = loadControls(REGISTERED_CONTROLS);

function scan(name: SnapshotFixture) {
  const snapshot = loadSnapshot(name);
  return evaluate(snapshot, contosoPolicy(), controls, { now: new Date(snapshot.collectedAt) });
}

/**
 * The drift planted in emulator/fixtures/contoso-drifted.json (its `drift` list), and the findings
 * each must produce — no more, no fewer.
 */
const PLANTED: Record<string, [controlId: string, resourceName: RegExp][]> = {
  "rbac-keymgmt-crypto-officer": [["rbac_key_management_crypto_user", /^Key management team/]],
  "rbac-storage-identity-at-root": [
    ["rbac_service_identity_key_scoped", /^contosoprodcmkst01 /],
    ["rbac_unexpected_principals", /^contosoprodcmkst01 /],
  ],
  "des-centralindia-pinned-old-version": [["disks_des_current_version", /^des-contoso-centralindia$/]],
  "storage-cmk-expires-soon": [["keys_days_to_expiry", /^Contoso-STORAGE-CMK$/]],
  "hsm-private-endpoint-rejected": [["keys_estate_error_state", /^pe-contoso-hsm-westindia -> /]],
  "sqlmi-provisioning-failed": [["keys_estate_error_state", /^contoso-sqlmi-01$/]],
  "des-southindia-auto-rotation-error": [["keys_estate_error_state", /^des-contoso-southindia$/]],
  "hsm-arm-key-management-allowed": [["hsm_arm_key_management_disabled", /^Contoso-PROD-HSM$/]],
};

describe("scanning the Contoso estates", () => {
  it("the reference estate scans clean: every result passes", () => {
    const report = scan("contoso-reference");
    expect(report.summary.results).toMatchObject({ FAIL: 0, UNKNOWN: 0 });
    expect(report.summary.results.PASS).toBeGreaterThan(controls.length);
    expect(report.controls.filter((c) => c.status !== "PASS").map((c) => [c.metadata.id, c.status])).toEqual([]);
    expect(report.summary.controls).toEqual({ FAIL: 0, UNKNOWN: 0, PASS: controls.length, NOT_APPLICABLE: 0 });
  });

  it("covers every drift the fixture plants", () => {
    const fixture = JSON.parse(readFileSync(join(root, "emulator", "fixtures", "contoso-drifted.json"), "utf8")) as { drift: { id: string }[] };
    expect(fixture.drift.map((d) => d.id).sort()).toEqual(Object.keys(PLANTED).sort());
  });

  it("the drifted estate yields exactly its planted findings, each with evidence and remediation", () => {
    const report = scan("contoso-drifted");
    const findings = report.controls.flatMap((c) => c.results.filter((r) => r.status !== "PASS").map((r) => ({ ...r, metadata: c.metadata })));
    const expected = Object.values(PLANTED).flat();
    expect(findings).toHaveLength(expected.length);
    for (const [controlId, resourceName] of expected) {
      const match = findings.filter((f) => f.controlId === controlId && resourceName.test(f.resourceName));
      expect(match, `${controlId} on ${resourceName}`).toHaveLength(1);
      const f = match[0]!;
      expect(f.status).toBe("FAIL");
      expect(f.evidence.observed).not.toEqual(f.evidence.expected);
      expect(f.evidence.observedAt).toBe(report.snapshot.collectedAt);
      expect(f.metadata.remediation.cli).toMatch(/^az /);
    }
    expect(findings.find((f) => f.controlId === "keys_days_to_expiry")?.severity).toBe("critical");
  });

  it("a control that throws is reported UNKNOWN, never as a pass", () => {
    const snapshot = loadSnapshot();
    const broken = [{ metadata: controls[0]!.metadata, check: () => { throw new Error("boom"); } }];
    const report = evaluate(snapshot, contosoPolicy(), broken, { now: new Date(snapshot.collectedAt) });
    expect(report.controls[0]).toMatchObject({ status: "UNKNOWN", results: [{ status: "UNKNOWN", message: expect.stringContaining("boom") }] });
  });

  it("the report names the snapshot it judged by hash, stable for the same snapshot", () => {
    expect(scan("contoso-reference").snapshot.sha256).toBe(scan("contoso-reference").snapshot.sha256);
    expect(scan("contoso-reference").snapshot.sha256).not.toBe(scan("contoso-drifted").snapshot.sha256);
  });
  // V8 keeps a string with any character above U+00FF two bytes per character, and JSON.stringify's output
  // with it: the 10,000-consumer JSON report (47.7 MB) then peaked ~80 MB higher while it was rendered
  // (measured with npm run bench). So the text KeyWarden itself writes into a report (messages, resource
  // labels, metadata, collection errors) stays Latin-1; only names and values from the estate may go beyond.
  it.each(["contoso-reference", "contoso-drifted"] as const)("the JSON and CSV reports of %s are Latin-1 throughout", (name) => {
    const report = scan(name);
    expect(report.summary.results.PASS).toBeGreaterThan(0);
    for (const format of ["json", "csv"] as const) {
      const body = renderReport(report, format).body;
      const beyond = [...new Set([...body].filter((c) => c.charCodeAt(0) > 0xff))];
      expect({ format, beyond }).toEqual({ format, beyond: [] });
    }
  });
});
