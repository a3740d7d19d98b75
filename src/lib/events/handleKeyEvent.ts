import type { AzureClients } from "../azure/clients.js";
import type { AlertDelivery } from "../alerts/deliverAlerts.js";
import type { EventsPublisher } from "../azure/eventGrid.js";
import type { LogsSink } from "../azure/logsIngestion.js";
import type { Clock } from "../clock.js";
import type { KeyWardenConfig, ManagedHsmPolicy } from "../config/types.js";
import { ensureError } from "../errors.js";
import { parseKeyReference } from "../estate/keyReference.js";
import type { EstateSnapshot } from "../estate/snapshot.js";
import { alertRunNotStarted } from "../alerts/runNotStarted.js";
import { executePlan, RunNotStartedError, type RunResult } from "../rotation/executor.js";
import { latestErrors } from "../rotation/latestErrors.js";
import type { RotationPlan } from "../rotation/plan.js";
import { planRotation } from "../rotation/planner.js";
import { verifyRotation } from "../rotation/verify.js";
import { identityHash } from "../state/identityHash.js";
import type { StateStore } from "../state/stateStore.js";
import { dataField, parseInboundEvent, type InboundEvent } from "./inboundEvent.js";
import { KEY_VAULT_EVENT_TYPES } from "./keyVaultEvents.js";
import type { PublishOutcome, RoundForEvents } from "./publishRoundEvents.js";
import { tellRound } from "./tellRound.js";

export interface KeyEventDeps {
  config: KeyWardenConfig;
  clients: AzureClients;
  store: StateStore;
  clock: Clock;
  /** A fresh read of the estate (the handler plans from it, never from the event). */
  collect(): Promise<EstateSnapshot>;
  /** Publishes what the handler's round calls for (KeyWarden's events); absent: none. */
  publisher?: EventsPublisher;
  /** Logs Ingestion for the rotation alerts; absent: they go to `log` only. */
  logsSink?: LogsSink;
  /** One structured entry per new alert row (the function log). */
  log?(line: string): void;
  /** Who holds the key locks and the outbox lease. */
  owner: string;
}

export type KeyEventOutcome =
  /** Rotated the key (and moved its consumers). */
  | "rotated"
  /** Moved consumers to the key's current version. */
  | "propagated"
  /** KEYWARDEN_ROTATION_MODE=plan: the plan was made and logged, nothing changed. */
  | "planned"
  /** The fresh read shows nothing to do (another delivery or run did it, or the event is stale). */
  | "nothingToDo"
  /** This event id, or this (key, version, action), was handled already. */
  | "duplicate"
  /** Not an event KeyWarden acts on (KeyWarden's own, other Key Vault objects, other types). */
  | "ignored"
  /** About a key or HSM the policy does not manage. */
  | "unmanaged"
  /** Not an event KeyWarden can read: logged with the reason and acknowledged (a retry would not fix it). */
  | "malformed";

export interface KeyEventResult {
  outcome: KeyEventOutcome;
  message: string;
  eventId?: string;
  eventType?: string;
  key?: { hsm: string; name: string; version: string };
  plan?: RotationPlan;
  run?: RunResult;
  published?: PublishOutcome;
  /** The rotation alerts this event's round raised (completed, failed, lagging, blocked). */
  alerts?: AlertDelivery;
}

/** A failure Event Grid should retry (the handler throws it, so the delivery fails and is redelivered). */
export class TransientEventError extends Error {
  override readonly name = "TransientEventError";
}

type Action = "rotate" | "propagate";

const ACTIONS: Readonly<Record<string, Action>> = {
  [KEY_VAULT_EVENT_TYPES.nearExpiry.toLowerCase()]: "rotate",
  [KEY_VAULT_EVENT_TYPES.expired.toLowerCase()]: "rotate",
  [KEY_VAULT_EVENT_TYPES.newVersion.toLowerCase()]: "propagate",
};

/**
 * Handles one delivered event, in either schema. Near expiry or expired → plan and (in execute mode) rotate
 * that key; a new version → move its consumers to it. Event Grid delivers at least once and in no order, so
 * the event is only a hint: the handler plans from a fresh read under the key's lock, remembers event ids and
 * (key, version, action)s it has handled, and a duplicate or a stale event causes no second rotation. Throws
 * TransientEventError (retry) when it could not finish; acknowledges, with a reason, what it will never act on.
 */
