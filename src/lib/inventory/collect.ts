import type { AzureClients } from "../azure/clients.js";
import { AzureRequestError, toAzureRequestError } from "../azure/errors.js";
import type { ManagedInstanceBase } from "../azure/sql.js";
import { startDeadline } from "../azure/requests.js";
import type { Clock } from "../clock.js";
import type { AppSettings, ComplianceThresholds, KeyWardenConfig, ManagedHsmPolicy } from "../config/types.js";
import { auditWorkspaceOf } from "../estate/auditWorkspace.js";
import { hsmHost } from "../estate/keyReference.js";
import { consumerRef, hsmRef, keyRef, privateEndpointRef, rbacScopeRef, subscriptionRef } from "../estate/partRef.js";
import { resourceKey } from "../estate/resourceId.js";
import {
  SNAPSHOT_SCHEMA_VERSION,
  type CollectionError,
  type ConsumersSnapshot,
  type DiskEncryptionSetConsumer,
  type DiagnosticSettingSnapshot,
  type DiskSnapshot,
  type EstateSnapshot,
  type HsmSignalsSnapshot,
  type KeySnapshot,
  type ManagedHsmSnapshot,
  type PartRef,
  type RoleAssignmentSnapshot,
  type RoleDefinitionSnapshot,
  type SnapshotPart,
  type SqlFailoverGroupMembership,
  type SqlManagedInstanceConsumer,
  type VirtualMachineSnapshot,
} from "../estate/snapshot.js";
import { failoverGroupMemberships, regionKey } from "./failoverGroupMemberships.js";

/**
 * Reads the whole estate through the SDK adapters. A read that fails is recorded in `errors` and its
 * part left `null` (unknown), or, for a subscription's consumer list, left out with an error naming the
 * subscription; collection always goes on with the rest.
 */
export interface CollectOptions {
  /** The whole collection's deadline (default KEYWARDEN_DEADLINE_MS); a read still running then ends as a collection error. */
  deadlineMs?: number;
}

/**
 * Fan-out is not bounded here: the request layer (src/lib/azure/requests.ts) caps the requests in flight
 * for the whole process, per HSM, and paces ARM per subscription, so every read is issued at once and
 * waits its turn there (nested caps in the collector starved the global one).
 */
export async function collectEstate(config: KeyWardenConfig, clients: AzureClients, clock: Clock, options: CollectOptions = {}): Promise<EstateSnapshot> {
  // The deadline runs on real time, not on `clock` (the snapshot's time, which tests fix).
  const { deadline, dispose } = startDeadline(options.deadlineMs ?? config.settings.requests.deadlineMs);
  try {
    return await collectWithin(config, clients.underDeadline(deadline), clock);
  } finally {
    dispose();
  }
}

async function collectWithin(config: KeyWardenConfig, clients: AzureClients, clock: Clock): Promise<EstateSnapshot> {
  const collectedAt = clock.now().toISOString();
  const errors: CollectionError[] = [];
  const attempt: Attempt = async (part, about, resourceId, operation, fn) => {
    try {
      return await fn();
    } catch (error) {
      errors.push(toCollectionError(part, about, toAzureRequestError(error, operation, resourceId)));
      return null;
    }
  };

  const signalsAt = { now: new Date(collectedAt), thresholds: config.policy.thresholds };
  const hsmsRead = Promise.all(config.policy.managedHsms.map((hsm) => collectManagedHsm(hsm, config.settings, clients, attempt, signalsAt)));
  const subscriptions = [...new Set(config.policy.subscriptions.map((s) => s.toLowerCase()))];
  const expected = new Set(config.policy.managedHsms.flatMap((h) => h.keys.flatMap((k) => k.expectedConsumers.map(resourceKey))));
  // Consumers are listed while the HSMs are read; only keeping the ones that are ours waits for the HSMs' hosts.
  const scope = hsmsRead.then((hsms): ConsumerScope => ({
    hsmHosts: new Set(hsms.map((h) => (h.hsmUri ? hsmHost(h.hsmUri) : undefined)).filter((h): h is string => h !== undefined)),
    expected,
  }));
  const [managedHsms, consumers] = await Promise.all([hsmsRead, collectConsumers(subscriptions, scope, clients, attempt)]);

  return {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    collectedAt,
    cloud: config.settings.cloud.name,
    subscriptions,
    managedHsms,
    consumers,
    errors: errors.sort((a, b) => `${a.part} ${a.resourceId}`.localeCompare(`${b.part} ${b.resourceId}`)),
  };
}

