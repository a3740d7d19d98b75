import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "rbac_consumer_identity_can_wrap",
  area: "rbac",
  title: "Each consumer identity can read, wrap and unwrap its own Managed HSM key",
  severity: "high",
  risk: "A SQL MI, disk encryption set or storage account whose identity cannot wrap/unwrap its key loses access on the next rotation, failover or restart: databases go Inaccessible, VMs stop, storage returns 403.",
  remediation: {
    summary: "Give the identity the consumer actually uses Managed HSM Crypto Service Encryption User on its key (or give the consumer an identity first).",
    cli: 'az keyvault role assignment create --hsm-name <hsm-name> --role "Managed HSM Crypto Service Encryption User" --assignee-object-id <consumer-principal-id> --assignee-principal-type ServicePrincipal --scope /keys/<key-name>',
    bicep:
      "Managed HSM local role assignments are data-plane objects, not ARM resources: grant them in the deployment pipeline (az CLI step or a deploymentScripts resource) after the consumer's identity exists and before its CMK is set.",
  },
  mappings: {
    pciDss: ["3.7.3"],
    cis: [],
    azurePolicy: [],
  },
};
