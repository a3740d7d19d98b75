import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "rbac_service_identity_key_scoped",
  area: "rbac",
  title: "Service identities hold only read/wrap/unwrap, scoped to their own key",
  severity: "high",
  risk: 'A SQL MI, disk encryption set or storage identity granted at "/" or "/keys", or with a broader role, can use every key in the HSM: one compromised service decrypts every other service\'s data.',
  remediation: {
    summary: 'Re-create the grant as Managed HSM Crypto Service Encryption User at "/keys/<key-name>", then delete the broad or over-privileged assignment.',
    cli: 'az keyvault role assignment create --hsm-name <hsm-name> --role "Managed HSM Crypto Service Encryption User" --assignee-object-id <consumer-principal-id> --assignee-principal-type ServicePrincipal --scope /keys/<key-name> && az keyvault role assignment delete --hsm-name <hsm-name> --ids <broad-role-assignment-id>',
    bicep:
      'Managed HSM local role assignments are not ARM resources: in the pipeline step that grants them, pass scope "/keys/<key-name>" and the Crypto Service Encryption User role (33413926-3206-4cdd-b39a-83574fe37a17), never "/" or "/keys".',
  },
  mappings: {
    pciDss: ["7.2.5", "7.2.2", "3.6.1"],
    cis: [],
    azurePolicy: [],
  },
};
