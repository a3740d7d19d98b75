import { createHash } from "node:crypto";
import type { PolicyDocument } from "../config/types.js";
import { ensureError } from "../errors.js";
import { canonicalJson, writeCanonicalJson } from "../text/canonicalJson.js";
import type { CollectionError, EstateSnapshot } from "../estate/snapshot.js";
import {
  AREAS,
  SEVERITIES,
  STATUSES,
  type Area,
  type ControlStatus,
  type Control,
  type ControlMetadata,
  type ControlResult,
  type Severity,
  type Status,
} from "./types.js";

export const REPORT_SCHEMA_VERSION = 1 as const;

export type StatusCounts = Record<Status, number>;
export type ControlStatusCounts = Record<ControlStatus, number>;

export interface ControlOutcome {
  metadata: ControlMetadata;
  /**
   * Over every result the control produced (whatever is displayed): FAIL if any fails, else UNKNOWN if any
   * is unknown, else PASS; NOT_APPLICABLE when it produced none (nothing in scope is not a pass).
   */
  status: ControlStatus;
  /** Every result, or under forDisplay only those at or above the report's minSeverity. */
  results: ControlResult[];
}

export interface ComplianceReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  generatedAt: string;
  snapshot: { collectedAt: string; cloud: string; schemaVersion: number; sha256: string };
  /**
   * The display threshold: `controls[].results` lists only results at or above it. evaluate() lists every
   * result ("info"); forDisplay narrows a copy. It never changes `summary` or a control's status.
   */
  minSeverity: Severity;
  /** Counts of the whole evaluation — every result, displayed or not — except `displayedResults`. */
  summary: {
    /** Every result by status. */
    results: StatusCounts;
    /** Every control by its status (NOT_APPLICABLE: no results). */
    controls: ControlStatusCounts;
    /** Every result by its own severity, then status. */
    bySeverity: Record<Severity, StatusCounts>;
    /** Every result by its control's area, then status. */
    byArea: Record<Area, StatusCounts>;
    /** The results `controls` lists (those at or above minSeverity); equals `results` when nothing is hidden. */
    displayedResults: StatusCounts;
  };
  controls: ControlOutcome[];
  collectionErrors: CollectionError[];
}

export interface EvaluateOptions {
  now: Date;
}

/**
 * Runs every control over the snapshot (pure: same inputs, same report) and keeps every result, so that a
 * gate judges the whole estate; narrow what a person sees with forDisplay (src/lib/report/forDisplay.ts).
 */
export function evaluate(snapshot: EstateSnapshot, policy: PolicyDocument, controls: readonly Control[], options: EvaluateOptions): ComplianceReport {
  // The hash first: its garbage is collected while the young generation holds little else, not while
  // it holds every result so far (each minor GC copies what is live; measured with npm run bench).
  const sha256 = snapshotHash(snapshot);
  const ctx = { snapshot, policy, now: options.now };
  const outcomes: ControlOutcome[] = controls.map((control) => {
    const results = runCheck(control, ctx);
    return { metadata: control.metadata, status: controlStatus(results), results };
  });
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: options.now.toISOString(),
    snapshot: { collectedAt: snapshot.collectedAt, cloud: snapshot.cloud, schemaVersion: snapshot.schemaVersion, sha256 },
    minSeverity: "info",
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

/** The status of a control with these results: no results is NOT_APPLICABLE, never a vacuous PASS. */
export function controlStatus(results: readonly ControlResult[]): ControlStatus {
  if (results.length === 0) return "NOT_APPLICABLE";
  if (results.some((r) => r.status === "FAIL")) return "FAIL";
  if (results.some((r) => r.status === "UNKNOWN")) return "UNKNOWN";
  return "PASS";
}

export const zeroStatusCounts = (): StatusCounts => ({ FAIL: 0, UNKNOWN: 0, PASS: 0 });
const zero = zeroStatusCounts;

function summarise(outcomes: ControlOutcome[]): ComplianceReport["summary"] {
  const results = zero();
  const controls: ControlStatusCounts = { ...zero(), NOT_APPLICABLE: 0 };
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
  return { results, controls, bySeverity, byArea, displayedResults: { ...results } };
}

/** SHA-256 of the snapshot's canonical JSON (keys sorted), so a report names exactly what it judged. */
export function snapshotHash(snapshot: EstateSnapshot): string {
  const hash = createHash("sha256");
  writeCanonicalJson(snapshot, (chunk) => hash.update(chunk));
  return hash.digest("hex");
}

export { canonicalJson };
export { STATUSES };
