import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "keys_version_headroom",
  area: "keys",
  title: "Each customer-managed key has room for more versions before the Managed HSM cap",
  severity: "high",
  risk: "Managed HSM caps a key at 100 versions and versions cannot be deleted: at the cap the key can no longer rotate and must be replaced by a new key.",
  remediation: {
    summary: "Plan a move to a new key (create it, grant the consumers' identities, repoint SQL MI, DES and storage) before the version cap stops rotation.",
    cli: "az keyvault key create --hsm-name <hsm-name> --name <new-key-name> --kty RSA-HSM --size <key-size> --ops wrapKey unwrapKey",
  },
  mappings: {
    pciDss: ["3.7.4"],
    cis: [],
    azurePolicy: [],
  },
};
