import type { InstanceFailoverGroupView } from "../azure/sql.js";
import { resourceKey } from "../estate/resourceId.js";
import type { SqlFailoverGroupMembership } from "../estate/snapshot.js";

/** Azure spells a region "southindia" in ids and "South India" in partnerRegions. */
export const regionKey = (location: string | undefined): string => (location ?? "").replace(/\s+/g, "").toLowerCase();

const OPPOSITE: Record<string, string> = { primary: "Secondary", secondary: "Primary" };

/**
 * Each instance's failover groups, from the groups listed per (subscription, resource group, region). A group may
 * be listed on both sides (each list reports its own region's role); an instance takes the group from its own
 * region's list when that list has it, else from a partner's list, with the role that list gives its partner region
 * (or the opposite of the listed role). `instanceLocations` maps lower-cased instance ids to their regions; only
 * those instances get memberships.
 */
export function failoverGroupMemberships(
  instanceLocations: ReadonlyMap<string, string>,
  lists: readonly InstanceFailoverGroupView[][],
): Map<string, SqlFailoverGroupMembership[]> {
  const byInstance = new Map<string, Map<string, { membership: SqlFailoverGroupMembership; local: boolean }>>();
  for (const group of lists.flat()) {
    const members = new Map<string, string>();
    for (const pair of group.managedInstancePairs) {
      for (const id of [pair.primaryManagedInstanceId, pair.partnerManagedInstanceId]) if (id) members.set(resourceKey(id), id);
    }
    for (const [key] of members) {
      const location = instanceLocations.get(key);
      if (location === undefined) continue;
      const local = regionKey(location) === regionKey(group.location);
      const role = local ? group.replicationRole : partnerRole(group, location);
      const membership: SqlFailoverGroupMembership = {
        id: group.id,
        name: group.name,
        ...(role ? { role } : {}),
        partnerManagedInstanceIds: [...members].filter(([k]) => k !== key).map(([, id]) => id),
      };
      let groups = byInstance.get(key);
      if (!groups) {
        groups = new Map();
        byInstance.set(key, groups);
      }
      const name = group.name.toLowerCase();
      const seen = groups.get(name);
      if (!seen || (local && !seen.local)) groups.set(name, { membership, local });
    }
  }
  const out = new Map<string, SqlFailoverGroupMembership[]>();
  for (const [key, groups] of byInstance) out.set(key, [...groups.values()].map((g) => g.membership).sort((a, b) => a.name.localeCompare(b.name)));
  return out;
}

function partnerRole(group: InstanceFailoverGroupView, location: string): string | undefined {
  const region = group.partnerRegions.find((p) => regionKey(p.location) === regionKey(location));
  return region?.replicationRole ?? (group.replicationRole ? OPPOSITE[group.replicationRole.toLowerCase()] : undefined);
}
