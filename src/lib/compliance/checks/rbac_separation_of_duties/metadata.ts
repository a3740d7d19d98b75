import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "rbac_separation_of_duties",
  area: "rbac",
  title: "No principal holds an administrative role (Administrator, Crypto Officer, Policy Administrator) together with Crypto User",
  severity: "high",
  risk: "A principal that can both grant roles (Administrator, Crypto Officer or Policy Administrator; the last two can grant themselves Administrator, by design) and use or manage keys (Crypto User) can give itself any access and act on it alone, defeating dual control over the keys.",
  remediation: {
    summary: "Split the duties: keep role management (Administrator, Crypto Officer, Policy Administrator) and key management (Crypto User) with different principals, and remove one of the two roles from this one.",
    cli: 'az keyvault role assignment delete --hsm-name <hsm-name> --role "<Managed HSM Crypto User|Managed HSM Crypto Officer|Managed HSM Policy Administrator|Managed HSM Administrator>" --assignee <principal-object-id> --scope <scope>',
    bicep: "Managed HSM local role assignments are not ARM resources: in the pipeline step that grants them, give Administrator/Crypto Officer/Policy Administrator and Crypto User to disjoint groups.",
  },
  mappings: {
    pciDss: ["3.7.6", "3.6.1.3", "7.2.1", "7.2.2"],
    cis: [],
    azurePolicy: [],
  },
};
