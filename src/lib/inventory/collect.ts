import type { AzureClients } from "../azure/clients.js";
import type { AzureRequestError} from "../azure/errors.js";
import { toAzureRequestError } from "../azure/errors.js";
import type { Clock } from "../clock.js";
import { mapWithConcurrency } from "../concurrency.js";
import type { AppSettings, KeyWardenConfig, ManagedHsmPolicy } from "../config/types.js";
import { hsmHost } from "./keyReference.js";
import {
  SNAPSHOT_SCHEMA_VERSION,
  type CollectionError,
  type ConsumersSnapshot,
  type DiskEncryptionSetConsumer,
  type DiskSnapshot,
  type EstateSnapshot,
  type KeySnapshot,
  type ManagedHsmSnapshot,
  type RoleAssignmentSnapshot,
  type RoleDefinitionSnapshot,
  type SnapshotPart,
  type SqlManagedInstanceConsumer,
  type StorageAccountConsumer,
  type VirtualMachineSnapshot,
  sameResourceId,
} from "./snapshot.js";

/** Calls in flight at once per fan-out (keys of an HSM, SQL instances, subscriptions). */
const FAN_OUT = 8;

/**
 * Reads the whole estate through the SDK adapters. A read that fails is recorded in `errors` and its
 * part left `null` (unknown); collection always goes on with the rest.
 */
export async function collectEstate(config: KeyWardenConfig, clients: AzureClients, clock: Clock): Promise<EstateSnapshot> {
  const collectedAt = clock.now().toISOString();
  const errors: CollectionError[] = [];
  const attempt = async <T>(part: SnapshotPart, resourceId: string, operation: string, fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch (error) {
      const e = toAzureRequestError(error, operation, resourceId);
      errors.push(toCollectionError(part, e));
      return null;
    }
  };

  const managedHsms = await Promise.all(config.policy.managedHsms.map((hsm) => collectManagedHsm(hsm, config.settings, clients, attempt)));
  const hosts = new Set(managedHsms.map((h) => (h.hsmUri ? hsmHost(h.hsmUri) : undefined)).filter((h): h is string => h !== undefined));
  const subscriptions = [...new Set(config.policy.subscriptions.map((s) => s.toLowerCase()))];
  const expected = new Set(config.policy.managedHsms.flatMap((h) => h.keys.flatMap((k) => k.expectedConsumers.map((id) => id.toLowerCase()))));
  const consumers = await collectConsumers(subscriptions, { hsmHosts: hosts, expected }, clients, attempt);

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

type Attempt = <T>(part: SnapshotPart, resourceId: string, operation: string, fn: () => Promise<T>) => Promise<T | null>;

function toCollectionError(part: SnapshotPart, e: AzureRequestError): CollectionError {
  return {
    part,
    resourceId: e.resourceId,
    operation: e.operation,
    ...(e.statusCode !== undefined ? { statusCode: e.statusCode } : {}),
    ...(e.code !== undefined ? { code: e.code } : {}),
    message: e.message,
  };
}

/** Where the HSM's data plane is when ARM could not tell us: https://<name>.<dns suffix>/ (on the emulator's port). */
function derivedHsmUri(name: string, settings: AppSettings): string {
  const port = settings.emulator ? new URL(settings.emulator.endpoint).port : "";
  return `https://${name.toLowerCase()}.${settings.cloud.managedHsmDnsSuffix}${port ? `:${port}` : ""}/`;
}

async function collectManagedHsm(policy: ManagedHsmPolicy, settings: AppSettings, clients: AzureClients, attempt: Attempt): Promise<ManagedHsmSnapshot> {
  const id = policy.resourceId;
  const [resource, regions, connections, diagnosticSettings] = await Promise.all([
    attempt("managedHsm", id, "managedHsms.get", () => clients.managedHsms.get(id)),
    attempt("managedHsm.regions", id, "mhsmRegions.listByResource", () => clients.managedHsms.listRegions(id)),
    attempt("managedHsm.privateEndpointConnections", id, "mhsmPrivateEndpointConnections.listByResource", () =>
      clients.managedHsms.listPrivateEndpointConnections(id),
    ),
    attempt("managedHsm.diagnosticSettings", id, "diagnosticSettings.list", () => clients.diagnosticSettings.list(id)),
  ]);
  const hsmUri = resource?.hsmUri ?? derivedHsmUri(policy.name, settings);

  const privateEndpointConnections =
    connections === null
      ? null
      : await Promise.all(
          connections.map(async (c) => ({
            ...c,
            privateEndpointLocation: c.privateEndpointId
              ? ((await attempt("managedHsm.privateEndpoint", c.privateEndpointId, "privateEndpoints.get", () =>
                  clients.privateEndpoints.getLocation(c.privateEndpointId as string),
                )) ?? null)
              : null,
          })),
        );

  const keys = await collectKeys(hsmUri, policy, clients, attempt);
  const { roleDefinitions, roleAssignments } = await collectRbac(hsmUri, keys?.map((k) => k.name) ?? policy.keys.map((k) => k.name), clients, attempt);

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
  };
}

