import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "rbac_key_management_crypto_user",
  area: "rbac",
  title: "Key-management principals hold Managed HSM Crypto User (not Crypto Officer)",
  severity: "high",
  risk: "A key-management team given Crypto Officer (the misleading name) cannot create or rotate keys, so rotation stalls toward expiry, while it holds export and purge rights it should not have.",
  remediation: {
    summary: 'Assign Managed HSM Crypto User at "/keys" (or "/") to each key-management principal and remove any Crypto Officer assignment held in its place.',
    cli: 'az keyvault role assignment create --hsm-name <hsm-name> --role "Managed HSM Crypto User" --assignee <principal-object-id> --scope /keys && az keyvault role assignment delete --hsm-name <hsm-name> --role "Managed HSM Crypto Officer" --assignee <principal-object-id> --scope /',
    bicep:
      'Managed HSM local role assignments are not ARM resources: in the pipeline step that grants them, use role 21dbd100-6940-42c2-9190-5d6cb909625b (Crypto User) at "/keys" for key managers, not 515eb02d-2335-4d2d-92f2-b1cbdf9c3778 (Crypto Officer).',
  },
  mappings: {
    pciDss: ["7.2.1", "7.2.2", "3.6.1", "3.6.1.3"],
    cis: [],
    azurePolicy: [],
  },
};
