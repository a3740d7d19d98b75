import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "hsm_denied_requests_reviewed",
  area: "hsm",
  title: "Managed HSM refused no identified caller (401/403) in the last day",
  severity: "medium",
  risk: "A caller the HSM refuses is either a consumer that lost its key access (an outage in the making: TDE, disks or storage cannot unwrap their keys) or someone probing the HSM; either must be looked at while the trail is fresh.",
  remediation: {
    summary:
      "For each caller named, find out who it is (az ad sp show / az ad user show --id <object-id>): grant the role it needs at the narrowest scope if it is a legitimate consumer, or investigate and block it if it is not.",
    cli: "az keyvault role assignment list --hsm-name <hsm-name> --assignee <caller-object-id> && az ad sp show --id <caller-object-id>",
  },
  mappings: {
    pciDss: ["10.2.1", "10.4.1", "10.4.1.1", "10.7.2"],
    cis: [],
    azurePolicy: [],
  },
};
