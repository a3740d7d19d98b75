/** ARM scope resolution: which subscription and resource group a request names, and the resource it addresses. */
import { armResourceGroupNotFound, armResourceNotFound, armSubscriptionNotFound } from "../errors.js";
import type { ArmResource, EstateState } from "./state.js";
import { armId, getResource } from "./state.js";

export interface ResolvedScope {
  /** Canonical subscription id (as the fixture spells it). */
  subscriptionId: string;
  /** Canonical resource group name, when the request names one. */
  resourceGroup?: string;
}

/** Unknown subscription → 404 SubscriptionNotFound; unknown group → 404 ResourceGroupNotFound (ARM's order). */
export function resolveScope(state: EstateState, subscriptionId: string, resourceGroup?: string): ResolvedScope {
  const sub = state.subscriptions.get(subscriptionId.toLowerCase());
  if (!sub) throw armSubscriptionNotFound(subscriptionId);
  if (resourceGroup === undefined) return { subscriptionId: sub.id };
  const rg = sub.resourceGroups.get(resourceGroup.toLowerCase());
  if (!rg) throw armResourceGroupNotFound(resourceGroup);
  return { subscriptionId: sub.id, resourceGroup: rg };
}

/**
 * The resource `type` (e.g. "Microsoft.Sql/managedInstances/keys") named `names` (one per type level) in a
 * subscription and resource group; 404 ResourceNotFound otherwise.
 */
export function findResource(state: EstateState, subscriptionId: string, resourceGroup: string, type: string, names: string[]): ArmResource {
  const scope = resolveScope(state, subscriptionId, resourceGroup);
  const [provider = "", ...typeParts] = type.split("/");
  const segs: string[] = [];
  names.forEach((n, i) => {
    if (i > 0) segs.push(typeParts[i]!);
    segs.push(n);
  });
  const r = getResource(state, armId(scope.subscriptionId, scope.resourceGroup!, provider, typeParts[0]!, ...segs));
  if (!r || r.type.toLowerCase() !== type.toLowerCase()) throw armResourceNotFound(type, names.join("/"), scope.resourceGroup);
  return r;
}
