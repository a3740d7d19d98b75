/**
 * A rotation plan: plain data, made by the pure planner from (snapshot, policy, now), read by people
 * (`keywarden plan`), by machines (`--json`) and by the executor, which re-checks every step against a fresh
 * read before it writes.
 */

export const PLAN_SCHEMA_VERSION = 1 as const;

/** What a step changes (or, for `verify`, watches). */
export type StepKind = "rotationPolicy" | "rotateKey" | "sqlMiKey" | "tdeProtector" | "diskEncryptionSet" | "storageAccount";

/**
 * `change`: KeyWarden writes. `verify`: the consumer moves on its own (native auto-rotation, versionless
 * storage) and KeyWarden only checks that it did. `blocked`: never executed; `reason` says why.
 */
export type StepAction = "change" | "verify" | "blocked";

export type RiskCode =
  | "siteRecoveryProtected"
  | "storageCatchUp"
  | "nativeAutoRotation"
  | "failoverGroup"
  | "identityCannotUnwrap"
  | "accessUnknown"
  | "versionCap"
  | "noUsableVersion";

export interface Risk {
  code: RiskCode;
  message: string;
}

/** A version consumers move to: one that exists, or the one this plan's rotateKey step creates. */
export type TargetVersion = { kind: "existing"; version: string } | { kind: "new" };

export type StateValue = string | boolean | number | null;

export interface PlanStep {
  /** Stable: `<kind>:<lower-cased resource or key id>`; the same inputs give the same ids. */
  id: string;
  kind: StepKind;
  action: StepAction;
  /** The key the step serves. */
  key: { hsmResourceId: string; hsmUri: string; name: string; id: string };
  /** What the step writes to (or watches): an ARM resource, or the key's versionless id. */
  resource: { id: string; name: string; subscriptionId?: string };
  /** Steps that must be done before this one. */
  dependsOn: string[];
  /** What the executor re-checks against a fresh read just before it writes. */
  preconditions: string[];
  /** The state the plan was made from, and the state the step leaves (a new version is "<new version>"). */
  before: Record<string, StateValue>;
  after: Record<string, StateValue>;
  risks: Risk[];
  reason: string;
  /** tdeProtector: failover partners that must hold the managed-instance key before the protector moves. */
  partners?: string[];
  /** For `verify` steps: how long after the target version's creation the consumer may take to catch up. */
  catchUpWithin?: string;
}

export type KeyPlanStatus = "due" | "propagate" | "current" | "unknown" | "missing";

export interface KeyPlan {
  hsmResourceId: string;
  hsmUri: string | null;
  keyName: string;
  keyId: string;
  status: KeyPlanStatus;
  /** Why it is due, or why it cannot be planned. */
  reasons: string[];
  currentVersion: string | null;
  /** null when nothing moves (current, unknown or missing). */
  target: TargetVersion | null;
}

/** Something the plan could not see (an unread list, an unread protector): those consumers are not in it. */
export interface PlanGap {
  resource: { id: string; name: string };
  message: string;
}

export interface RotationPlan {
  schemaVersion: typeof PLAN_SCHEMA_VERSION;
  /** sha256 over keys, steps and gaps (not the times): a plan over unchanged inputs has the same id. */
  id: string;
  createdAt: string;
  snapshotCollectedAt: string;
  keys: KeyPlan[];
  /** In execution order: a step comes after every step it depends on. */
  steps: PlanStep[];
  gaps: PlanGap[];
}

export const NEW_VERSION = "<new version>";
