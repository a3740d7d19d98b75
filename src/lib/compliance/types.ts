import type { PolicyDocument } from "../config/types.js";
import type { CollectionError, EstateSnapshot } from "../estate/snapshot.js";

export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const AREAS = ["hsm", "keys", "rbac", "sql", "disks", "storage"] as const;
export type Area = (typeof AREAS)[number];

export const STATUSES = ["FAIL", "UNKNOWN", "PASS"] as const;
/** UNKNOWN: the data could not be collected — never reported as a pass. */
export type Status = (typeof STATUSES)[number];

/** A control's status: NOT_APPLICABLE when it produced no result (nothing in scope), which is neither a pass nor a finding. */
export const CONTROL_STATUSES = [...STATUSES, "NOT_APPLICABLE"] as const;
export type ControlStatus = (typeof CONTROL_STATUSES)[number];

export interface ControlMetadata {
  /** snake_case, prefixed by its area (e.g. hsm_purge_protection_enabled); equals its folder name. */
  id: string;
  area: Area;
  title: string;
  severity: Severity;
  /** One line: what goes wrong if this fails. */
  risk: string;
  remediation: {
    /** What to do, in a sentence. */
    summary: string;
    /** An az CLI command (placeholders in <angle brackets>). */
    cli: string;
    /** What to change in Bicep, where that applies. */
    bicep?: string;
  };
  /** References into the catalogues of src/lib/compliance/frameworks.ts (checked by the registry test). */
  mappings: {
    pciDss: string[];
    cis: string[];
    azurePolicy: string[];
  };
}

/** JSON-serialisable evidence values. */
export type EvidenceValue = string | number | boolean | null | EvidenceValue[] | { [key: string]: EvidenceValue };

export interface Evidence {
  /** What the snapshot shows. */
  observed: EvidenceValue;
  /** What the control requires. */
  expected: EvidenceValue;
  /** When it was observed (the snapshot's collection time). */
  observedAt: string;
  /** For UNKNOWN results: the collection errors that left the data unknown. */
  collectionErrors?: CollectionError[];
}

export interface ControlResult {
  controlId: string;
  status: Status;
  /** Usually the control's severity; graded controls raise or lower it per result. */
  severity: Severity;
  /** The ARM resource id, key id or HSM RBAC scope the result is about. */
  resourceId: string;
  resourceName: string;
  /** One sentence for a person. */
  message: string;
  evidence: Evidence;
}

export interface CheckContext {
  snapshot: EstateSnapshot;
  policy: PolicyDocument;
  /** Evaluation time (injected; controls never read the clock). */
  now: Date;
}

export type CheckFunction = (ctx: CheckContext) => ControlResult[];

export interface Control {
  metadata: ControlMetadata;
  check: CheckFunction;
}

export const SEVERITY_RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

export function atLeast(severity: Severity, threshold: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold];
}