export async function handleKeyEvent(raw: unknown, deps: KeyEventDeps): Promise<KeyEventResult> {
  const parsed = parseInboundEvent(raw);
  if (!parsed.ok) return { outcome: "malformed", message: `Malformed event${parsed.id ? ` ${parsed.id}` : ""}: ${parsed.reason}.`, ...ids(parsed) };
  const event = parsed.event;
  const base = { eventId: event.id, eventType: event.type };
  const action = ACTIONS[event.type.toLowerCase()];
  if (!action) {
    const own = event.type.startsWith("KeyWarden.");
    return { ...base, outcome: "ignored", message: own ? `KeyWarden's own ${event.type} is for other subscribers; nothing to do.` : `Event ${event.id} is a ${event.type}; KeyWarden acts only on ${Object.values(KEY_VAULT_EVENT_TYPES).join(", ")}.` };
  }

  const facts = keyFacts(event);
  if (typeof facts === "string") return { ...base, outcome: "malformed", message: `Malformed ${event.type} event ${event.id}: ${facts}.` };
  const hsm = managedHsmOf(deps.config, facts.host);
  const keyPolicy = hsm?.keys.find((k) => k.name.toLowerCase() === facts.keyName.toLowerCase());
  if (!hsm || !keyPolicy) {
    const what = hsm ? `key ${facts.keyName} of ${hsm.name}` : `${facts.host}`;
    return { ...base, outcome: "unmanaged", message: `Event ${event.id} (${event.type}) is about ${what}, which the policy document does not manage; acknowledged without action.` };
  }
  const key = { hsm: hsm.name, name: keyPolicy.name, version: facts.version };
  const keyed = { ...base, key };

  const received = `events/received/${identityHash(event.id)}.json`;
  const handled = `events/handled/${hsm.name.toLowerCase()}/${keyPolicy.name.toLowerCase()}/${facts.version.toLowerCase()}/${action}.json`;
  const [seenId, seenFact] = await guard(() => Promise.all([deps.store.get(received), deps.store.get(handled)]), "read what was handled already");
  if (seenId) return { ...keyed, outcome: "duplicate", message: `Event ${event.id} was handled already.` };
  if (seenFact) return { ...keyed, outcome: "duplicate", message: `${action === "rotate" ? "A rotation" : "Propagation"} for ${keyPolicy.name} version ${facts.version} was handled already (event ${event.id} repeats it).` };

  const snapshot = await guard(deps.collect, "read the estate");
  const now = deps.clock.now();
  const reason = `${event.type.replace("Microsoft.KeyVault.", "")} event ${event.id} for version ${facts.version}.`;
  const plan = planRotation(snapshot, deps.config.policy, now, {
    keys: [keyPolicy.name],
    ...(action === "propagate" ? { propagateOnly: true } : { rotateIfCurrent: [{ keyName: keyPolicy.name, version: facts.version, reason }] }),
  });
  const keyPlan = plan.keys.find((k) => k.hsmResourceId.toLowerCase() === hsm.resourceId.toLowerCase() && k.keyName.toLowerCase() === keyPolicy.name.toLowerCase());
  if (!keyPlan || keyPlan.status === "unknown") {
    throw new TransientEventError(`Key ${keyPolicy.name} of ${hsm.name} could not be read (${keyPlan?.reasons.join(" ") ?? "not in the plan"}); the event will be redelivered.`);
  }
  const work = plan.steps.filter((s) => s.action !== "blocked");
  const remember = (names: string[]) =>
    guard(() => Promise.all(names.map((n) => deps.store.put(n, JSON.stringify({ eventId: event.id, type: event.type, key, at: deps.clock.now().toISOString() })))), "record the event as handled");

  if (deps.config.settings.rotationMode === "plan") {
    await remember([received]);
    const published = await publish(deps, { plan, snapshot }, "plan");
    return { ...keyed, outcome: work.length === 0 ? "nothingToDo" : "planned", message: `Planned ${work.length} step(s) for ${keyPolicy.name} (${keyPlan.status}); KEYWARDEN_ROTATION_MODE is plan, so nothing was changed.`, plan, ...published };
  }
  if (work.length === 0) {
    await remember([received, handled]);
    return { ...keyed, outcome: "nothingToDo", message: `Nothing to do for ${keyPolicy.name}: ${keyPlan.reasons.join(" ")}`, plan };
  }

  const run = await executePlan(plan, { clients: deps.clients, store: deps.store, policy: deps.config.policy, policyOrigin: deps.config.policyOrigin, clock: deps.clock, pollIntervalMs: deps.config.settings.lroPollIntervalMs, concurrency: deps.config.settings.rotationConcurrency, owner: deps.owner }).catch(
    async (error: unknown) => {
      if (!(error instanceof RunNotStartedError)) throw error;
      // The state store stopped the run before any write: alert (past the outbox if it must), then have it redelivered.
      const alert = await alertRunNotStarted(error, { store: deps.store, clock: deps.clock, ...(deps.logsSink ? { sink: deps.logsSink } : {}), log: deps.log ?? (() => undefined), owner: deps.owner });
      throw new TransientEventError(`${error.message}; its alert went ${alert.via === "direct" ? "straight to Azure Monitor" : alert.via === "outbox" ? "through the alerts outbox" : "to the log only"}; the event will be redelivered.`, { cause: error });
    },
  );
  const busy = run.outcomes.some((o) => o.lockBusy === true);
  const failed = run.outcomes.filter((o) => o.status === "failed");
  const after = await guard(deps.collect, "read the estate back");
  const verification = verifyRotation(after, deps.config.policy, deps.clock.now(), latestErrors(run));
  const published = await publish(deps, { plan, run, verification, snapshot: after }, "execute");
  if (busy) throw new TransientEventError(`Another run holds the lock on ${keyPolicy.name}; the event will be redelivered and finds the key as that run leaves it.`);
  if (plan.gaps.length > 0) {
    // Consumers the snapshot could not see may use this key: the work is not known to be complete.
    throw new TransientEventError(`Run ${run.runId} for ${keyPolicy.name} finished, but ${plan.gaps.length} part(s) of the estate could not be read (${plan.gaps.map((g) => g.resource.name).join(", ")}); the event will be redelivered to finish them.`);
  }
  if (failed.length > 0) {
    throw new TransientEventError(`Run ${run.runId} for ${keyPolicy.name}: ${failed.length} step(s) failed (${failed.map((o) => `${o.resource.name}: ${o.message}`).join("; ")}); the event will be redelivered.`);
  }
  await remember([received, handled]);
  const rotated = run.outcomes.some((o) => o.kind === "rotateKey" && o.status === "changed");
  const changed = run.outcomes.filter((o) => o.status === "changed").length;
  const outcome: KeyEventOutcome = rotated ? "rotated" : changed > 0 ? "propagated" : "nothingToDo";
  const counts = new Map<string, number>();
  for (const o of run.outcomes) counts.set(o.status, (counts.get(o.status) ?? 0) + 1);
  const summary = [...counts].map(([status, n]) => `${n} ${status}`).join(", ");
  return { ...keyed, outcome, message: `Run ${run.runId} for ${keyPolicy.name}${rotated ? " rotated the key" : ""}: ${summary}.`, plan, run, ...published };
}

