import { KeyVaultManagementClient, type ManagedHsm } from "@azure/arm-keyvault";
import type { TokenCredential } from "@azure/core-auth";
import type { ManagedHsmProperties, ManagedHsmRegion, PrivateEndpointConnectionSnapshot } from "../estate/snapshot.js";
import type { CommonClientOptions } from "./pipelineOptions.js";
import { call, collectPages } from "./errors.js";
import { requireResourceId } from "../estate/resourceId.js";

export interface ManagedHsmResource {
  location?: string;
  hsmUri?: string;
  properties: ManagedHsmProperties;
  /** Regions as embedded in the resource (the regions list call is authoritative). */
  regions: ManagedHsmRegion[];
}

export type PrivateEndpointConnection = Omit<PrivateEndpointConnectionSnapshot, "privateEndpointLocation">;

/** Microsoft.KeyVault/managedHSMs through @azure/arm-keyvault. */
export class ManagedHsmsArm {
  constructor(
    private readonly client: (subscriptionId: string) => KeyVaultManagementClient,
  ) {}

  async get(resourceId: string): Promise<ManagedHsmResource> {
    const { subscriptionId, resourceGroup, name } = requireResourceId(resourceId, "Managed HSM id");
    const hsm = await call("managedHsms.get", resourceId, () => this.client(subscriptionId).managedHsms.get(resourceGroup, name));
    return mapManagedHsm(hsm);
  }

  listRegions(resourceId: string): Promise<ManagedHsmRegion[]> {
    const { subscriptionId, resourceGroup, name } = requireResourceId(resourceId, "Managed HSM id");
    return collectPages("mhsmRegions.listByResource", resourceId, this.client(subscriptionId).mhsmRegions.listByResource(resourceGroup, name), (r) =>
      defined({ name: r.name ?? "", isPrimary: r.isPrimary === true, provisioningState: r.provisioningState }),
    );
  }

  listPrivateEndpointConnections(resourceId: string): Promise<PrivateEndpointConnection[]> {
    const { subscriptionId, resourceGroup, name } = requireResourceId(resourceId, "Managed HSM id");
    return collectPages(
      "mhsmPrivateEndpointConnections.listByResource",
      resourceId,
      this.client(subscriptionId).mhsmPrivateEndpointConnections.listByResource(resourceGroup, name),
      (c) =>
        defined({
          id: c.id ?? "",
          privateEndpointId: c.privateEndpoint?.id,
          status: c.privateLinkServiceConnectionState?.status,
          provisioningState: c.provisioningState,
        }),
    );
  }
}

export function createKeyVaultManagementClient(credential: TokenCredential, subscriptionId: string, endpoint: string, audience: string, options: CommonClientOptions) {
  return new KeyVaultManagementClient(credential, subscriptionId, { endpoint, credentials: { scopes: [`${audience}/.default`] }, ...options });
}

function mapManagedHsm(hsm: ManagedHsm): ManagedHsmResource {
  const p = hsm.properties ?? {};
  const acls = p.networkAcls;
  return defined({
    location: hsm.location,
    hsmUri: p.hsmUri,
    properties: defined({
      tenantId: p.tenantId,
      provisioningState: p.provisioningState,
      enableSoftDelete: p.enableSoftDelete,
      softDeleteRetentionInDays: p.softDeleteRetentionInDays,
      enablePurgeProtection: p.enablePurgeProtection,
      publicNetworkAccess: p.publicNetworkAccess,
      networkAcls: acls
        ? defined({
            bypass: acls.bypass,
            defaultAction: acls.defaultAction,
            ipRules: (acls.ipRules ?? []).map((r) => r.value),
            virtualNetworkRules: (acls.virtualNetworkRules ?? []).map((r) => r.id),
            // @azure/arm-keyvault 5 (api 2025-05-01) reads it; a response without it has none.
            serviceTags: (acls.serviceTags ?? []).map((r) => r.tag),
          })
        : undefined,
      securityDomainActivationStatus: p.securityDomainProperties?.activationStatus,
      initialAdminObjectIds: [...(p.initialAdminObjectIds ?? [])],
    }),
    regions: (p.regions ?? []).map((r) => defined({ name: r.name ?? "", isPrimary: r.isPrimary === true, provisioningState: r.provisioningState })),
  });
}

/**
 * `o` without its undefined properties, in the same key order. A plain loop: this runs for every resource
 * of every list page, and Object.fromEntries over a filtered Object.entries was a tenth of the collector's
 * own CPU under `npm run bench`.
 */
export function defined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(o)) {
    const value = (o as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out as T;
}
