import { createHash } from "node:crypto";
import type { Invocation, Location, Log, Notification, ReportingDescriptor, Result } from "sarif";
import type { ComplianceReport } from "../compliance/evaluate.js";
import type { ControlMetadata, ControlResult, Severity } from "../compliance/types.js";
import type { CollectionError } from "../estate/snapshot.js";
import { codeBlock, escapeMarkdown } from "./markdownText.js";
import { escapeUnsafeInJson, neutraliseText } from "../text/neutralise.js";
import { firstSeenOf, type ReportExtras } from "./reportHistory.js";
import { mappingReferences } from "./view.js";

export const SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/**
 * GitHub code scanning's `security-severity` (a CVSS-like score, carried as a string as CodeQL does):
 * > 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low.
 */
export const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = { critical: "9.5", high: "8.0", medium: "5.5", low: "3.0", info: "1.0" };

const LEVEL: Readonly<Record<Severity, "error" | "warning" | "note">> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "warning",
  info: "note",
};

/** The partialFingerprints key; bump its version if the fingerprint's inputs ever change. */
export const FINGERPRINT_KEY = "keywardenFinding/v1";

/**
 * SARIF 2.1.0, one run. Rules are all evaluated controls; results are the FAIL results
 * (`kind: "fail"`, level from severity) and the UNKNOWN ones (`kind: "review"`: a person must look,
 * and SARIF requires `level: "none"` for any kind other than "fail").
 *
 * PASS results are left out: code-scanning consumers (GitHub, Azure DevOps) do not all honour
 * `kind: "pass"` and would raise them as alerts, while an absent result is how SARIF tools close
 * an alert. Coverage is kept in `run.properties.summary`; controls with nothing in scope are listed in
 * `run.properties.notApplicableControls` rather than as `kind: "notApplicable"` results, for the same reason. Collection errors are tool execution
 * notifications on the run's invocation. With a history, a result's first-seen time is its
 * `provenance.firstDetectionTimeUtc` (SARIF §3.48.2) and `properties.firstSeen`. Texts a viewer shows (messages,
 * descriptions, location names) have control and bidi characters as visible escapes; data properties keep exact
 * values, written with `\uXXXX` escapes.
 */
export function renderSarif(report: ComplianceReport, { history }: ReportExtras = {}): string {
  const metadata = report.controls.map((o) => o.metadata);
  const ruleIndex = new Map(metadata.map((m, index) => [m.id, index]));
  const results: Result[] = report.controls.flatMap((outcome) =>
    outcome.results.filter((r) => r.status !== "PASS").map((r) => sarifResult(r, ruleIndex.get(outcome.metadata.id) ?? -1, firstSeenOf(history, r))),
  );
  const log: Log = {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: "KeyWarden", rules: metadata.map(rule) } },
        invocations: [invocation(report)],
        results,
        properties: {
          snapshot: report.snapshot,
          minSeverity: report.minSeverity,
          summary: report.summary,
          notApplicableControls: report.controls.filter((o) => o.status === "NOT_APPLICABLE").map((o) => o.metadata.id),
        },
      },
    ],
  };
  return `${escapeUnsafeInJson(JSON.stringify(log, null, 2))}\n`;
}

function rule(metadata: ControlMetadata): ReportingDescriptor {
  const { summary, cli, bicep } = metadata.remediation;
  const mappings = mappingReferences(metadata);
  const helpText = [summary, "", `az CLI: ${cli}`, ...(bicep ? ["", `Bicep: ${bicep}`] : [])].join("\n");
  const helpMarkdown = [
    escapeMarkdown(summary),
    codeBlock(cli, "sh"),
    ...(bicep ? ["Bicep:", codeBlock(bicep, "bicep")] : []),
    ...(mappings.length > 0
      ? ["Mappings:", mappings.map((m) => `- ${escapeMarkdown(`${m.framework} ${m.id}`)}${m.title ? `: ${escapeMarkdown(m.title)}` : ""}`).join("\n")]
      : []),
  ].join("\n\n");
  return {
    id: metadata.id,
    name: pascalCase(metadata.id),
    shortDescription: { text: neutraliseText(metadata.title) },
    fullDescription: { text: neutraliseText(metadata.risk) },
    help: { text: neutraliseText(helpText, { keepLayout: true }), markdown: helpMarkdown },
    defaultConfiguration: { level: LEVEL[metadata.severity] },
    properties: {
      tags: [
        "security",
        "keywarden",
        `area/${metadata.area}`,
        ...metadata.mappings.pciDss.map((id) => `pci-dss-v4.0/${id}`),
        ...metadata.mappings.cis.map((id) => `cis-azure/${id.replace(" ", "/")}`),
        ...metadata.mappings.azurePolicy.map((id) => `azure-policy/${id}`),
      ],
      "security-severity": SECURITY_SEVERITY[metadata.severity],
      severity: metadata.severity,
      area: metadata.area,
    },
  };
}

function sarifResult(result: ControlResult, ruleIndex: number, firstSeen: string | undefined): Result {
  const fail = result.status === "FAIL";
  return {
    ruleId: result.controlId,
    ...(ruleIndex >= 0 ? { ruleIndex } : {}),
    kind: fail ? "fail" : "review",
    level: fail ? LEVEL[result.severity] : "none",
    message: { text: neutraliseText(result.message) },
    locations: [resourceLocation(result.resourceId, result.resourceName)],
    partialFingerprints: { [FINGERPRINT_KEY]: findingFingerprint(result.controlId, result.resourceId) },
    ...(firstSeen === undefined ? {} : { provenance: { firstDetectionTimeUtc: firstSeen } }),
    properties: {
      ...(firstSeen === undefined ? {} : { firstSeen }),
      status: result.status,
      severity: result.severity,
      "security-severity": SECURITY_SEVERITY[result.severity],
      resourceName: result.resourceName,
      evidence: result.evidence,
    },
  };
}

function resourceLocation(resourceId: string, resourceName?: string): Location {
  return {
    logicalLocations: [
      {
        ...(resourceId ? { fullyQualifiedName: neutraliseText(resourceId) } : {}),
        ...(resourceName ? { name: neutraliseText(resourceName) } : {}),
        kind: "resource",
      },
    ],
  };
}

/**
 * Stable across runs and report versions: the control id and the resource id, lower-cased because
 * ARM resource ids and Managed HSM key names compare case-insensitively (Azure may change the
 * spelling it returns). Messages, evidence and severity are left out so a finding keeps its
 * identity while its details change.
 */
export function findingFingerprint(controlId: string, resourceId: string): string {
  return createHash("sha256").update(`${controlId}\u0000${resourceId.toLowerCase()}`).digest("hex");
}

function invocation(report: ComplianceReport): Invocation {
  return {
    executionSuccessful: true,
    endTimeUtc: report.generatedAt,
    toolExecutionNotifications: report.collectionErrors.map(notification),
  };
}

function notification(error: CollectionError): Notification {
  return {
    descriptor: { id: "collection-error" },
    level: "warning",
    message: { text: neutraliseText(`${error.operation} failed for ${error.resourceId || "(no resource)"}: ${error.message}`) },
    locations: [resourceLocation(error.resourceId)],
    properties: { ...error },
  };
}

function pascalCase(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join("");
}