/** Every item at once, in order; the request layer bounds what is in flight. */
function eachOf<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  return Promise.all(items.map(fn));
}

type Attempt = <T>(part: SnapshotPart, about: PartRef, resourceId: string, operation: string, fn: () => Promise<T>) => Promise<T | null>;

function toCollectionError(part: SnapshotPart, about: PartRef, e: AzureRequestError): CollectionError {
  return {
    part,
    about,
    resourceId: e.resourceId,
    operation: e.operation,
    ...(e.statusCode !== undefined ? { statusCode: e.statusCode } : {}),
    ...(e.code !== undefined ? { code: e.code } : {}),
    message: e.message,
  };
}

/** Where the HSM's data plane is when ARM could not tell us: https://<name>.<dns suffix>/ (on the emulator's port). */
export function derivedHsmUri(name: string, settings: AppSettings): string {
  const port = settings.emulator ? new URL(settings.emulator.endpoint).port : "";
  return `https://${name.toLowerCase()}.${settings.cloud.managedHsmDnsSuffix}${port ? `:${port}` : ""}/`;
}

async function collectManagedHsm(policy: ManagedHsmPolicy, settings: AppSettings, clients: AzureClients, attempt: Attempt, signalsAt: SignalsAt): Promise<ManagedHsmSnapshot> {
  const id = policy.resourceId;
  const about = hsmRef(id);
  const [resource, regions, connections, diagnosticSettings] = await Promise.all([
    attempt("managedHsm", about, id, "managedHsms.get", () => clients.managedHsms.get(id)),
    attempt("managedHsm.regions", about, id, "mhsmRegions.listByResource", () => clients.managedHsms.listRegions(id)),
    attempt("managedHsm.privateEndpointConnections", about, id, "mhsmPrivateEndpointConnections.listByResource", () =>
      clients.managedHsms.listPrivateEndpointConnections(id),
    ),
    attempt("managedHsm.diagnosticSettings", about, id, "diagnosticSettings.list", () => clients.diagnosticSettings.list(id)),
  ]);
  const hsmUri = resource?.hsmUri ?? derivedHsmUri(policy.name, settings);

  const privateEndpointConnections =
    connections === null
      ? null
      : await eachOf(connections, async (c) => ({
          ...c,
          privateEndpointLocation: c.privateEndpointId
            ? ((await attempt("managedHsm.privateEndpoint", privateEndpointRef(id, c.privateEndpointId), c.privateEndpointId, "privateEndpoints.get", () =>
                clients.privateEndpoints.getLocation(c.privateEndpointId as string),
              )) ?? null)
            : null,
        }));

  // The metrics endpoint is the HSM's primary region's: ARM's answer, else the policy's (which the HSM must match).
  const signalsRead = collectSignals(id, resource?.location ?? policy.regions.primary, diagnosticSettings, clients, attempt, signalsAt);
  // Settings, like the signals, depend on nothing but the data-plane URI: read them beside the keys and roles.
  const settingsRead = attempt("managedHsm.settings", about, `${hsmUri.replace(/\/+$/, "")}/settings`, "settings.list", () => clients.hsmSettings(hsmUri).listSettings());
  const keys = await collectKeys(hsmUri, policy, clients, attempt);
  const { roleDefinitions, roleAssignments } = await collectRbac(id, hsmUri, keys?.map((k) => k.name) ?? policy.keys.map((k) => k.name), clients, attempt);
  const [signals, hsmSettings] = await Promise.all([signalsRead, settingsRead]);

  return {
    resourceId: id,
    name: policy.name,
    subscriptionId: policy.subscriptionId,
    resourceGroup: policy.resourceGroup,
    ...(resource?.location ? { location: resource.location } : {}),
    hsmUri,
    properties: resource?.properties ?? null,
    regions,
    privateEndpointConnections,
    diagnosticSettings,
    keys,
    roleDefinitions,
    roleAssignments,
    signals,
    settings: hsmSettings,
  };
}

