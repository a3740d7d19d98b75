/** The emulator's in-memory state: HSM data planes (keys, versions, RBAC) and one generic, indexed ARM resource store. */
import type { ArmRbacState } from "./armRbac.js";
import type { RoleDefinitionRecord } from "./roles.js";

export interface PublicKeyMaterial {
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

export interface KeyVersion {
  version: string;
  created: Date;
  updated: Date;
  expires?: Date;
  notBefore?: Date;
  enabled: boolean;
  keyOps: string[];
  tags: Record<string, string>;
  /** Generated on first use; private keys never leave this process. */
  material?: Promise<PublicKeyMaterial>;
}

export interface RotationPolicy {
  lifetimeActions: { action: "Rotate" | "Notify"; timeAfterCreate?: string; timeBeforeExpiry?: string }[];
  expiryTime?: string;
  created: Date;
  updated: Date;
}

export interface HsmKey {
  name: string;
  kty: string;
  keySize?: number;
  curve?: string;
  exportable: boolean;
  /** Oldest first; the last one is "latest". */
  versions: KeyVersion[];
  rotationPolicy?: RotationPolicy;
}

export interface RoleAssignmentRecord {
  name: string;
  scope: string;
  principalId: string;
  roleDefinitionId: string;
}

export interface HsmState {
  /** Display name as in ARM ("Contoso-PROD-HSM"). */
  name: string;
  /** Host label (lower-cased name). */
  label: string;
  resourceId: string;
  recoverableDays: number;
  recoveryLevel: string;
  keys: Map<string, HsmKey>;
  roleAssignments: RoleAssignmentRecord[];
  roleDefinitions: RoleDefinitionRecord[];
  /** Account settings (GET/PATCH /settings), by lower-cased name (each keeps the spelling Azure uses). */
  settings: Map<string, HsmSetting>;
}

/** A Managed HSM account setting; every setting the spec knows today is a boolean ("true" / "false"). */
export interface HsmSetting {
  name: string;
  value: string;
  type: "boolean";
}

/** An event a custom topic accepted, as Event Grid would deliver it. */
export interface TopicEvent {
  /** 1, 2, … per topic, in the order accepted. */
  seq: number;
  /** Emulator time the publish was received. */
  receivedAt: Date;
  event: Record<string, unknown>;
}

export interface EventGridTopicState {
  name: string;
  /** Host label: the lower-cased name. */
  label: string;
  /** Lower-cased region; the host is <label>.<location>-1.eventgrid.azure.net. */
  location: string;
  resourceId: string;
  inputSchema: "EventGridSchema" | "CloudEventSchemaV1_0";
  key1: string;
  key2: string;
  disableLocalAuth: boolean;
  /** Lower-cased object ids allowed to publish with a bearer token. */
  dataSenders: Set<string>;
  events: TopicEvent[];
  nextSeq: number;
}

export type StreamColumnType = "string" | "int" | "long" | "real" | "boolean" | "datetime" | "dynamic";

/** A row a stream accepted: the declared columns only, as the DCR's `source` sees them. */
export interface IngestedRow {
  /** 1, 2, … per (rule, stream), in the order accepted. */
  seq: number;
  /** Emulator time the upload was received. */
  receivedAt: Date;
  row: Record<string, unknown>;
  /** Properties of the uploaded object the stream does not declare (not ingested). */
  droppedColumns: string[];
  /** Declared columns whose value did not fit the column type (ingested as null). */
  invalidValues: { column: string; type: StreamColumnType; value: unknown }[];
}

export interface StreamState {
  /** As declared (Custom-KeyWardenFindings_CL). */
  name: string;
  /** Declared columns by lower-cased name. */
  columns: Map<string, { name: string; type: StreamColumnType }>;
  rows: IngestedRow[];
  nextSeq: number;
}

export interface DataCollectionRuleState {
  name: string;
  /** dcr-<32 hex>, lower case: what the upload path names. */
  immutableId: string;
  resourceId: string;
  /** Lower-cased region. */
  location: string;
  /** Host label of the data collection endpoint (lower case). */
  endpointLabel: string;
  /** Streams by lower-cased name. */
  streams: Map<string, StreamState>;
  /** Lower-cased object ids holding Monitoring Metrics Publisher on the rule. */
  ingestors: Set<string>;
}

/** A data collection endpoint: the host `<label>.<location>-1.ingest.monitor.azure.com` and the rules it serves. */
export interface DataCollectionEndpointState {
  label: string;
  location: string;
  /** Rules by lower-cased immutable id. */
  rules: Map<string, DataCollectionRuleState>;
}

/** An AuditEvent row in a workspace, queryable once the emulator clock reaches `ingestedAt`. */
export interface AuditRow {
  seq: number;
  ingestedAt: Date;
  row: Record<string, string | number | boolean | Date | null>;
}

/** A Log Analytics workspace: the rows the HSMs sent it and who holds Log Analytics Reader on it. */
export interface LogAnalyticsWorkspaceState {
  resourceId: string;
  name: string;
  location?: string;
  /** The workspace GUID (customerId), lower case. */
  customerId: string;
  /** Lower-cased object ids holding Log Analytics Reader. */
  readers: Set<string>;
  rows: AuditRow[];
}

/** An HSM's metric values: the fixture's baseline per metric, and seeded values for time ranges (later wins). */
export interface HsmMetricsState {
  baseline: Record<string, number>;
  overrides: { metric: string; value: number; from: Date; to: Date }[];
}

export interface ArmResource {
  id: string;
  /** e.g. Microsoft.Compute/diskEncryptionSets, Microsoft.Sql/managedInstances/keys */
  type: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  /** The wire JSON (ARM shape) as GET returns it. */
  body: Record<string, unknown>;
}

export interface SubscriptionState {
  /** Canonical id as the fixture spells it. */
  id: string;
  /** lower-cased name → canonical name */
  resourceGroups: Map<string, string>;
}

/** One index entry: resources by lower-cased id, plus a sorted view rebuilt lazily after a change. */
interface IndexBucket {
  byId: Map<string, ArmResource>;
  sorted?: ArmResource[];
}

export interface EstateState {
  fixtureName: string;
  tenantId: string;
  /** The fixture's default subscription (the top-level `subscriptionId`). */
  subscriptionId: string;
  /** Every subscription the fixture knows, by lower-cased id; any other answers 404 SubscriptionNotFound. */
  subscriptions: Map<string, SubscriptionState>;
  drift: { id: string; description: string }[];
  hsms: Map<string, HsmState>;
  /** Event Grid custom topics by lower-cased name. */
  eventGridTopics: Map<string, EventGridTopicState>;
  /** Data collection rules by lower-cased name. */
  dataCollectionRules: Map<string, DataCollectionRuleState>;
  /** Data collection endpoints by host label. */
  dataCollectionEndpoints: Map<string, DataCollectionEndpointState>;
  /** Every ARM resource by lower-cased id. */
  resources: Map<string, ArmResource>;
  /** Log Analytics workspaces by lower-cased resource id. */
  workspaces: Map<string, LogAnalyticsWorkspaceState>;
  /** Metric values by HSM host label. */
  hsmMetrics: Map<string, HsmMetricsState>;
  /** Azure RBAC of the ARM plane; undefined = ARM requests are not authorised (the fixture declares no assignments). */
  armRbac?: ArmRbacState;
  /**
   * Secondary indexes kept by putResource, so that a list is a lookup (not a scan of the store):
   * `t|<type>`, `s|<type>|<sub>`, `g|<type>|<sub>|<rg>`, `c|<ancestor id>|<type>` (all lower-cased).
   */
  index: Map<string, IndexBucket>;
}

export function emptyEstate(fixtureName: string, tenantId: string, subscriptionId: string): EstateState {
  return { fixtureName, tenantId, subscriptionId, subscriptions: new Map(), drift: [], hsms: new Map(), eventGridTopics: new Map(), dataCollectionRules: new Map(), dataCollectionEndpoints: new Map(), resources: new Map(), index: new Map(), workspaces: new Map(), hsmMetrics: new Map() };
}

/** Registers a subscription (idempotent) and returns it. */
export function addSubscription(state: EstateState, subscriptionId: string): SubscriptionState {
  const key = subscriptionId.toLowerCase();
  let s = state.subscriptions.get(key);
  if (!s) {
    s = { id: subscriptionId, resourceGroups: new Map() };
    state.subscriptions.set(key, s);
  }
  return s;
}

export function addResourceGroup(state: EstateState, subscriptionId: string, name: string): void {
  const groups = addSubscription(state, subscriptionId).resourceGroups;
  if (!groups.has(name.toLowerCase())) groups.set(name.toLowerCase(), name);
}

/** Resource ids have 8 segments up to the resource itself; children hang below that. */
const RESOURCE_DEPTH = 8;

function indexKeys(r: ArmResource): string[] {
  const t = r.type.toLowerCase();
  const sub = r.subscriptionId.toLowerCase();
  const keys = [`t|${t}`, `s|${t}|${sub}`, `g|${t}|${sub}|${r.resourceGroup.toLowerCase()}`];
  const segs = r.id.toLowerCase().split("/").filter(Boolean);
  for (let n = RESOURCE_DEPTH; n < segs.length - 1; n++) keys.push(`c|/${segs.slice(0, n).join("/")}|${t}`);
  return keys;
}

export function putResource(state: EstateState, r: ArmResource): void {
  const id = r.id.toLowerCase();
  state.resources.set(id, r);
  addResourceGroup(state, r.subscriptionId, r.resourceGroup);
  for (const key of indexKeys(r)) {
    let bucket = state.index.get(key);
    if (!bucket) {
      bucket = { byId: new Map() };
      state.index.set(key, bucket);
    }
    bucket.byId.set(id, r);
    bucket.sorted = undefined;
  }
}

export function getResource(state: EstateState, id: string): ArmResource | undefined {
  // Asked for every SQL MI's protector in every access derivation: the trailing-slash pattern only where there is one.
  const key = id.toLowerCase();
  return state.resources.get(key.endsWith("/") ? key.replace(/\/+$/, "") : key);
}

const NONE: readonly ArmResource[] = Object.freeze([]);

/**
 * The order of `a.localeCompare(b)` (the spec defines both as a default Intl.Collator), from one collator made
 * once: localeCompare sets one up per call, and a bucket of a thousand resources is sorted again after each write.
 */
export const compareIds: (a: string, b: string) => number = new Intl.Collator().compare;

function sortedBucket(state: EstateState, key: string): readonly ArmResource[] {
  const bucket = state.index.get(key);
  if (!bucket) return NONE;
  bucket.sorted ??= [...bucket.byId.values()].sort((a, b) => compareIds(a.id, b.id));
  return bucket.sorted;
}

export interface ResourceScope {
  subscriptionId?: string;
  /** Only with subscriptionId. */
  resourceGroup?: string;
}

/** Resources of `type` (in the scope, if given), sorted by id. The array is shared: do not mutate it. */
export function listResources(state: EstateState, type: string, scope: ResourceScope = {}): readonly ArmResource[] {
  const t = type.toLowerCase();
  if (scope.subscriptionId === undefined) return sortedBucket(state, `t|${t}`);
  const sub = scope.subscriptionId.toLowerCase();
  if (scope.resourceGroup === undefined) return sortedBucket(state, `s|${t}|${sub}`);
  return sortedBucket(state, `g|${t}|${sub}|${scope.resourceGroup.toLowerCase()}`);
}

/**
 * Every resource of `type` with its lower-cased id, in no set order: for a pass over all of them that does not need
 * one. listResources sorts a bucket again after each write to it, and the access model passes over every consumer
 * after every write.
 */
export function resourcesOfType(state: EstateState, type: string): Iterable<[string, ArmResource]> {
  return state.index.get(`t|${type.toLowerCase()}`)?.byId.entries() ?? [];
}

/** Descendants of `parentId` (a resource id) of `childType`, sorted by id. The array is shared: do not mutate it. */
export function listChildren(state: EstateState, parentId: string, childType: string): readonly ArmResource[] {
  return sortedBucket(state, `c|${parentId.toLowerCase().replace(/\/+$/, "")}|${childType.toLowerCase()}`);
}

export const armId = (subscriptionId: string, resourceGroup: string, provider: string, ...nameParts: string[]): string =>
  `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${provider}/${nameParts.join("/")}`;

export function latestVersion(key: HsmKey): KeyVersion {
  return key.versions[key.versions.length - 1]!;
}

export function findVersion(key: HsmKey, version: string): KeyVersion | undefined {
  const v = version.toLowerCase();
  return key.versions.find((x) => x.version === v);
}
