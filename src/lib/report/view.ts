/**
 * What the human-readable renderers (Markdown, HTML) share: the order findings are shown in and
 * mapping ids resolved to their titles. Plain functions over the report; no formatting here.
 */
import type { ControlOutcome } from "../compliance/evaluate.js";
import { AZURE_POLICY, CIS_AZURE, PCI_DSS_V4 } from "../compliance/frameworks.js";
import { SEVERITIES, SEVERITY_RANK, type ControlMetadata, type ControlResult, type ControlStatus, type EvidenceValue, type Severity, type Status } from "../compliance/types.js";

const STATUS_RANK: Record<ControlStatus, number> = { FAIL: 2, UNKNOWN: 1, PASS: 0, NOT_APPLICABLE: -1 };

export interface MappingReference {
  framework: string;
  id: string;
  /** Undefined when the catalogue has no such entry (the registry test should have caught it). */
  title: string | undefined;
}

export function mappingReferences(metadata: ControlMetadata): MappingReference[] {
  return [
    ...metadata.mappings.pciDss.map((id) => ({ framework: "PCI DSS v4.0", id, title: PCI_DSS_V4[id] })),
    ...metadata.mappings.cis.map((id) => ({ framework: "CIS Microsoft Azure Foundations", id: cisLabel(id), title: CIS_AZURE[id] })),
    ...metadata.mappings.azurePolicy.map((id) => ({ framework: "Azure Policy", id, title: AZURE_POLICY[id] })),
  ];
}

/** "2.0.0 8.5" → "v2.0.0 8.5" (the catalogue key is "<benchmark version> <recommendation>"). */
function cisLabel(id: string): string {
  return /^\d/.test(id) ? `v${id}` : id;
}

/** Worst first: FAIL before UNKNOWN before PASS before NOT_APPLICABLE, then by severity, then by id (stable for diffs). */
export function compareOutcomes(a: ControlOutcome, b: ControlOutcome): number {
  return (
    STATUS_RANK[b.status] - STATUS_RANK[a.status] ||
    SEVERITY_RANK[b.metadata.severity] - SEVERITY_RANK[a.metadata.severity] ||
    compareText(a.metadata.id, b.metadata.id)
  );
}

export function compareResults(a: ControlResult, b: ControlResult): number {
  return (
    STATUS_RANK[b.status] - STATUS_RANK[a.status] ||
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    compareText(a.resourceName, b.resourceName) ||
    compareText(a.resourceId, b.resourceId)
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface SeverityGroup {
  severity: Severity;
  /** Controls with at least one FAIL/UNKNOWN result of this severity, each with those results only. */
  controls: { metadata: ControlMetadata; results: ControlResult[] }[];
  count: number;
}

/**
 * Failing and unknown results grouped by their own severity (graded controls can report a result
 * above or below the control's default), then by control. Empty severities are left out.
 */
export function findingsBySeverity(controls: readonly ControlOutcome[]): SeverityGroup[] {
  const ordered = [...controls].sort(compareOutcomes);
  return SEVERITIES.map((severity) => {
    const groups = ordered
      .map((outcome) => ({
        metadata: outcome.metadata,
        results: outcome.results.filter((r) => r.severity === severity && r.status !== "PASS").sort(compareResults),
      }))
      .filter((group) => group.results.length > 0);
    return { severity, controls: groups, count: groups.reduce((sum, group) => sum + group.results.length, 0) };
  }).filter((group) => group.count > 0);
}

/** Evidence as a person reads it: indented JSON, keys in the order the control wrote them. */
export function prettyEvidence(value: EvidenceValue): string {
  return JSON.stringify(value, null, 2);
}

export function countResults(results: readonly ControlResult[]): Record<Status, number> {
  const counts: Record<Status, number> = { FAIL: 0, UNKNOWN: 0, PASS: 0 };
  for (const result of results) counts[result.status]++;
  return counts;
}
