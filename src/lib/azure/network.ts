import type { NetworkManagementClient } from "@azure/arm-network";
import { call } from "./errors.js";
import { requireResourceId } from "../estate/resourceId.js";

/** Microsoft.Network/privateEndpoints through @azure/arm-network: we need each endpoint's region. */
export class PrivateEndpointsArm {
  constructor(private readonly client: (subscriptionId: string) => NetworkManagementClient) {}

  async getLocation(privateEndpointId: string): Promise<string | undefined> {
    const { subscriptionId, resourceGroup, name } = requireResourceId(privateEndpointId, "private endpoint id");
    const pe = await call("privateEndpoints.get", privateEndpointId, () => this.client(subscriptionId).privateEndpoints.get(resourceGroup, name));
    return pe.location;
  }
}
