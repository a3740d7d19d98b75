import type { ComplianceReport } from "../compliance/evaluate.js";
import type { EventToPublish } from "../events/keyVaultEvents.js";
import { KEYWARDEN_EVENT_TYPES } from "../events/keywardenEvents.js";
import type { FindingTransition } from "../history/transitions.js";
import { findingFingerprint } from "../history/findings.js";
import { identityHash } from "../state/identityHash.js";
import type { OutboxItem } from "../state/outbox.js";

/** The streams of KeyWarden's data collection rule (custom tables KeyWardenFindings_CL, KeyWardenRotations_CL). */
export const FINDINGS_STREAM = "Custom-KeyWardenFindings_CL";
export const ROTATIONS_STREAM = "Custom-KeyWardenRotations_CL";

/** One row for Azure Monitor, with the stream it goes to. */
export interface AlertRow {
  stream: typeof FINDINGS_STREAM | typeof ROTATIONS_STREAM;
  row: Record<string, unknown>;
}

/**
 * One row per finding transition, with the result's evidence (for a resolved finding, the passing result's, when
 * there is one). The identity is the transition in that scan, so recording a scan again queues nothing new.
 */
export function findingRows(transitions: readonly FindingTransition[], report: ComplianceReport): OutboxItem<AlertRow>[] {
  const evidence = new Map<string, unknown>();
  for (const outcome of report.controls) for (const r of outcome.results) evidence.set(findingFingerprint(r.controlId, r.resourceId), r.evidence);
  return transitions.map((t) => ({
    identity: `finding|${t.scanId}|${t.fingerprint}|${t.transition}`,
    item: {
      stream: FINDINGS_STREAM,
      row: {
        TimeGenerated: t.at,
        Fingerprint: t.fingerprint,
        Transition: t.transition,
        ControlId: t.controlId,
        Severity: t.severity,
        PreviousSeverity: t.previousSeverity ?? "",
        Status: t.status,
        ResourceId: t.resourceId,
        ResourceName: t.resourceName,
        Message: t.message,
        Evidence: evidence.get(t.fingerprint) ?? null,
        FirstSeen: t.firstSeen,
        ScanId: t.scanId,
      },
    },
  }));
}

const ROTATION_TRANSITIONS: Readonly<Record<string, string>> = {
  [KEYWARDEN_EVENT_TYPES.rotationCompleted]: "completed",
  [KEYWARDEN_EVENT_TYPES.rotationFailed]: "failed",
  [KEYWARDEN_EVENT_TYPES.consumerLagging]: "pendingPastDeadline",
  [KEYWARDEN_EVENT_TYPES.consumerBlocked]: "consumerBlocked",
};

/**
 * One row per rotation fact worth an alert: a rotation completed or failed, a consumer past its catch-up deadline
 * (or failed to move), a consumer blocked. The facts are KeyWarden's own events (src/lib/events/keywardenEvents.ts),
 * with the same identities: once per fact.
 */
export function rotationRows(events: readonly EventToPublish[]): OutboxItem<AlertRow>[] {
  return events.flatMap((e) => {
    const transition = ROTATION_TRANSITIONS[e.event.type];
    if (!transition) return [];
    const d = e.event.data;
    const str = (v: unknown) => (typeof v === "string" ? v : "");
    return [
      {
        identity: `rotation|${e.identity}`,
        ...(e.requires ? { requires: `rotation|${e.requires}` } : {}),
        item: {
          stream: ROTATIONS_STREAM,
          row: {
            TimeGenerated: e.event.time,
            Fingerprint: identityHash(e.identity).slice(0, 32),
            Transition: transition,
            KeyId: str(d.keyId),
            KeyName: str(d.keyName),
            ResourceId: str(d.consumerId) || str(d.keyId),
            ResourceName: str(d.consumerName) || str(d.keyName),
            Version: str(d.version) || str(d.currentVersion),
            RunId: str(d.runId),
            Message: messageOf(transition, d),
            Details: d,
          },
        },
      },
    ];
  });
}

/**
 * The facts a rotation row may require that are no alert themselves (a RotationPending: a "completed" row follows
 * one), in the rows' identities: the alerts outbox notes them, or the "completed" row would wait for ever.
 */
export function rotationNotes(events: readonly EventToPublish[]): string[] {
  return events.filter((e) => e.event.type === KEYWARDEN_EVENT_TYPES.rotationPending).map((e) => `rotation|${e.identity}`);
}

function messageOf(transition: string, d: Record<string, unknown>): string {
  if (transition === "completed") return `Rotation of ${String(d.keyName)} completed: every consumer uses version ${String(d.version)}.`;
  if (transition === "failed") return `Rotation run ${String(d.runId)} of ${String(d.keyName)} failed: ${((d.failures as { resourceName?: string; message?: string }[] | undefined) ?? []).map((f) => `${f.resourceName}: ${f.message}`).join("; ")}`;
  return `${String(d.consumerName)} (${String(d.keyName)}): ${String(d.reason)}`;
}

/** A rotation run the state store stopped before it changed anything (src/lib/rotation/executor.ts RunNotStartedError). */
export interface RunNotStarted {
  stage: "journal" | "lock";
  runId: string;
  planId: string;
  keys: readonly { id: string; name: string }[];
  /** Why, as the error says it (state store errors never carry a key, SAS or connection string). */
  message: string;
}

/**
 * One `failed` row per key of a run that did not start because the state store failed. Its identity is the run's
 * (a run id is never reused), so sending it without the outbox cannot repeat a fact a later round tells.
 */
export function runNotStartedRows(failure: RunNotStarted, at: Date): OutboxItem<AlertRow>[] {
  return failure.keys.map((key) => {
    const identity = `RunNotStarted|${failure.runId}|${key.id.toLowerCase()}`;
    return {
      identity: `rotation|${identity}`,
      item: {
        stream: ROTATIONS_STREAM,
        row: {
          TimeGenerated: at.toISOString(),
          Fingerprint: identityHash(identity).slice(0, 32),
          Transition: "failed",
          KeyId: key.id,
          KeyName: key.name,
          ResourceId: key.id,
          ResourceName: key.name,
          Version: "",
          RunId: failure.runId,
          Message: `Rotation run ${failure.runId} of ${key.name} did not start: the state store failed (${failure.stage === "journal" ? "the journal's first record" : "the key's lock"}). Nothing was changed; the invocation failed.`,
          Details: { runId: failure.runId, planId: failure.planId, stage: failure.stage, stateStore: "unavailable", error: failure.message },
        },
      },
    };
  });
}
