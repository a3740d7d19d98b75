import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import AjvModule from "ajv";
import addFormatsModule from "ajv-formats";
import type { Log, ReportingDescriptor, Result } from "sarif";
import { describe, expect, it } from "vitest";
import { findingFingerprint, FINGERPRINT_KEY, renderSarif, SECURITY_SEVERITY } from "../../../src/lib/report/sarif.js";
import { allResults, sampleReport, SCRIPT_PAYLOADS } from "./sampleReport.js";

// CommonJS packages under NodeNext: the classes are on `.default`.
const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

/**
 * The OASIS SARIF 2.1.0 schema (2.1.0-rtm.5, the text that became the standard) as shipped by
 * Microsoft's @microsoft/jest-sarif. It is written in draft-04 syntax; its only draft-04-specific
 * keyword is the root `id`, so it becomes draft-07 (Ajv's default dialect) by renaming that to `$id`.
 */
function sarifSchema(): Record<string, unknown> {
  const path = createRequire(import.meta.url).resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");
  const { $schema, id, ...schema } = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  expect($schema).toBe("http://json-schema.org/draft-04/schema#");
  return { $id: id, ...schema };
}

function validator(): (data: unknown) => string[] {
  // unicodeRegExp off: rtm.5's `language` pattern has a stray `]` that only the u flag rejects.
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv);
  const validate = ajv.compile(sarifSchema());
  return (data) => (validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""} ${JSON.stringify(e.params)}`));
}

describe("renderSarif", () => {
  const report = sampleReport();
  const body = renderSarif(report);
  const log = JSON.parse(body) as Log;
  const run = log.runs[0];
  const rules = run?.tool.driver.rules ?? [];
  const results = run?.results ?? [];
  const validate = validator();

  it("validates against the SARIF 2.1.0 JSON schema", () => {
    expect(validate(log)).toEqual([]);
  });

  it("the validator catches an invalid log (so the test above means something)", () => {
    expect(validate({ ...log, version: "2.0.0" })).not.toEqual([]);
    expect(validate({ ...log, runs: [{ ...run, results: [{ ...results[0], kind: "failed" }] }] })).not.toEqual([]);
    expect(validate({ ...log, runs: [{ ...run, results: [{ ...results[0], message: {} }] }] })).not.toEqual([]);
  });

  it("has one run whose driver is KeyWarden, with one rule per control", () => {
    expect(log.version).toBe("2.1.0");
    expect(log.$schema).toBe("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json");
    expect(log.runs).toHaveLength(1);
    expect(run?.tool.driver.name).toBe("KeyWarden");
    expect(rules.map((r) => r.id)).toEqual(report.controls.map((o) => o.metadata.id));
  });

  it("describes each rule: name, descriptions, help with remediation, level, tags with mappings, security-severity", () => {
    const purge = rules.find((r) => r.id === "hsm_purge_protection_enabled") as ReportingDescriptor;
    expect(purge.name).toBe("HsmPurgeProtectionEnabled");
    expect(purge.shortDescription?.text).toBe("Managed HSM has soft delete and purge protection enabled");
    expect(purge.fullDescription?.text).toMatch(/^Without purge protection/);
    expect(purge.help?.text).toContain("az CLI: az keyvault update-hsm --hsm-name <hsm-name> --resource-group <resource-group> --enable-purge-protection true");
    expect(purge.help?.markdown).toContain("```sh\naz keyvault update-hsm --hsm-name <hsm-name>");
    expect(purge.help?.markdown).toContain("- PCI DSS v4.0 3.7.3: Key-management procedures cover secure storage of keys");
    expect(purge.defaultConfiguration?.level).toBe("error");
    expect(purge.properties?.tags).toEqual([
      "security",
      "keywarden",
      "area/hsm",
      "pci-dss-v4.0/3.7.3",
      "pci-dss-v4.0/3.7.5",
      "cis-azure/2.0.0/8.5",
      "cis-azure/3.0.0/3.3.5",
      "cis-azure/4.0.0/9.3.5",
      "azure-policy/c39ba22d-4428-4149-b981-70acb31fc383",
    ]);
    const byId = new Map(rules.map((r) => [r.id, r]));
    expect(byId.get("hsm_purge_protection_enabled")?.properties?.["security-severity"]).toBe("9.5");
    expect(byId.get("keys_expiration_set")?.properties?.["security-severity"]).toBe("8.0");
    expect(byId.get("storage_cmk")?.properties?.["security-severity"]).toBe("5.5");
    expect(byId.get("storage_cmk")?.defaultConfiguration?.level).toBe("warning");
    expect(byId.get("keys_type_allowed")?.properties?.["security-severity"]).toBe("3.0");
    expect(byId.get("keys_version_headroom")?.properties?.["security-severity"]).toBe("1.0");
    expect(byId.get("keys_version_headroom")?.defaultConfiguration?.level).toBe("note");
    expect(Object.values(SECURITY_SEVERITY).map(Number)).toEqual([9.5, 8, 5.5, 3, 1]);
  });

  it("reports FAIL as kind fail with a level from severity, UNKNOWN as kind review with level none, and leaves PASS out", () => {
    const source = allResults(report);
    expect(results).toHaveLength(source.filter((r) => r.status !== "PASS").length);
    expect(results.filter((r) => r.kind === "fail")).toHaveLength(source.filter((r) => r.status === "FAIL").length);
    expect(results.filter((r) => r.kind === "review")).toHaveLength(source.filter((r) => r.status === "UNKNOWN").length);
    for (const result of results) {
      const severity = result.properties?.severity as string;
      const expected = result.kind === "review" ? "none" : { critical: "error", high: "error", medium: "warning", low: "warning", info: "note" }[severity];
      expect(result.level, `${result.ruleId} ${severity}`).toBe(expected);
      expect(rules[result.ruleIndex ?? -1]?.id).toBe(result.ruleId);
    }
  });

  it("locates each result at its Azure resource (a logical location) and carries the evidence", () => {
    const failing = results.find((r) => r.properties?.resourceName === SCRIPT_PAYLOADS.scriptTag) as Result;
    expect(failing.message.text).toBe(`Purge protection is disabled on ${SCRIPT_PAYLOADS.attributeBreakout}.`);
    expect(failing.locations).toEqual([
      {
        logicalLocations: [
          {
            fullyQualifiedName:
              "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-prod-crypto/providers/Microsoft.KeyVault/managedHSMs/hsm-<script>alert(1)</script>",
            name: SCRIPT_PAYLOADS.scriptTag,
            kind: "resource",
          },
        ],
      },
    ]);
    expect(failing.properties?.evidence).toEqual(allResults(report).find((r) => r.resourceName === SCRIPT_PAYLOADS.scriptTag)?.evidence);
    const unknown = results.find((r) => r.kind === "review" && r.ruleId === "hsm_public_network_access_disabled");
    expect((unknown?.properties?.evidence as { collectionErrors: unknown[] }).collectionErrors).toHaveLength(1);
  });

  it("fingerprints a finding by control and resource id only, case-insensitively", () => {
    for (const result of results) {
      const resourceId = result.locations?.[0]?.logicalLocations?.[0]?.fullyQualifiedName ?? "";
      expect(result.partialFingerprints?.[FINGERPRINT_KEY]).toBe(findingFingerprint(result.ruleId ?? "", resourceId));
    }
    expect(new Set(results.map((r) => r.partialFingerprints?.[FINGERPRINT_KEY])).size).toBe(results.length);
    const id = "/subscriptions/x/resourceGroups/RG/providers/Microsoft.KeyVault/managedHSMs/HSM";
    expect(findingFingerprint("c", id)).toBe(findingFingerprint("c", id.toLowerCase()));
    expect(findingFingerprint("c", id)).not.toBe(findingFingerprint("d", id));
    expect(findingFingerprint("c", id)).toMatch(/^[0-9a-f]{64}$/);
    // Stable when the message, evidence and severity change.
    const changed = sampleReport();
    for (const r of allResults(changed)) Object.assign(r, { message: "changed", severity: "info", evidence: { ...r.evidence, observed: 42 } });
    const again = (JSON.parse(renderSarif(changed)) as Log).runs[0]?.results ?? [];
    expect(again.map((r) => r.partialFingerprints)).toEqual(results.map((r) => r.partialFingerprints));
  });

  it("reports collection errors as tool execution notifications, and the snapshot and summary as run properties", () => {
    const notifications = run?.invocations?.[0]?.toolExecutionNotifications ?? [];
    expect(run?.invocations?.[0]?.executionSuccessful).toBe(true);
    expect(notifications.map((n) => n.properties?.code)).toEqual(["AuthorizationFailed", "KeyNotFound"]);
    expect(notifications[0]?.level).toBe("warning");
    expect(run?.properties?.snapshot).toEqual(report.snapshot);
    expect(run?.properties?.summary).toEqual(report.summary);
  });
});