/** AuditEvent's newest row is looked for this far back, so that a stale HSM says how stale (the threshold is at most 720 h). */
export const AUDIT_LOOKBACK_HOURS = 720;

interface SignalsAt {
  now: Date;
  thresholds: Pick<ComplianceThresholds, "signalsWindowHours">;
}

/**
 * The HSM's own signals, in a constant three requests: its AuditEvent rows and its denied requests in the workspace its
 * diagnostic setting names (two queries), and its Availability and ServiceApiLatency metrics (one batch call).
 */
async function collectSignals(
  id: string,
  location: string,
  diagnosticSettings: DiagnosticSettingSnapshot[] | null,
  clients: AzureClients,
  attempt: Attempt,
  at: SignalsAt,
): Promise<HsmSignalsSnapshot> {
  const about = hsmRef(id);
  const hoursBack = (hours: number) => new Date(at.now.getTime() - hours * 3_600_000);
  const auditWindow = { start: hoursBack(AUDIT_LOOKBACK_HOURS), end: at.now };
  const window = { start: hoursBack(at.thresholds.signalsWindowHours), end: at.now };
  const workspace = diagnosticSettings === null ? null : (auditWorkspaceOf(diagnosticSettings) ?? "none");
  const target = typeof workspace === "object" && workspace !== null ? workspace.id : undefined;
  const [auditEvents, deniedRequests, metrics] = await Promise.all([
    target === undefined
      ? null
      : attempt("managedHsm.auditEvents", about, id, "logs.queryResource(auditEvents)", async () => ({
          windowHours: AUDIT_LOOKBACK_HOURS,
          ...(await clients.hsmSignals.auditEvents(target, id, auditWindow)),
        })),
    target === undefined
      ? null
      : attempt("managedHsm.deniedRequests", about, id, "logs.queryResource(deniedRequests)", async () => ({
          windowHours: at.thresholds.signalsWindowHours,
          ...(await clients.hsmSignals.deniedRequests(target, id, window)),
        })),
    attempt("managedHsm.metrics", about, id, "metrics.queryResources", async () => ({
      windowHours: at.thresholds.signalsWindowHours,
      ...(await clients.hsmSignals.metrics(id, location, window)),
    })),
  ]);
  return { workspace, auditEvents, deniedRequests, metrics };
}

/**
 * Every key in the HSM with its versions and rotation policy. If the HSM will not list its keys, the
 * configured keys are still read one by one, but `keys` stays null: the list is not known complete.
 */
async function collectKeys(hsmUri: string, policy: ManagedHsmPolicy, clients: AzureClients, attempt: Attempt): Promise<KeySnapshot[] | null> {
  const client = clients.hsmKeys(hsmUri);
  const keysUrl = `${hsmUri.replace(/\/+$/, "")}/keys`;
  const listed = await attempt("keys", hsmRef(policy.resourceId), keysUrl, "keys.listPropertiesOfKeys", () => client.listKeyNames());
  const names = listed ?? policy.keys.map((k) => k.name);

  const keys = await eachOf(names, async (name): Promise<KeySnapshot | null> => {
    const keyUrl = `${keysUrl}/${name}`;
    const about = keyRef(policy.resourceId, name);
    const [key, versions, rotationPolicy] = await Promise.all([
      readKey(client, name, keyUrl, about, attempt),
      attempt("key.versions", about, keyUrl, "keys.listPropertiesOfKeyVersions", () => client.listVersions(name)),
      attempt("key.rotationPolicy", about, keyUrl, "keys.getKeyRotationPolicy", () => client.getRotationPolicy(name)),
    ]);
    if (key === "absent" || key === null) return null;
    return { ...key, versions: versions && sortVersions(versions), rotationPolicy };
  });
  const found = keys.filter((k): k is KeySnapshot => k !== null);
  return listed === null ? null : found;
}

