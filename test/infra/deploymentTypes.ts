/**
 * The ARM resource types KeyWarden's templates (infra/) declare, and where the official spec of each one's PUT body
 * is: the pack, the spec file (its api-version is the one the template must use) and the PUT operation. gen-specs
 * extracts these operations with their request bodies; test/infra/templates.test.ts validates every resource of the
 * templates against them. A type in neither pack is in UNVALIDATED_TYPES, with the reason, and the test prints it.
 */
import type { SpecPackName } from "../support/specExtraction.js";

export interface DeploymentType {
  type: string;
  pack: SpecPackName;
  specFile: string;
  operationId: string;
}

const WEB = "specification/web/resource-manager/Microsoft.Web/AppService/stable/2025-03-01";
const INSIGHTS = "specification/monitor/resource-manager/Microsoft.Insights/stable";
const NETWORK = "specification/network/resource-manager/Microsoft.Network/stable/2024-01-01";
const EVENTGRID = "specification/eventgrid/resource-manager/Microsoft.EventGrid/stable/2025-02-15/EventGrid.json";

export const DEPLOYMENT_TYPES: readonly DeploymentType[] = [
  { type: "Microsoft.Web/sites", pack: "azure-specs-more", specFile: `${WEB}/WebApps.json`, operationId: "WebApps_CreateOrUpdate" },
  { type: "Microsoft.Web/serverfarms", pack: "azure-specs-more", specFile: `${WEB}/AppServicePlans.json`, operationId: "AppServicePlans_CreateOrUpdate" },
  {
    type: "Microsoft.Insights/components",
    pack: "azure-specs-more",
    specFile: "specification/applicationinsights/resource-manager/Microsoft.Insights/ApplicationInsights/stable/2020-02-02/components_API.json",
    operationId: "Components_CreateOrUpdate",
  },
  {
    type: "Microsoft.OperationalInsights/workspaces",
    pack: "azure-specs-more",
    specFile: "specification/operationalinsights/resource-manager/Microsoft.OperationalInsights/stable/2025-07-01/Workspaces.json",
    operationId: "Workspaces_CreateOrUpdate",
  },
  { type: "Microsoft.Insights/dataCollectionRules", pack: "azure-specs-more", specFile: `${INSIGHTS}/2024-03-11/dataCollectionRules_API.json`, operationId: "DataCollectionRules_Create" },
  { type: "Microsoft.Insights/dataCollectionEndpoints", pack: "azure-specs-more", specFile: `${INSIGHTS}/2024-03-11/dataCollectionEndpoints_API.json`, operationId: "DataCollectionEndpoints_Create" },
  { type: "Microsoft.Insights/scheduledQueryRules", pack: "azure-specs-more", specFile: `${INSIGHTS}/2023-12-01/scheduledQueryRule_API.json`, operationId: "ScheduledQueryRules_CreateOrUpdate" },
  { type: "Microsoft.Insights/actionGroups", pack: "azure-specs-more", specFile: `${INSIGHTS}/2023-01-01/actionGroups_API.json`, operationId: "ActionGroups_CreateOrUpdate" },
  {
    type: "Microsoft.Authorization/roleAssignments",
    pack: "azure-specs-more",
    specFile: "specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleAssignmentsCalls.json",
    operationId: "RoleAssignments_Create",
  },
  { type: "Microsoft.EventGrid/topics", pack: "azure-specs-more", specFile: EVENTGRID, operationId: "Topics_CreateOrUpdate" },
  { type: "Microsoft.EventGrid/topics/eventSubscriptions", pack: "azure-specs-more", specFile: EVENTGRID, operationId: "TopicEventSubscriptions_CreateOrUpdate" },
  {
    type: "Microsoft.Storage/storageAccounts",
    pack: "azure-specs",
    specFile: "specification/storage/resource-manager/Microsoft.Storage/stable/2023-05-01/storage.json",
    operationId: "StorageAccounts_Create",
  },
  { type: "Microsoft.Network/virtualNetworks", pack: "azure-specs", specFile: `${NETWORK}/virtualNetwork.json`, operationId: "VirtualNetworks_CreateOrUpdate" },
  { type: "Microsoft.Network/privateEndpoints", pack: "azure-specs", specFile: `${NETWORK}/privateEndpoint.json`, operationId: "PrivateEndpoints_CreateOrUpdate" },
  {
    type: "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
    pack: "azure-specs",
    specFile: `${NETWORK}/privateEndpoint.json`,
    operationId: "PrivateDnsZoneGroups_CreateOrUpdate",
  },
];

/**
 * Types the templates declare whose spec is in neither pack (shared/azure-specs, shared/azure-specs-more): their
 * bodies are not validated against a spec. Written in docs/azure-fidelity.md too; the test prints this list.
 */
export const UNVALIDATED_TYPES: Readonly<Record<string, string>> = {
  "Microsoft.Storage/storageAccounts/blobServices/containers": "blob.json (Microsoft.Storage BlobContainers_Create) is not in the packs",
  "Microsoft.OperationalInsights/workspaces/tables": "Tables.json (Microsoft.OperationalInsights Tables_CreateOrUpdate) is not in the packs",
  "Microsoft.Network/privateDnsZones": "privatedns.json (Microsoft.Network/privateDnsZones) is not in the packs",
  "Microsoft.Network/privateDnsZones/virtualNetworkLinks": "privatedns.json (Microsoft.Network/privateDnsZones) is not in the packs",
  "Microsoft.Authorization/roleDefinitions": "authorization-RoleDefinitionsCalls.json is not in the packs",
  "Microsoft.Resources/deployments": "resources.json (Microsoft.Resources deployments) is not in the packs",
};

/** "specFile operationId" of every deployment operation of a pack: gen-specs keeps their request bodies. */
export function deploymentOperationKeys(pack: SpecPackName): Set<string> {
  return new Set(DEPLOYMENT_TYPES.filter((t) => t.pack === pack).map((t) => `${t.specFile} ${t.operationId}`));
}
