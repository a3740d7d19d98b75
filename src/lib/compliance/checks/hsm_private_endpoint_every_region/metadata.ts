import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "hsm_private_endpoint_every_region",
  area: "hsm",
  title: "Managed HSM has an approved private endpoint in every region it serves (primary and extended)",
  severity: "high",
  risk: "Without an approved private endpoint in a region, workloads there cannot reach the HSM privately: they fail to unwrap their keys on failover, or someone opens public access to make them work.",
  remediation: {
    summary:
      "Create a private endpoint (group id managedhsm) in each region missing one, in a VNet the workloads there use, and approve its connection on the HSM.",
    cli: "az network private-endpoint create --resource-group <network-resource-group> --name <private-endpoint-name> --location <missing-region> --vnet-name <vnet-name> --subnet <subnet-name> --private-connection-resource-id <hsm-resource-id> --group-id managedhsm --connection-name <connection-name>",
    bicep:
      "add one resource 'Microsoft.Network/privateEndpoints@2024-05-01' per region (location: '<region>') with properties.privateLinkServiceConnections: [{ name: '<connection-name>', properties: { privateLinkServiceId: hsm.id, groupIds: ['managedhsm'] } }], plus its privatelink.managedhsm.azure.net DNS zone group",
  },
  mappings: {
    pciDss: ["1.4.4", "3.7.3"],
    cis: ["2.0.0 8.7", "3.0.0 3.3.7", "4.0.0 9.3.8"],
    azurePolicy: ["59fee2f4-d439-4f1b-9b9a-982e1474bfd8"],
  },
};
