import { randomBytes } from "node:crypto";
import type { Clock } from "../clock.js";
import type { StateStore } from "../state/stateStore.js";
import type { StateValue, StepKind } from "./plan.js";

/**
 * The run journal: append-only, one state-store item per record (`runs/<runId>/<seq>.json`, created, never
 * overwritten). A step writes a `step.started` record before it changes anything and a `step.finished` record
 * after, so a run that died in between is visible to the next one and to an auditor.
 */

export type OutcomeStatus =
  /** KeyWarden wrote, and the fresh read afterwards shows the target state. */
  | "changed"
  /** Already in the target state: no write. */
  | "unchanged"
  /** --dry-run: the preconditions hold and this write would be made. */
  | "wouldChange"
  /** A consumer that moves on its own is on the target version. */
  | "verified"
  /** It has not caught up yet and is still within its deadline. */
  | "pending"
  | "pendingPastDeadline"
  /** Not switched: the consumer's identity cannot use the version, or the plan blocked it. */
  | "blocked"
  /** Not attempted: a precondition failed, a dependency did not finish, or another run holds the key's lock. */
  | "skipped"
  | "failed";

export interface RecordedError {
  code?: string;
  statusCode?: number;
  message: string;
}

export interface JournalRecord {
  runId: string;
  planId: string;
  seq: number;
  at: string;
  type: "run.started" | "step.started" | "step.finished" | "run.finished";
  stepId?: string;
  kind?: StepKind;
  keyId?: string;
  resourceId?: string;
  outcome?: OutcomeStatus;
  message?: string;
  before?: Record<string, StateValue>;
  after?: Record<string, StateValue>;
  /** Azure's x-ms-request-id of each response the step's writes got. */
  requestIds?: string[];
  error?: RecordedError;
  /** run.started: what the run is; run.finished: outcome counts. */
  details?: Record<string, StateValue>;
}

export type NewRecord = Omit<JournalRecord, "runId" | "planId" | "seq" | "at">;

const RUNS = "runs/";

/** A run id that sorts by start time: 20261201T235959Z-1a2b3c4d. */
export function newRunId(clock: Clock): string {
  const stamp = clock.now().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  return `${stamp}-${randomBytes(4).toString("hex")}`;
}

export class Journal {
  private seq = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: StateStore,
    readonly runId: string,
    readonly planId: string,
    private readonly clock: Clock,
  ) {}

  /**
   * Appends a record; resolves once it is stored. Records are numbered in call order and written one at a
   * time, so the journal reads back in the order things happened.
   */
  append(record: NewRecord): Promise<JournalRecord> {
    const full: JournalRecord = { runId: this.runId, planId: this.planId, seq: ++this.seq, at: this.clock.now().toISOString(), ...record };
    const write = this.tail.then(async () => {
      const name = `${RUNS}${this.runId}/${String(full.seq).padStart(6, "0")}.json`;
      if (!(await this.store.create(name, `${JSON.stringify(full)}\n`))) throw new Error(`journal record ${name} already exists in ${this.store.description}: two runs share the id ${this.runId}`);
      return full;
    });
    this.tail = write.catch(() => undefined);
    return write;
  }
}

/** Every record of one run, in order; empty when there is no such run. */
export async function readRun(store: StateStore, runId: string): Promise<JournalRecord[]> {
  if (!/^[0-9TZ]+-[0-9a-f]+$/.test(runId)) throw new RangeError(`"${runId}" is not a run id (expected e.g. 20261201T235959Z-1a2b3c4d)`);
  const names = await store.list(`${RUNS}${runId}/`);
  const records: JournalRecord[] = [];
  for (const name of names) {
    const item = await store.get(name);
    if (item) records.push(JSON.parse(item.body) as JournalRecord);
  }
  return records.sort((a, b) => a.seq - b.seq);
}

/** Run ids in the store, newest first. */
export async function listRunIds(store: StateStore): Promise<string[]> {
  const ids = new Set<string>();
  for (const name of await store.list(RUNS)) {
    const id = name.slice(RUNS.length).split("/")[0];
    if (id) ids.add(id);
  }
  return [...ids].sort().reverse();
}
