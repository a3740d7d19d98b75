import type { HsmSignalsSnapshot, SnapshotPart } from "../../estate/snapshot.js";
import type { HsmPair } from "../query.js";
import { errorsFor, type Results } from "../result.js";
import type { CheckContext, ControlResult, EvidenceValue } from "../types.js";

/** Shared, pure lookups for the controls on the HSM's own signals (audit events, denied requests, metrics). */

/**
 * The HSM's signals, or the UNKNOWN result when they were not collected (an older snapshot) or, for the log-based
 * parts, when the diagnostic settings that name the workspace could not be read.
 */
export function signalsOrUnknown(ctx: CheckContext, r: Results, pair: HsmPair, expected: EvidenceValue, needsWorkspace: boolean): HsmSignalsSnapshot | ControlResult {
  const signals = pair.hsm.signals;
  const { resource } = pair;
  if (signals === undefined) {
    return r.unknown({ resource, message: `The signals of ${resource.name} (audit events, denied requests, metrics) were not collected in this snapshot, so this control cannot be evaluated.`, expected, errors: [] });
  }
  if (needsWorkspace && signals.workspace === null) {
    return r.unknown({
      resource,
      message: `The diagnostic settings of ${resource.name} could not be read, so the workspace its audit events should arrive in is unknown and this control cannot be evaluated.`,
      expected,
      errors: errorsFor(ctx, "managedHsm.diagnosticSettings", pair.about),
    });
  }
  return signals;
}

/** The UNKNOWN result for a signal part whose read failed, with the errors that say why. */
export function signalPartUnknown(ctx: CheckContext, r: Results, pair: HsmPair, part: SnapshotPart, what: string, expected: EvidenceValue): ControlResult {
  return r.unknown({
    resource: pair.resource,
    message: `The ${what} of ${pair.resource.name} could not be read, so this control cannot be evaluated.`,
    expected,
    errors: errorsFor(ctx, part, pair.about),
  });
}

/** Whole hours between two instants, rounded down (for messages). */
export function hoursBetween(from: string, to: Date): number {
  return Math.floor((to.getTime() - Date.parse(from)) / 3_600_000);
}
