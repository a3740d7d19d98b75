import type { ManagedIdentitySnapshot } from "../estate/snapshot.js";

interface WireIdentity {
  type?: string;
  principalId?: string;
  tenantId?: string;
  userAssignedIdentities?: Record<string, { principalId?: string; clientId?: string } | undefined>;
}

/**
 * Managed identities look alike across the ARM SDKs; map any of them. ARM leaves `identity` out of a
 * resource that has none, which is knowledge (type "None"), not a failed read.
 */
export function mapIdentity(identity: WireIdentity | undefined): ManagedIdentitySnapshot {
  if (!identity) return { type: "None", userAssignedIdentities: [] };
  const out: ManagedIdentitySnapshot = {
    type: identity.type ?? "None",
    userAssignedIdentities: Object.entries(identity.userAssignedIdentities ?? {}).map(([resourceId, v]) => ({
      resourceId,
      ...(v?.principalId ? { principalId: v.principalId } : {}),
      ...(v?.clientId ? { clientId: v.clientId } : {}),
    })),
  };
  if (identity.principalId) out.principalId = identity.principalId;
  if (identity.tenantId) out.tenantId = identity.tenantId;
  return out;
}