function ids(parsed: { id?: string; type?: string }): { eventId?: string; eventType?: string } {
  return { ...(parsed.id ? { eventId: parsed.id } : {}), ...(parsed.type ? { eventType: parsed.type } : {}) };
}

/** The key an event is about: its data's Id (a versioned key URL), Version and ObjectType. */
function keyFacts(event: InboundEvent): { host: string; keyName: string; version: string } | string {
  const objectType = dataField(event.data, "ObjectType");
  if (objectType !== undefined && (typeof objectType !== "string" || objectType.toLowerCase() !== "key")) return `data.ObjectType is ${JSON.stringify(objectType)}, not "Key"`;
  const id = dataField(event.data, "Id");
  if (typeof id !== "string") return "data.Id (the key version's URL) is missing";
  const ref = parseKeyReference(id);
  if (!ref) return `data.Id ${JSON.stringify(id.slice(0, 200))} is not a key URL (https://<host>/keys/<name>/<version>)`;
  const version = dataField(event.data, "Version");
  const v = ref.version ?? (typeof version === "string" && version !== "" ? version : undefined);
  if (!v) return "neither data.Id nor data.Version names the key version";
  if (typeof version === "string" && version !== "" && ref.version && version.toLowerCase() !== ref.version.toLowerCase()) return `data.Version ${version} differs from the version in data.Id (${ref.version})`;
  return { host: ref.host.replace(/:\d+$/, ""), keyName: ref.keyName, version: v };
}

/** The policy's HSM whose data-plane host is `host` (<name>.<Managed HSM DNS suffix>); ports are ignored. */
function managedHsmOf(config: KeyWardenConfig, host: string): ManagedHsmPolicy | undefined {
  const suffix = `.${config.settings.cloud.managedHsmDnsSuffix.toLowerCase()}`;
  if (!host.endsWith(suffix)) return undefined;
  const label = host.slice(0, -suffix.length);
  return config.policy.managedHsms.find((h) => h.name.toLowerCase() === label);
}

/** Tells the round's facts (events and rotation alerts), best effort: what is not sent stays in its outbox for the next flush. */
async function publish(deps: KeyEventDeps, round: RoundForEvents, mode: "plan" | "execute"): Promise<{ published?: PublishOutcome; alerts?: AlertDelivery }> {
  const told = await tellRound(round, {
    policy: deps.config.policy,
    mode,
    store: deps.store,
    clock: deps.clock,
    ...(deps.publisher ? { publisher: deps.publisher } : {}),
    ...(deps.logsSink ? { sink: deps.logsSink } : {}),
    log: deps.log ?? (() => undefined),
    owner: deps.owner,
  });
  return { ...(told.published ? { published: told.published } : {}), ...(told.alerts ? { alerts: told.alerts } : {}) };
}

async function guard<T>(fn: () => Promise<T>, what: string): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof TransientEventError) throw error;
    throw new TransientEventError(`Could not ${what}: ${ensureError(error).message}; the event will be redelivered.`, { cause: error });
  }
}