/** A key that does not exist (404 KeyNotFound) is "absent", which is knowledge, not a collection error. */
async function readKey(client: ReturnType<AzureClients["hsmKeys"]>, name: string, keyUrl: string, about: PartRef, attempt: Attempt) {
  try {
    return await client.getKey(name);
  } catch (error) {
    const e = toAzureRequestError(error, "keys.getKey", keyUrl);
    if (e.statusCode === 404) return "absent" as const;
    return attempt("key", about, keyUrl, "keys.getKey", () => Promise.reject(e));
  }
}

function sortVersions<T extends { createdOn?: string; version: string }>(versions: T[]): T[] {
  return [...versions].sort((a, b) => (a.createdOn ?? "").localeCompare(b.createdOn ?? "") || a.version.localeCompare(b.version));
}

/**
 * Role definitions, and role assignments read at "/", "/keys" and each key's scope (Azure documents
 * key-scoped assignments but not whether a list at "/" includes them, so all scopes are read and
 * merged). Any failed scope makes the assignments unknown: a partial list could hide a finding.
 */
async function collectRbac(hsmId: string, hsmUri: string, keyNames: string[], clients: AzureClients, attempt: Attempt) {
  const roles = clients.hsmRoles(hsmUri);
  const base = hsmUri.replace(/\/+$/, "");
  const definitions = await attempt("rbac.roleDefinitions", rbacScopeRef(hsmId, "/"), `${base}/`, "roleDefinitions.list", () => roles.listRoleDefinitions("/"));

  const scopes = ["/", "/keys", ...keyNames.map((k) => `/keys/${k}`)];
  const perScope = await eachOf(scopes, (scope) =>
    attempt("rbac.roleAssignments", rbacScopeRef(hsmId, scope), `${base}${scope}`, "roleAssignments.list", () => roles.listRoleAssignments(scope)),
  );
  let roleAssignments: RoleAssignmentSnapshot[] | null = null;
  if (perScope.every((list) => list !== null)) {
    const roleNames = roleNameIndex(definitions ?? []);
    const byId = new Map<string, RoleAssignmentSnapshot>();
    for (const a of perScope.flat()) {
      if (!a) continue;
      const roleName = roleNames.get(definitionKey(a.roleDefinitionId));
      byId.set(a.id.toLowerCase(), { ...a, ...(roleName ? { roleName } : {}) });
    }
    roleAssignments = [...byId.values()].sort((a, b) => a.scope.localeCompare(b.scope) || a.principalId.localeCompare(b.principalId));
  }
  return { roleDefinitions: definitions, roleAssignments };
}

/** A role definition is named by its id or by its GUID alone: both resolve to the GUID, lower-cased. */
function definitionKey(roleDefinitionId: string): string {
  return (roleDefinitionId.split("/").pop() ?? roleDefinitionId).toLowerCase();
}

function roleNameIndex(definitions: RoleDefinitionSnapshot[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const d of definitions) {
    if (!d.roleName) continue;
    names.set(d.name.toLowerCase(), d.roleName);
    names.set(definitionKey(d.id), d.roleName);
  }
  return names;
}

interface ConsumerScope {
  /** Hosts of our HSMs' data planes. */
  hsmHosts: Set<string>;
  /** Lower-cased ids of the consumers the policy names: kept whatever key they use now. */
  expected: Set<string>;
}

type Ours = (host: string | undefined, resourceId: string) => boolean;

/**
 * Consumers are discovered by listing each subscription (one call per resource type, not one GET
 * per resource) and kept when their key lives in one of our HSMs, or when the policy expects them.
 * Each subscription is judged on its own lists, so one that cannot be read leaves the others known.
 */
