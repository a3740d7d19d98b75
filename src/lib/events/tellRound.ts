import { rotationNotes, rotationRows } from "../alerts/alertRows.js";
import { deliverAlerts, type AlertDelivery } from "../alerts/deliverAlerts.js";
import type { EventsPublisher } from "../azure/eventGrid.js";
import type { LogsSink } from "../azure/logsIngestion.js";
import type { Clock } from "../clock.js";
import type { PolicyDocument } from "../config/types.js";
import { ensureError } from "../errors.js";
import { readRun } from "../rotation/journal.js";
import type { StateStore } from "../state/stateStore.js";
import { publishEvents, roundEvents, type PublishOutcome, type RoundForEvents } from "./publishRoundEvents.js";

export interface TellRoundDeps {
  policy: PolicyDocument;
  mode: "plan" | "execute";
  store: StateStore;
  clock: Clock;
  /** The Event Grid topic; absent: no events. */
  publisher?: EventsPublisher;
  /** Logs Ingestion; absent: rotation alerts go to `log` only. */
  sink?: LogsSink;
  /** One structured entry per new alert row. */
  log(line: string): void;
  owner: string;
}

export interface ToldRound {
  alerts?: AlertDelivery;
  /** Why the alerts could not be queued or sent this time (the outbox keeps what was queued). */
  alertsError?: string;
  published?: PublishOutcome;
  publishError?: string;
}

/**
 * A rotation round's facts, told once each: the events (Key Vault ones for every managed key, KeyWarden's own) to
 * the topic, and the rotation alerts (completed, failed, a consumer lagging or blocked) to the log and Azure
 * Monitor, each through its outbox. Best effort: a failed send stays queued for the next round and is reported,
 * never thrown, so that telling never undoes or repeats the round's work.
 */
export async function tellRound(round: RoundForEvents, deps: TellRoundDeps): Promise<ToldRound> {
  const told: ToldRound = {};
  let untold: UntoldRuns = { runIds: [], movedKeys: new Set() };
  try {
    untold = await untoldRuns(deps.store, deps.clock.now(), round.run?.runId);
  } catch (error) {
    told.alertsError = `the journal could not be read for runs whose news was not told (${ensureError(error).message})`;
  }
  const events = roundEvents(round, deps.policy, deps.mode, deps.clock.now(), untold.movedKeys);
  try {
    told.alerts = await deliverAlerts(rotationRows(events), { store: deps.store, clock: deps.clock, ...(deps.sink ? { sink: deps.sink } : {}), log: deps.log, owner: deps.owner, known: rotationNotes(events) });
  } catch (error) {
    told.alertsError = ensureError(error).message;
  }
  if (deps.publisher) {
    try {
      told.published = await publishEvents(events, { store: deps.store, clock: deps.clock, publisher: deps.publisher, owner: deps.owner });
    } catch (error) {
      told.publishError = ensureError(error).message;
    }
  }
  // Queued in both outboxes (which deliver it in time): this run's news, and that of the runs before it, is told.
  if (!told.alertsError && !told.publishError) {
    await Promise.all([...untold.runIds, ...(round.run && !round.run.dryRun ? [round.run.runId] : [])].map((id) => deps.store.create(`${TOLD}${id}`, deps.clock.now().toISOString()))).catch((error: unknown) => {
      told.alertsError = `the runs told could not be recorded, so the next round tells their news again (${ensureError(error).message})`;
    });
  }
  return told;
}

/** `told/<run id>`: a round queued that run's news (events and alerts). */
const TOLD = "told/";
/** How far back a round looks for runs whose news was never told (journal run ids start with the UTC day). */
const UNTOLD_LOOKBACK_DAYS = 2;

interface UntoldRuns {
  runIds: string[];
  /** Lower-cased ids of the keys those runs changed. */
  movedKeys: Set<string>;
}

/**
 * Runs of the last days, other than this round's own, that no round told: the process died after the run and
 * before telling (or the run was the CLI's). What they changed is news the dead round never gave.
 */
async function untoldRuns(store: StateStore, now: Date, ownRunId: string | undefined): Promise<UntoldRuns> {
  const days = Array.from({ length: UNTOLD_LOOKBACK_DAYS }, (_, i) => new Date(now.getTime() - i * 86_400_000).toISOString().slice(0, 10).replace(/-/g, ""));
  const ids = new Set<string>();
  for (const day of days) for (const name of await store.list(`runs/${day}`)) ids.add(name.split("/")[1] ?? "");
  ids.delete("");
  if (ownRunId) ids.delete(ownRunId);
  const result: UntoldRuns = { runIds: [], movedKeys: new Set() };
  for (const id of [...ids].sort()) {
    if (await store.get(`${TOLD}${id}`)) continue;
    result.runIds.push(id);
    for (const record of await readRun(store, id)) if (record.type === "step.finished" && record.outcome === "changed" && record.keyId) result.movedKeys.add(record.keyId.toLowerCase());
  }
  return result;
}
