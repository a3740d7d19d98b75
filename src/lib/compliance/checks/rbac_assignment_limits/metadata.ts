import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "rbac_assignment_limits",
  area: "rbac",
  title: "Managed HSM role assignments stay under the service limits",
  severity: "medium",
  risk: 'Managed HSM refuses new role assignments past 50 at HSM scope ("/" and "/keys") or 10 per key: the next consumer identity cannot be granted its key and onboarding or DR failover stalls.',
  remediation: {
    summary: "Consolidate assignments: grant Entra groups instead of individual principals, and remove stale assignments of deleted identities.",
    cli: "az keyvault role assignment list --hsm-name <hsm-name> --scope <scope> --query \"[].{id:id, principal:principalId, role:roleName}\" -o table && az keyvault role assignment delete --hsm-name <hsm-name> --ids <stale-role-assignment-id>",
    bicep: "Managed HSM local role assignments are not ARM resources: in the pipeline step that grants them, assign roles to Entra groups whose membership is managed in Entra ID rather than one assignment per identity.",
  },
  mappings: {
    pciDss: [],
    cis: [],
    azurePolicy: [],
  },
};
