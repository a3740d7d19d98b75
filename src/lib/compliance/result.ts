import type { CollectionError, SnapshotPart } from "../inventory/snapshot.js";
import type { CheckContext, ControlMetadata, ControlResult, EvidenceValue, Severity } from "./types.js";

export interface ResourceRef {
  id: string;
  name: string;
}

interface ResultInput {
  resource: ResourceRef;
  message: string;
  observed: EvidenceValue;
  expected: EvidenceValue;
  /** Overrides the control's severity for this result (graded controls). */
  severity?: Severity;
}

/** The pass/fail/unknown builders of one control (what resultsFor returns). */
export type Results = ReturnType<typeof resultsFor>;

/** Builds the results of one control; every result carries the snapshot time as evidence time. */
export function resultsFor(metadata: ControlMetadata, ctx: CheckContext) {
  const base = (status: ControlResult["status"], r: ResultInput, collectionErrors?: CollectionError[]): ControlResult => ({
    controlId: metadata.id,
    status,
    severity: r.severity ?? metadata.severity,
    resourceId: r.resource.id,
    resourceName: r.resource.name,
    message: r.message,
    evidence: {
      observed: r.observed,
      expected: r.expected,
      observedAt: ctx.snapshot.collectedAt,
      ...(collectionErrors && collectionErrors.length > 0 ? { collectionErrors } : {}),
    },
  });
  return {
    pass: (r: ResultInput) => base("PASS", r),
    fail: (r: ResultInput) => base("FAIL", r),
    /** The data was not collected: say so, with the errors that explain why. */
    unknown: (r: Omit<ResultInput, "observed"> & { errors: CollectionError[]; observed?: EvidenceValue }) =>
      base("UNKNOWN", { ...r, observed: r.observed ?? "unknown (not collected)" }, r.errors),
  };
}

/**
 * Collection errors that left `parts` unknown, optionally only those about `resourceId` (compared
 * case-insensitively, and matching errors about a parent scope of it too).
 */
export function errorsFor(ctx: CheckContext, parts: SnapshotPart | SnapshotPart[], resourceId?: string): CollectionError[] {
  const wanted = new Set(Array.isArray(parts) ? parts : [parts]);
  const id = resourceId?.toLowerCase();
  return ctx.snapshot.errors.filter((e) => {
    if (!wanted.has(e.part)) return false;
    if (id === undefined) return true;
    const errorId = e.resourceId.toLowerCase();
    return errorId === id || id.startsWith(`${errorId}/`) || errorId.startsWith(`${id}/`);
  });
}
