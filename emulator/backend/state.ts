/** The emulator's in-memory state: HSM data planes (keys, versions, RBAC) and one generic ARM resource store. */
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

export interface EstateState {
  fixtureName: string;
  tenantId: string;
  subscriptionId: string;
  drift: { id: string; description: string }[];
  hsms: Map<string, HsmState>;
  resources: Map<string, ArmResource>;
  /** lower-cased name → canonical name */
  resourceGroups: Map<string, string>;
}

export function putResource(state: EstateState, r: ArmResource): void {
  state.resources.set(r.id.toLowerCase(), r);
}

export function getResource(state: EstateState, id: string): ArmResource | undefined {
  return state.resources.get(id.toLowerCase().replace(/\/+$/, ""));
}

export function listResources(state: EstateState, type: string, resourceGroup?: string): ArmResource[] {
  const t = type.toLowerCase();
  const rg = resourceGroup?.toLowerCase();
  return [...state.resources.values()].filter((r) => r.type.toLowerCase() === t && (rg === undefined || r.resourceGroup.toLowerCase() === rg));
}

export function listChildren(state: EstateState, parentId: string, childType: string): ArmResource[] {
  const prefix = parentId.toLowerCase() + "/";
  const t = childType.toLowerCase();
  return [...state.resources.values()].filter((r) => r.id.toLowerCase().startsWith(prefix) && r.type.toLowerCase() === t);
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
