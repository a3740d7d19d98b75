import { rotationRows } from "../alerts/alertRows.js";
import { deliverAlerts, type AlertDelivery } from "../alerts/deliverAlerts.js";
import type { EventsPublisher } from "../azure/eventGrid.js";
import type { LogsSink } from "../azure/logsIngestion.js";
import type { Clock } from "../clock.js";
import type { PolicyDocument } from "../config/types.js";
import { ensureError } from "../errors.js";
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
  const events = roundEvents(round, deps.policy, deps.mode, deps.clock.now());
  const told: ToldRound = {};
  try {
    told.alerts = await deliverAlerts(rotationRows(events), { store: deps.store, clock: deps.clock, ...(deps.sink ? { sink: deps.sink } : {}), log: deps.log, owner: deps.owner });
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
  return told;
}
