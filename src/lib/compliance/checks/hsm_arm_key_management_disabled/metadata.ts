import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "hsm_arm_key_management_disabled",
  area: "hsm",
  title: "Managed HSM does not let ARM roles manage its keys (AllowKeyManagementOperationsThroughARM off), unless the policy allows it",
  severity: "high",
  risk: "With AllowKeyManagementOperationsThroughARM on, principals holding ARM roles on the HSM resource can create, update or delete keys outside the HSM's local RBAC, so the local role review no longer tells who can manage the CMKs.",
  remediation: {
    summary: "Turn the setting off (an Administrator of the HSM's local RBAC), or, if ARM key management is intended, set allowKeyManagementThroughArm for this HSM in the policy.",
    cli: "az keyvault setting update --hsm-name <hsm-name> --name AllowKeyManagementOperationsThroughARM --value false",
  },
  mappings: {
    pciDss: ["3.6.1.3", "7.2.1"],
    cis: [],
    azurePolicy: [],
  },
};
