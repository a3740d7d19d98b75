import type { AzureClients } from "../../azure/clients.js";
import type { WriteOptions } from "../../azure/writeOptions.js";
import type { KeyPolicy } from "../../config/types.js";
import type { Consumer } from "../../estate/snapshot.js";
import type { PlanStep, StateValue } from "../plan.js";

/** The version a key's consumers move to, as read from the HSM just after the key-level steps. */
export interface ResolvedTarget {
  version: string;
  /** Versioned key URL: https://<hsm>/keys/<name>/<version> */
  url: string;
  createdOn?: string;
}

export interface StepContext {
  clients: AzureClients;
  step: PlanStep;
  keyPolicy: KeyPolicy;
  /** Undefined only for the key-level steps (they run before there is one). */
  target: ResolvedTarget | undefined;
  now(): Date;
  write: WriteOptions;
  /** In a dry run: the kinds of this key's steps that would have been written before this one. */
  wouldChange: ReadonlySet<PlanStep["kind"]>;
}

/**
 * One kind of step, like a control: a fresh read of what it changes, whether that is already done, what else
 * must hold before the write, the write, and the state to journal. The executor adds what every consumer step
 * shares: the version's usability and the consumer identity's access, re-read just before the write.
 */
export interface StepHandler<S> {
  read(ctx: StepContext): Promise<S>;
  isDone(state: S, ctx: StepContext): boolean;
  /** Why the write must not be made now; undefined when it may. */
  precondition?(state: S, ctx: StepContext): Promise<string | undefined>;
  apply(state: S, ctx: StepContext): Promise<void>;
  describe(state: S): Record<string, StateValue>;
  /** The consumer whose identity must be able to use the target version (consumer steps only). */
  consumer?(state: S): Consumer;
}

export function requireTarget(ctx: StepContext): ResolvedTarget {
  if (!ctx.target) throw new Error(`step ${ctx.step.id} needs the target version, which was not resolved`);
  return ctx.target;
}

export function sameVersion(a: string | null | undefined, b: string | null | undefined): boolean {
  return !!a && !!b && a.toLowerCase() === b.toLowerCase();
}
