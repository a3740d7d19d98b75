/**
 * Managed HSM built-in roles (learn.microsoft.com/azure/key-vault/managed-hsm/built-in-roles).
 * The names mislead: Crypto Officer cannot create or rotate keys; Crypto User is the key-management role.
 */
export const MANAGED_HSM_ROLES = {
  administrator: { name: "Managed HSM Administrator", guid: "a290e904-7015-4bba-90c8-60543313cdb4" },
  cryptoOfficer: { name: "Managed HSM Crypto Officer", guid: "515eb02d-2335-4d2d-92f2-b1cbdf9c3778" },
  cryptoUser: { name: "Managed HSM Crypto User", guid: "21dbd100-6940-42c2-9190-5d6cb909625b" },
  policyAdministrator: { name: "Managed HSM Policy Administrator", guid: "4bd23610-cdcf-4971-bdee-bdc562cc28e4" },
  cryptoAuditor: { name: "Managed HSM Crypto Auditor", guid: "2c18b078-7c48-4d3a-af88-5a3a1b3f82b3" },
  cryptoServiceEncryptionUser: { name: "Managed HSM Crypto Service Encryption User", guid: "33413926-3206-4cdd-b39a-83574fe37a17" },
  backup: { name: "Managed HSM Backup", guid: "7b127d3c-77bd-4e3e-bbe0-dbb8971fa7f8" },
  cryptoServiceReleaseUser: { name: "Managed HSM Crypto Service Release User", guid: "21dbd100-6940-42c2-9190-5d6cb909625c" },
  restore: { name: "Managed HSM Restore", guid: "6efe6056-5259-49d2-8b3d-d3d73544b20b" },
} as const;

export type ManagedHsmRoleKey = keyof typeof MANAGED_HSM_ROLES;

/** Data actions a consumer identity needs to use a key for envelope encryption. */
export const WRAP_DATA_ACTIONS = [
  "Microsoft.KeyVault/managedHsm/keys/read/action",
  "Microsoft.KeyVault/managedHsm/keys/wrap/action",
  "Microsoft.KeyVault/managedHsm/keys/unwrap/action",
] as const;

/** The GUID at the end of a role definition id ("Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/<guid>"). */
export function roleDefinitionGuid(roleDefinitionId: string): string {
  return (roleDefinitionId.split("/").pop() ?? roleDefinitionId).toLowerCase();
}

/** Is `scope` the same as, or inside, `container`? ("/" ⊃ "/keys" ⊃ "/keys/<name>"; key names compare case-insensitively.) */
export function scopeCovers(container: string, scope: string): boolean {
  const norm = (s: string) => (s.replace(/\/+$/, "") || "/").toLowerCase();
  const c = norm(container);
  const s = norm(scope);
  return c === "/" || c === s || s.startsWith(`${c}/`);
}