async function collectConsumers(subscriptions: string[], scopeRead: Promise<ConsumerScope>, clients: AzureClients, attempt: Attempt): Promise<ConsumersSnapshot> {
  const ours = async (): Promise<Ours> => {
    const scope = await scopeRead;
    return (host, resourceId) => (host !== undefined && scope.hsmHosts.has(host)) || scope.expected.has(resourceKey(resourceId));
  };

  const perSubscription = await eachOf(subscriptions, async (sub) => {
    const id = `/subscriptions/${sub}`;
    const about = subscriptionRef(sub);
    const [sqlManagedInstances, allDes, allDisks, allVms, allStorage] = await Promise.all([
      collectSqlManagedInstances(sub, ours, clients, attempt),
      attempt("consumers.diskEncryptionSets", about, id, "diskEncryptionSets.list", () => clients.compute.listDiskEncryptionSets(sub)),
      attempt("consumers.disks", about, id, "disks.list", () => clients.compute.listDisks(sub)),
      attempt("consumers.virtualMachines", about, id, "virtualMachines.listAll", () => clients.compute.listVirtualMachines(sub)),
      attempt("consumers.storageAccounts", about, id, "storageAccounts.list", () => clients.storage.listStorageAccounts(sub)),
    ]);
    const isOurs = await ours();
    const diskEncryptionSets = allDes?.filter((d) => isOurs(d.keyReference?.host, d.resourceId)) ?? null;
    const storageAccounts =
      allStorage?.filter((s) => (s.keySource?.toLowerCase() === "microsoft.keyvault" && isOurs(s.keyReference?.host, "")) || isOurs(undefined, s.resourceId)) ?? [];
    return { sqlManagedInstances: sqlManagedInstances ?? [], diskEncryptionSets: diskEncryptionSets ?? [], ...disksInScope(diskEncryptionSets, allDisks, allVms), storageAccounts };
  });

  return {
    sqlManagedInstances: perSubscription.flatMap((s) => s.sqlManagedInstances),
    diskEncryptionSets: perSubscription.flatMap((s) => s.diskEncryptionSets),
    disks: perSubscription.flatMap((s) => s.disks),
    virtualMachines: perSubscription.flatMap((s) => s.virtualMachines),
    storageAccounts: perSubscription.flatMap((s) => s.storageAccounts),
  };
}

async function collectSqlManagedInstances(sub: string, ours: () => Promise<Ours>, clients: AzureClients, attempt: Attempt): Promise<SqlManagedInstanceConsumer[] | null> {
  const instances = await attempt("consumers.sqlManagedInstances", subscriptionRef(sub), `/subscriptions/${sub}`, "managedInstances.list", () =>
    clients.sql.listManagedInstances(sub),
  );
  if (instances === null) return null;
  const [detailed, failoverGroups] = await Promise.all([
    eachOf(instances, async (mi): Promise<Omit<SqlManagedInstanceConsumer, "failoverGroups">> => {
      const about = consumerRef(mi.resourceId);
      const [encryptionProtector, keys] = await Promise.all([
        attempt("consumers.sqlManagedInstance.encryptionProtector", about, mi.resourceId, "managedInstanceEncryptionProtectors.get", () =>
          clients.sql.getEncryptionProtector(mi.resourceId),
        ),
        attempt("consumers.sqlManagedInstance.keys", about, mi.resourceId, "managedInstanceKeys.listByInstance", () => clients.sql.listKeys(mi.resourceId)),
      ]);
      return { ...mi, encryptionProtector, keys };
    }),
    collectFailoverGroups(instances, clients, attempt),
  ]);
  // An instance whose protector could not be read is kept: it may be ours, and dropping it would hide it.
  const isOurs = await ours();
  return detailed
    .filter((mi) => mi.encryptionProtector === null || isOurs(mi.encryptionProtector.keyReference?.host, mi.resourceId))
    .map((mi) => ({ ...mi, failoverGroups: failoverGroups.get(resourceKey(mi.resourceId)) ?? null }));
}

/**
 * Instance failover groups: one list per (subscription, resource group, region) that holds an instance, read
 * while the protectors are. A list that fails leaves every instance it covers `null`, with an error about each.
 */
