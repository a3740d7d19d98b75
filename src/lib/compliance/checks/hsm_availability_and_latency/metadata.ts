import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "hsm_availability_and_latency",
  area: "hsm",
  title: "Managed HSM availability and latency metrics stay within the policy's bounds",
  severity: "medium",
  risk: "Every consumer unwraps its data encryption keys through the HSM: falling availability or rising latency shows up first as failed or slow database, disk and storage operations, and as a rotation that cannot complete.",
  remediation: {
    summary:
      "Look at the HSM's Availability and ServiceApiLatency metrics for the window, correlate with Azure Service Health and the HSM's AuditEvent rows (throttled 429s, failing callers), and reduce or spread the load (client-side caching of unwrapped keys, fewer callers per HSM) or open a support case.",
    cli: "az monitor metrics list --resource <hsm-resource-id> --metric Availability ServiceApiLatency --interval PT1H --aggregation Average Minimum",
  },
  mappings: {
    pciDss: ["10.7.2", "12.10.1"],
    cis: [],
    azurePolicy: [],
  },
};
