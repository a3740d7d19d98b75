import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "hsm_extended_region_provisioned",
  area: "hsm",
  title: "Managed HSM is replicated to its extended region(s), provisioned and healthy, with the expected primary",
  severity: "high",
  risk: "Without a healthy extended region a regional outage of the primary leaves every SQL MI, disk and storage account in the DR region unable to unwrap its keys, and there is no replica of the key material.",
  remediation: {
    summary:
      "Add each missing extended region to the HSM (multi-region replication) and wait for it to reach Succeeded; investigate a region stuck in another state. A wrong primary means the policy names a different HSM layout: fix the policy or redeploy.",
    cli: "az keyvault region add --hsm-name <hsm-name> --resource-group <resource-group> --region <extended-region>",
  },
  mappings: {
    pciDss: ["3.7.3", "12.10.1"],
    cis: [],
    azurePolicy: [],
  },
};
