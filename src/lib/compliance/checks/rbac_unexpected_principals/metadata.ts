import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "rbac_unexpected_principals",
  area: "rbac",
  title: "Only expected principals have access to Managed HSM keys",
  severity: "high",
  risk: "A principal the policy does not know (a leftover test identity, a person added ad hoc, a consumer identity reaching other keys) can read, use or destroy keys outside any review.",
  remediation: {
    summary: "Remove the unexpected assignment, or, if the access is intended, add the principal to the HSM's keyManagementPrincipals, administratorPrincipals or otherExpectedPrincipals in the policy.",
    cli: "az keyvault role assignment delete --hsm-name <hsm-name> --ids <role-assignment-id>",
    bicep: "Managed HSM local role assignments are not ARM resources: remove the grant from the pipeline step that creates it, and record intended principals in the KeyWarden policy file.",
  },
  mappings: {
    pciDss: ["7.2.2", "7.2.4", "7.2.5", "3.6.1"],
    cis: [],
    azurePolicy: [],
  },
};
