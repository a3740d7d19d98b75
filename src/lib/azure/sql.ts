import type { SqlManagementClient } from "@azure/arm-sql";
import type { SqlManagedInstanceConsumer } from "../estate/snapshot.js";
import { parseKeyReference } from "../estate/keyReference.js";
import { requireResourceId } from "../estate/resourceId.js";
import { call, collectPages } from "./errors.js";
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
    return collectPages("managedInstances.list", `/subscriptions/${subscriptionId}`, this.client(subscriptionId).managedInstances.list(), (mi) => {
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
      });
    });
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
