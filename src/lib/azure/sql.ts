import type { SqlManagementClient } from "@azure/arm-sql";
import type { SqlManagedInstanceConsumer } from "../estate/snapshot.js";
import { parseKeyReference } from "../estate/keyReference.js";
import { requireResourceId } from "../estate/resourceId.js";
import type { ManagedInstance } from "@azure/arm-sql";
import { AzureRequestError, call, collectPages } from "./errors.js";
import { writeOptions, type WriteOptions } from "./writeOptions.js";
import { mapIdentity } from "./identity.js";
import { defined } from "./managedHsms.js";

export type ManagedInstanceBase = Omit<SqlManagedInstanceConsumer, "encryptionProtector" | "keys" | "failoverGroups">;

/**
 * An instance failover group as one region's list shows it: `replicationRole` is the role of the group's instance
 * in `location` (the region listed), `partnerRegions` the other side's.
 */
export interface InstanceFailoverGroupView {
  id: string;
  name: string;
  /** The region whose list returned the group (its ARM id names it too). */
  location: string;
  replicationRole?: string;
  partnerRegions: { location?: string; replicationRole?: string }[];
  managedInstancePairs: { primaryManagedInstanceId?: string; partnerManagedInstanceId?: string }[];
}

/** Microsoft.Sql managed instances, their TDE protector and keys, through @azure/arm-sql. */
export class SqlManagedInstancesArm {
  constructor(private readonly client: (subscriptionId: string) => SqlManagementClient) {}

  listManagedInstances(subscriptionId: string): Promise<ManagedInstanceBase[]> {
    return collectPages("managedInstances.list", `/subscriptions/${subscriptionId}`, this.client(subscriptionId).managedInstances.list(), mapManagedInstance);
  }

  async getManagedInstance(instanceId: string): Promise<ManagedInstanceBase> {
    const { subscriptionId, resourceGroup, name } = requireResourceId(instanceId, "managed instance id");
    return mapManagedInstance(await call("managedInstances.get", instanceId, () => this.client(subscriptionId).managedInstances.get(resourceGroup, name)));
  }

  /** Adds (or refreshes) a managed-instance key for a key version (long-running). */
  async createKey(instanceId: string, keyName: string, uri: string, options: WriteOptions): Promise<void> {
    const { subscriptionId, resourceGroup, name } = requireResourceId(instanceId, "managed instance id");
    await call("managedInstanceKeys.createOrUpdate", `${instanceId}/keys/${keyName}`, () =>
      this.client(subscriptionId).managedInstanceKeys.beginCreateOrUpdateAndWait(resourceGroup, name, keyName, { serverKeyType: "AzureKeyVault", uri }, writeOptions(options)),
    );
  }

  /** Does the instance hold this managed-instance key? */
  async hasKey(instanceId: string, keyName: string): Promise<boolean> {
    const { subscriptionId, resourceGroup, name } = requireResourceId(instanceId, "managed instance id");
    try {
      await call("managedInstanceKeys.get", `${instanceId}/keys/${keyName}`, () => this.client(subscriptionId).managedInstanceKeys.get(resourceGroup, name, keyName));
      return true;
    } catch (error) {
      if (error instanceof AzureRequestError && error.statusCode === 404) return false;
      throw error;
    }
  }

  /** Points the TDE protector at a managed-instance key (long-running); auto-rotation is left as it is. */
  async setEncryptionProtector(instanceId: string, serverKeyName: string, options: WriteOptions): Promise<void> {
    const { subscriptionId, resourceGroup, name } = requireResourceId(instanceId, "managed instance id");
    await call("managedInstanceEncryptionProtectors.createOrUpdate", `${instanceId}/encryptionProtector/current`, () =>
      this.client(subscriptionId).managedInstanceEncryptionProtectors.beginCreateOrUpdateAndWait(resourceGroup, name, "current", { serverKeyType: "AzureKeyVault", serverKeyName }, writeOptions(options)),
    );
  }

  async getEncryptionProtector(instanceId: string): Promise<NonNullable<SqlManagedInstanceConsumer["encryptionProtector"]>> {
    const { subscriptionId, resourceGroup, name } = requireResourceId(instanceId, "managed instance id");
    const ep = await call("managedInstanceEncryptionProtectors.get", instanceId, () =>
      this.client(subscriptionId).managedInstanceEncryptionProtectors.get(resourceGroup, name, "current"),
    );
    return defined({
      serverKeyName: ep.serverKeyName,
      serverKeyType: ep.serverKeyType,
      uri: ep.uri,
      keyReference: parseKeyReference(ep.uri),
      autoRotationEnabled: ep.autoRotationEnabled,
    });
  }

  /** Microsoft.Sql/locations/instanceFailoverGroups of one resource group in one region (the SDK's api-version, 2022-05-01-preview). */
  listInstanceFailoverGroups(subscriptionId: string, resourceGroup: string, location: string): Promise<InstanceFailoverGroupView[]> {
    const scope = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Sql/locations/${location}/instanceFailoverGroups`;
    return collectPages("instanceFailoverGroups.listByLocation", scope, this.client(subscriptionId).instanceFailoverGroups.listByLocation(resourceGroup, location), (g) =>
      defined({
        id: g.id ?? "",
        name: g.name ?? "",
        location,
        replicationRole: g.replicationRole,
        partnerRegions: (g.partnerRegions ?? []).map((p) => defined({ location: p.location, replicationRole: p.replicationRole })),
        managedInstancePairs: (g.managedInstancePairs ?? []).map((p) =>
          defined({ primaryManagedInstanceId: p.primaryManagedInstanceId, partnerManagedInstanceId: p.partnerManagedInstanceId }),
        ),
      }),
    );
  }

  listKeys(instanceId: string): Promise<NonNullable<SqlManagedInstanceConsumer["keys"]>> {
    const { subscriptionId, resourceGroup, name } = requireResourceId(instanceId, "managed instance id");
    return collectPages("managedInstanceKeys.listByInstance", instanceId, this.client(subscriptionId).managedInstanceKeys.listByInstance(resourceGroup, name), (k) =>
      defined({
        name: k.name ?? "",
        serverKeyType: k.serverKeyType,
        uri: k.uri,
        creationDate: k.creationDate?.toISOString(),
        autoRotationEnabled: k.autoRotationEnabled,
      }),
    );
  }
}

function mapManagedInstance(mi: ManagedInstance): ManagedInstanceBase {
  const id = requireResourceId(mi.id ?? "", "managed instance id");
  return defined({
    kind: "sqlManagedInstance" as const,
    resourceId: mi.id ?? "",
    name: mi.name ?? id.name,
    subscriptionId: id.subscriptionId,
    resourceGroup: id.resourceGroup,
    location: mi.location,
    identity: mapIdentity(mi.identity),
    primaryUserAssignedIdentityId: mi.primaryUserAssignedIdentityId,
    provisioningState: mi.provisioningState,
    state: mi.state,
  });
}