/**
 * Every key in the HSM with its versions and rotation policy. If the HSM will not list its keys, the
 * configured keys are still read one by one, but `keys` stays null: the list is not known complete.
 */
async function collectKeys(hsmUri: string, policy: ManagedHsmPolicy, clients: AzureClients, attempt: Attempt): Promise<KeySnapshot[] | null> {
  const client = clients.hsmKeys(hsmUri);
  const keysUrl = `${hsmUri.replace(/\/+$/, "")}/keys`;
  const listed = await attempt("keys", keysUrl, "keys.listPropertiesOfKeys", () => client.listKeyNames());
  const names = listed ?? policy.keys.map((k) => k.name);

  const keys = await mapWithConcurrency(names, FAN_OUT, async (name): Promise<KeySnapshot | null> => {
    const keyUrl = `${keysUrl}/${name}`;
    const [key, versions, rotationPolicy] = await Promise.all([
      readKey(client, name, keyUrl, attempt),
      attempt("key.versions", keyUrl, "keys.listPropertiesOfKeyVersions", () => client.listVersions(name)),
      attempt("key.rotationPolicy", keyUrl, "keys.getKeyRotationPolicy", () => client.getRotationPolicy(name)),
    ]);
    if (key === "absent" || key === null) return null;
    return { ...key, versions: versions && sortVersions(versions), rotationPolicy };
  });
  const found = keys.filter((k): k is KeySnapshot => k !== null);
  return listed === null ? null : found;
}

