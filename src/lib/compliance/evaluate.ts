import { createHash } from "node:crypto";
import type { PolicyDocument } from "../config/types.js";
import { ensureError } from "../errors.js";
import type { CollectionError, EstateSnapshot } from "../estate/snapshot.js";
import {
  AREAS,
  SEVERITIES,
  SEVERITY_RANK,
  STATUSES,
  type Area,
  type Control,
  type ControlMetadata,
  type ControlResult,
  type Severity,
  type Status,
} from "./types.js";

export const REPORT_SCHEMA_VERSION = 1 as const;

export type StatusCounts = Record<Status, number>;

export interface ControlOutcome {
  metadata: ControlMetadata;
  /** FAIL if any result fails, else UNKNOWN if any is unknown, else PASS (a control with no results passes vacuously). */
  status: Status;
  results: ControlResult[];
}

export interface ComplianceReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  generatedAt: string;
  snapshot: { collectedAt: string; cloud: string; schemaVersion: number; sha256: string };
  /** Results below this severity were left out. */
  minSeverity: Severity;
  summary: {
    results: StatusCounts;
    controls: StatusCounts;
    bySeverity: Record<Severity, StatusCounts>;
    byArea: Record<Area, StatusCounts>;
  };
  controls: ControlOutcome[];
  collectionErrors: CollectionError[];
}

export interface EvaluateOptions {
  now: Date;
  minSeverity?: Severity;
}

/** Runs every control over the snapshot (pure: same inputs, same report). */
export function evaluate(snapshot: EstateSnapshot, policy: PolicyDocument, controls: readonly Control[], options: EvaluateOptions): ComplianceReport {
  const minSeverity = options.minSeverity ?? "info";
  const ctx = { snapshot, policy, now: options.now };
  const outcomes: ControlOutcome[] = controls.map((control) => {
    const results = runCheck(control, ctx).filter((r) => SEVERITY_RANK[r.severity] >= SEVERITY_RANK[minSeverity]);
    return { metadata: control.metadata, status: worstStatus(results), results };
  });
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: options.now.toISOString(),
    snapshot: { collectedAt: snapshot.collectedAt, cloud: snapshot.cloud, schemaVersion: snapshot.schemaVersion, sha256: snapshotHash(snapshot) },
    minSeverity,
    summary: summarise(outcomes),
    controls: outcomes,
    collectionErrors: snapshot.errors,
  };
}

/** A check that throws is a bug; its results become UNKNOWN (never a silent pass) and say why. */
function runCheck(control: Control, ctx: Parameters<Control["check"]>[0]): ControlResult[] {
  try {
    return control.check(ctx);
  } catch (thrown) {
    const error = ensureError(thrown);
    return [
      {
        controlId: control.metadata.id,
        status: "UNKNOWN",
        severity: control.metadata.severity,
        resourceId: "",
        resourceName: "(control failed)",
        message: `The control could not be evaluated: ${error.message}`,
        evidence: { observed: `error: ${error.message}`, expected: "the control to run", observedAt: ctx.snapshot.collectedAt },
      },
    ];
  }
}

export function worstStatus(results: readonly ControlResult[]): Status {
  if (results.some((r) => r.status === "FAIL")) return "FAIL";
  if (results.some((r) => r.status === "UNKNOWN")) return "UNKNOWN";
  return "PASS";
}

const zero = (): StatusCounts => ({ FAIL: 0, UNKNOWN: 0, PASS: 0 });

function summarise(outcomes: ControlOutcome[]): ComplianceReport["summary"] {
  const results = zero();
  const controls = zero();
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, zero()])) as Record<Severity, StatusCounts>;
  const byArea = Object.fromEntries(AREAS.map((a) => [a, zero()])) as Record<Area, StatusCounts>;
  for (const o of outcomes) {
    controls[o.status]++;
    for (const r of o.results) {
      results[r.status]++;
      bySeverity[r.severity][r.status]++;
      byArea[o.metadata.area][r.status]++;
    }
  }
  return { results, controls, bySeverity, byArea };
}

/** SHA-256 of the snapshot's canonical JSON (keys sorted), so a report names exactly what it judged. */
export function snapshotHash(snapshot: EstateSnapshot): string {
  return createHash("sha256").update(canonicalJson(snapshot)).digest("hex");
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

export { STATUSES };
