import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "hsm_public_network_access_disabled",
  area: "hsm",
  title: "Managed HSM is not reachable from public networks (publicNetworkAccess Disabled, firewall default action Deny, no service-tag rules)",
  severity: "high",
  risk: "A publicly reachable HSM endpoint exposes the key-management and cryptographic APIs that guard every CMK to the internet, leaving a stolen token as the only barrier.",
  remediation: {
    summary:
      "Disable public network access, set the HSM firewall's default action to Deny and remove its service-tag rules; reach the HSM only through its private endpoints. Azure Policy 19ea9d63 checks only the firewall, so set both.",
    cli: "az keyvault update-hsm --hsm-name <hsm-name> --resource-group <resource-group> --default-action Deny --bypass None --set properties.publicNetworkAccess=Disabled",
    bicep: "resource hsm 'Microsoft.KeyVault/managedHSMs@2025-05-01': set properties.publicNetworkAccess: 'Disabled' and properties.networkAcls: { defaultAction: 'Deny', bypass: 'None', serviceTags: [] }",
  },
  mappings: {
    pciDss: ["1.4.4", "3.7.3"],
    cis: ["4.0.0 9.3.7"],
    azurePolicy: ["19ea9d63-adee-4431-a95e-1913c6c1c75f"],
  },
};
