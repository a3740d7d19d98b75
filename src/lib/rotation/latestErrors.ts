import { resourceKey } from "../estate/resourceId.js";
import type { RunResult } from "./executor.js";
import type { RecordedError } from "./journal.js";

/** Azure's error for each resource whose step failed in a run, by lower-cased resource id (for the verifier). */
export function latestErrors(run: RunResult): Map<string, RecordedError> {
  const errors = new Map<string, RecordedError>();
  for (const outcome of run.outcomes) if (outcome.status === "failed" && outcome.error) errors.set(resourceKey(outcome.resource.id), outcome.error);
  return errors;
}