/** A key that does not exist (404 KeyNotFound) is "absent", which is knowledge, not a collection error. */
async function readKey(client: ReturnType<AzureClients["hsmKeys"]>, name: string, keyUrl: string, attempt: Attempt) {
  try {
    return await client.getKey(name);
  } catch (error) {
    const e = toAzureRequestError(error, "keys.getKey", keyUrl);
    if (e.statusCode === 404) return "absent" as const;
    return attempt("key", keyUrl, "keys.getKey", () => Promise.reject(e));
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
async function collectRbac(hsmUri: string, keyNames: string[], clients: AzureClients, attempt: Attempt) {
  const rbac = clients.hsmRbac(hsmUri);
  const base = hsmUri.replace(/\/+$/, "");
  const definitions = await attempt("rbac.roleDefinitions", `${base}/`, "roleDefinitions.list", async () =>
    (await rbac.listRoleDefinitions("/")).map(
      (d): RoleDefinitionSnapshot => ({
        id: d.id ?? "",
        name: d.name ?? "",
        ...(d.properties?.roleName ? { roleName: d.properties.roleName } : {}),
        ...(d.properties?.type ? { roleType: d.properties.type } : {}),
        assignableScopes: [...(d.properties?.assignableScopes ?? [])],
        permissions: (d.properties?.permissions ?? []).map((p) => ({
          actions: [...(p.actions ?? [])],
          notActions: [...(p.notActions ?? [])],
          dataActions: [...(p.dataActions ?? [])],
          notDataActions: [...(p.notDataActions ?? [])],
        })),
      }),
    ),
  );

  const scopes = ["/", "/keys", ...keyNames.map((k) => `/keys/${k}`)];
  const perScope = await Promise.all(
    scopes.map((scope) => attempt("rbac.roleAssignments", `${base}${scope}`, "roleAssignments.list", () => rbac.listRoleAssignments(scope))),
  );
  let roleAssignments: RoleAssignmentSnapshot[] | null = null;
  if (perScope.every((list) => list !== null)) {
    const byId = new Map<string, RoleAssignmentSnapshot>();
    for (const a of perScope.flat()) {
      if (!a) continue;
      const roleDefinitionId = a.properties?.roleDefinitionId ?? "";
      const roleName = definitions?.find((d) => sameRoleDefinition(d, roleDefinitionId))?.roleName;
      const assignment: RoleAssignmentSnapshot = {
        id: a.id ?? "",
        name: a.name ?? "",
        scope: a.properties?.scope ?? "/",
        principalId: a.properties?.principalId ?? "",
        roleDefinitionId,
        ...(roleName ? { roleName } : {}),
      };
      byId.set(assignment.id.toLowerCase(), assignment);
    }
    roleAssignments = [...byId.values()].sort((a, b) => a.scope.localeCompare(b.scope) || a.principalId.localeCompare(b.principalId));
  }
  return { roleDefinitions: definitions, roleAssignments };
}

function sameRoleDefinition(d: RoleDefinitionSnapshot, roleDefinitionId: string): boolean {
  const strip = (s: string) => s.replace(/^\/+/, "").toLowerCase();
  return strip(d.id) === strip(roleDefinitionId) || d.name.toLowerCase() === roleDefinitionId.split("/").pop()?.toLowerCase();
}

interface ConsumerScope {
  /** Hosts of our HSMs' data planes. */
  hsmHosts: Set<string>;
  /** Lower-cased ids of the consumers the policy names: kept whatever key they use now. */
  expected: Set<string>;
}

/**
 * Consumers are discovered by listing each subscription (one call per resource type, not one GET
 * per resource) and kept when their key lives in one of our HSMs, or when the policy expects them.
 */
async function collectConsumers(subscriptions: string[], scope: ConsumerScope, clients: AzureClients, attempt: Attempt): Promise<ConsumersSnapshot> {
  const ours = (host: string | undefined, resourceId: string) => (host !== undefined && scope.hsmHosts.has(host)) || scope.expected.has(resourceId.toLowerCase());

  const perSubscription = await mapWithConcurrency(subscriptions, FAN_OUT, async (sub) => {
    const scope = `/subscriptions/${sub}`;
    const [sql, diskEncryptionSets, disks, virtualMachines, storageAccounts] = await Promise.all([
      collectSqlManagedInstances(sub, ours, clients, attempt),
      attempt("consumers.diskEncryptionSets", scope, "diskEncryptionSets.list", () => clients.compute.listDiskEncryptionSets(sub)),
      attempt("consumers.disks", scope, "disks.list", () => clients.compute.listDisks(sub)),
      attempt("consumers.virtualMachines", scope, "virtualMachines.listAll", () => clients.compute.listVirtualMachines(sub)),
      attempt("consumers.storageAccounts", scope, "storageAccounts.list", () => clients.storage.listStorageAccounts(sub)),
    ]);
    return { sql, diskEncryptionSets, disks, virtualMachines, storageAccounts };
  });

  const merge = <T>(lists: (T[] | null)[]): T[] | null => (lists.some((l) => l === null) ? null : lists.flatMap((l) => l ?? []));
  const allDes = merge(perSubscription.map((s) => s.diskEncryptionSets));
  const allDisks = merge(perSubscription.map((s) => s.disks));
  const allVms = merge(perSubscription.map((s) => s.virtualMachines));
  const allStorage = merge(perSubscription.map((s) => s.storageAccounts));

  const diskEncryptionSets = allDes?.filter((d) => ours(d.keyReference?.host, d.resourceId)) ?? null;
  const { disks, virtualMachines } = disksInScope(diskEncryptionSets, allDisks, allVms);
  const storageAccounts =
    allStorage?.filter(
      (s: StorageAccountConsumer) => (s.keySource?.toLowerCase() === "microsoft.keyvault" && ours(s.keyReference?.host, "")) || ours(undefined, s.resourceId),
    ) ?? null;

  return {
    sqlManagedInstances: merge(perSubscription.map((s) => s.sql)),
    diskEncryptionSets,
    disks,
    virtualMachines,
    storageAccounts,
  };
}

async function collectSqlManagedInstances(
  sub: string,
  ours: (host: string | undefined, resourceId: string) => boolean,
  clients: AzureClients,
  attempt: Attempt,
): Promise<SqlManagedInstanceConsumer[] | null> {
  const instances = await attempt("consumers.sqlManagedInstances", `/subscriptions/${sub}`, "managedInstances.list", () => clients.sql.listManagedInstances(sub));
  if (instances === null) return null;
  const detailed = await mapWithConcurrency(instances, FAN_OUT, async (mi): Promise<SqlManagedInstanceConsumer> => {
    const [encryptionProtector, keys] = await Promise.all([
      attempt("consumers.sqlManagedInstance.encryptionProtector", mi.resourceId, "managedInstanceEncryptionProtectors.get", () =>
        clients.sql.getEncryptionProtector(mi.resourceId),
      ),
      attempt("consumers.sqlManagedInstance.keys", mi.resourceId, "managedInstanceKeys.listByInstance", () => clients.sql.listKeys(mi.resourceId)),
    ]);
    return { ...mi, encryptionProtector, keys };
  });
  // An instance whose protector could not be read is kept: it may be ours, and dropping it would hide it.
  return detailed.filter((mi) => mi.encryptionProtector === null || ours(mi.encryptionProtector.keyReference?.host, mi.resourceId));
}

/** VMs with any disk behind one of our DES, and every disk of those VMs (so platform-key disks show up too). */
function disksInScope(
  diskEncryptionSets: DiskEncryptionSetConsumer[] | null,
  allDisks: DiskSnapshot[] | null,
  allVms: VirtualMachineSnapshot[] | null,
): { disks: DiskSnapshot[] | null; virtualMachines: VirtualMachineSnapshot[] | null } {
  if (diskEncryptionSets === null) return { disks: null, virtualMachines: null };
  const desIds = diskEncryptionSets.map((d) => d.resourceId);
  const ourDes = (id: string | undefined) => desIds.some((d) => sameResourceId(d, id));

  const virtualMachines =
    allVms === null
      ? null
      : allVms.filter((vm) => vm.disks.some((d) => ourDes(d.diskEncryptionSetId) || allDisks?.some((disk) => sameResourceId(disk.resourceId, d.diskId) && ourDes(disk.diskEncryptionSetId))));
  const disks =
    allDisks === null
      ? null
      : allDisks.filter(
          (disk) =>
            ourDes(disk.diskEncryptionSetId) ||
            (virtualMachines ?? []).some((vm) => sameResourceId(vm.resourceId, disk.managedBy) || vm.disks.some((d) => sameResourceId(d.diskId, disk.resourceId))),
        );
  return { disks, virtualMachines };
}