async function collectFailoverGroups(instances: ManagedInstanceBase[], clients: AzureClients, attempt: Attempt): Promise<Map<string, SqlFailoverGroupMembership[] | null>> {
  const scopes = new Map<string, { subscriptionId: string; resourceGroup: string; location: string; instances: ManagedInstanceBase[] }>();
  for (const mi of instances) {
    const key = `${mi.subscriptionId}|${mi.resourceGroup}|${regionKey(mi.location)}`.toLowerCase();
    const scope = scopes.get(key);
    if (scope) scope.instances.push(mi);
    else scopes.set(key, { subscriptionId: mi.subscriptionId, resourceGroup: mi.resourceGroup, location: mi.location, instances: [mi] });
  }
  const operation = "instanceFailoverGroups.listByLocation";
  const lists = await eachOf([...scopes.values()], async (scope) => {
    const listed = clients.sql.listInstanceFailoverGroups(scope.subscriptionId, scope.resourceGroup, scope.location);
    // One error per instance the list covers, each naming its instance; `operation` says which list failed.
    const perInstance = await eachOf(scope.instances, (mi) =>
      attempt("consumers.sqlManagedInstance.failoverGroups", consumerRef(mi.resourceId), mi.resourceId, operation, () =>
        listed.catch((error: unknown) => {
          const e = toAzureRequestError(error, operation, mi.resourceId);
          throw new AzureRequestError(operation, mi.resourceId, e.message, e.statusCode, e.code, { cause: e });
        }),
      ),
    );
    return { scope, groups: perInstance[0] ?? null };
  });
  const locations = new Map(instances.map((mi) => [resourceKey(mi.resourceId), mi.location]));
  const memberships = failoverGroupMemberships(locations, lists.flatMap((l) => (l.groups ? [l.groups] : [])));
  const out = new Map<string, SqlFailoverGroupMembership[] | null>();
  for (const { scope, groups } of lists) {
    for (const mi of scope.instances) out.set(resourceKey(mi.resourceId), groups === null ? null : (memberships.get(resourceKey(mi.resourceId)) ?? []));
  }
  return out;
}

/**
 * One subscription's VMs with any disk behind one of our DES, and every disk of those VMs (so
 * platform-key disks show up too). Without the DES list, which VMs are in scope is unknown: none are
 * kept (the DES list's error says why), and likewise without the disk or VM list.
 */
function disksInScope(
  diskEncryptionSets: DiskEncryptionSetConsumer[] | null,
  allDisks: DiskSnapshot[] | null,
  allVms: VirtualMachineSnapshot[] | null,
): { disks: DiskSnapshot[]; virtualMachines: VirtualMachineSnapshot[] } {
  if (diskEncryptionSets === null || allDisks === null || allVms === null) return { disks: [], virtualMachines: [] };
  const ourDes = new Set(diskEncryptionSets.map((d) => resourceKey(d.resourceId)));
  const isOurs = (desId: string | undefined) => desId !== undefined && ourDes.has(resourceKey(desId));
  const diskById = new Map(allDisks.map((d) => [resourceKey(d.resourceId), d]));

  const virtualMachines = allVms.filter((vm) =>
    vm.disks.some((d) => isOurs(d.diskEncryptionSetId) || (d.diskId !== undefined && isOurs(diskById.get(resourceKey(d.diskId))?.diskEncryptionSetId))),
  );
  const vmIds = new Set(virtualMachines.map((vm) => resourceKey(vm.resourceId)));
  const vmDiskIds = new Set(virtualMachines.flatMap((vm) => vm.disks.flatMap((d) => (d.diskId ? [resourceKey(d.diskId)] : []))));
  const disks = allDisks.filter(
    (disk) => isOurs(disk.diskEncryptionSetId) || (disk.managedBy !== undefined && vmIds.has(resourceKey(disk.managedBy))) || vmDiskIds.has(resourceKey(disk.resourceId)),
  );
  return { disks, virtualMachines };
}
