/**
 * The served-operation table: operationId (the spec's), method, path template, accepted api-versions and spec file.
 * `scripts/gen-operations.ts` renders it into OPERATIONS.md. Templates: `{x}` = one segment, `{+x}` = zero or
 * more segments; literal segments match case-insensitively (ARM is case-insensitive).
 */
import * as access from "./handlers/access.js";
import * as arm from "./handlers/arm.js";
import type { Handler, HttpMethod } from "./handlers/context.js";
import * as control from "./handlers/control.js";
import * as eventGrid from "./handlers/eventGrid.js";
import * as hsm from "./handlers/hsm.js";
import * as ingestion from "./handlers/ingestion.js";
import * as logAnalytics from "./handlers/logAnalytics.js";

export type RouteHost = "hsm" | "arm" | "control" | "eventgrid" | "monitor" | "loganalytics" | "metrics";

export interface Route {
  operationId: string;
  method: HttpMethod;
  host: RouteHost;
  template: string;
  /** Accepted api-versions (SDK defaults from azure-wire.md §0 plus the spec pack's); "none" for control endpoints. */
  apiVersions: readonly string[] | "any" | "none";
  /** Resource type named in InvalidApiVersionParameter messages. */
  resourceType?: string;
  specFile?: string;
  handler: Handler;
}

const SPEC = "specification/";
const KV_DP = `${SPEC}keyvault/data-plane/Microsoft.KeyVault/stable/2025-07-01/`;
const API = {
  keyVault: ["7.2", "7.3", "7.4", "7.5", "7.6-preview.2", "7.6", "2025-07-01"],
  managedHsm: ["2023-07-01", "2024-11-01", "2025-05-01", "2026-02-01"],
  sqlInstances: ["2021-11-01", "2022-08-01-preview", "2023-08-01"],
  sqlKeys: ["2020-11-01-preview", "2021-11-01", "2022-08-01-preview", "2023-08-01"],
  // @azure/arm-sql 10 sends 2022-05-01-preview; the spec pack (azure-specs-more) has 2023-08-01.
  sqlFailoverGroups: ["2022-05-01-preview", "2023-08-01"],
  diskRp: ["2025-01-02"],
  computeVm: ["2024-03-01", "2024-07-01", "2024-11-01", "2025-04-01", "2026-03-01"],
  storage: ["2023-05-01", "2025-06-01", "2025-08-01"],
  network: ["2024-01-01", "2025-05-01"],
  diagnostics: ["2017-05-01-preview", "2021-05-01-preview"],
  eventGrid: ["2018-01-01"],
  // @azure/monitor-ingestion 1.2 sends 2023-01-01; 2021-11-01-preview is the version older scripts still use.
  logsIngestion: ["2021-11-01-preview", "2023-01-01"],
  // @azure/monitor-query-metrics 1.0 sends 2024-02-01, the spec pack's version.
  metricsBatch: ["2024-02-01"],
} as const;

const SUB = "/subscriptions/{subscriptionId}";
const RG = `${SUB}/resourceGroups/{resourceGroupName}`;
const MHSM = `${RG}/providers/Microsoft.KeyVault/managedHSMs/{name}`;
const MI = `${RG}/providers/Microsoft.Sql/managedInstances/{managedInstanceName}`;

/**
 * Writes, LRO polls (which may complete a change) and every control POST/DELETE settle the model (backend/settle.ts).
 * Event Grid publishes and event reads touch no consumer's access, so they do not.
 */
const changesState = (operationId: string, method: HttpMethod, host: RouteHost): boolean =>
  !["eventgrid", "monitor", "loganalytics", "metrics"].includes(host) && !/^emulator\.(eventgrid|monitor|loganalytics)\./.test(operationId) && (method !== "GET" || /^emulator\.operation(Status|Result)$/.test(operationId));

const r = (operationId: string, method: HttpMethod, host: RouteHost, template: string, apiVersions: Route["apiVersions"], specFile: string | undefined, handler: Handler, resourceType?: string): Route => ({
  operationId,
  method,
  host,
  template,
  apiVersions,
  specFile,
  handler: changesState(operationId, method, host) ? access.settling(handler) : handler,
  resourceType,
});

const MHSM_SPEC = `${SPEC}keyvault/resource-manager/Microsoft.KeyVault/stable/2025-05-01/managedHsm.json`;
const SQL = `${SPEC}sql/resource-manager/Microsoft.Sql/stable/2023-08-01/`;
const DISK = `${SPEC}compute/resource-manager/Microsoft.Compute/DiskRP/stable/2025-01-02/`;
const VM = `${SPEC}compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-03-01/virtualMachine.json`;
const STORAGE = `${SPEC}storage/resource-manager/Microsoft.Storage/stable/2023-05-01/storage.json`;
const PE = `${SPEC}network/resource-manager/Microsoft.Network/stable/2024-01-01/privateEndpoint.json`;
const EVENT_GRID = `${SPEC}eventgrid/data-plane/Microsoft.EventGrid/stable/2018-01-01/EventGrid.json`;
const LOGS_INGESTION = `${SPEC}monitor/data-plane/ingestion/stable/2023-01-01/DataCollectionRules.json`;
const DIAG = `${SPEC}monitor/resource-manager/Microsoft.Insights/preview/2021-05-01-preview/diagnosticsSettings_API.json`;
const METRICS_BATCH = `${SPEC}monitor/data-plane/Microsoft.Insights/stable/2024-02-01/metricBatch.json`;

const T = {
  hsm: "Microsoft.KeyVault/managedHSMs",
  mi: "Microsoft.Sql/managedInstances",
  des: "Microsoft.Compute/diskEncryptionSets",
  disk: "Microsoft.Compute/disks",
  vm: "Microsoft.Compute/virtualMachines",
  sa: "Microsoft.Storage/storageAccounts",
  pe: "Microsoft.Network/privateEndpoints",
};

export const ROUTES: readonly Route[] = [
  // ---------------------------------------------------------------- Managed HSM data plane
  r("GetKeys", "GET", "hsm", "/keys", API.keyVault, `${KV_DP}keys.json`, hsm.getKeys),
  r("GetKeyVersions", "GET", "hsm", "/keys/{key-name}/versions", API.keyVault, `${KV_DP}keys.json`, hsm.getKeyVersions),
  r("GetKeyRotationPolicy", "GET", "hsm", "/keys/{key-name}/rotationpolicy", API.keyVault, `${KV_DP}keys.json`, hsm.getRotationPolicy),
  r("UpdateKeyRotationPolicy", "PUT", "hsm", "/keys/{key-name}/rotationpolicy", API.keyVault, `${KV_DP}keys.json`, hsm.updateRotationPolicy),
  r("CreateKey", "POST", "hsm", "/keys/{key-name}/create", API.keyVault, `${KV_DP}keys.json`, hsm.createKeyHandler),
  r("RotateKey", "POST", "hsm", "/keys/{key-name}/rotate", API.keyVault, `${KV_DP}keys.json`, hsm.rotateKeyHandler),
  // `GET /keys/{name}/` (trailing slash = latest) arrives here after normalisation.
  r("GetKey", "GET", "hsm", "/keys/{key-name}", API.keyVault, `${KV_DP}keys.json`, hsm.getKey),
  r("GetKey", "GET", "hsm", "/keys/{key-name}/{key-version}", API.keyVault, `${KV_DP}keys.json`, hsm.getKey),
  r("UpdateKey", "PATCH", "hsm", "/keys/{key-name}", API.keyVault, `${KV_DP}keys.json`, hsm.updateKeyHandler),
  r("UpdateKey", "PATCH", "hsm", "/keys/{key-name}/{key-version}", API.keyVault, `${KV_DP}keys.json`, hsm.updateKeyHandler),
  r("RoleAssignments_ListForScope", "GET", "hsm", "{+scope}/providers/Microsoft.Authorization/roleAssignments", API.keyVault, `${KV_DP}rbac.json`, hsm.listRoleAssignments),
  r("RoleAssignments_Get", "GET", "hsm", "{+scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}", API.keyVault, `${KV_DP}rbac.json`, hsm.getRoleAssignment),
  r("RoleAssignments_Create", "PUT", "hsm", "{+scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}", API.keyVault, `${KV_DP}rbac.json`, hsm.createRoleAssignment),
  r("RoleAssignments_Delete", "DELETE", "hsm", "{+scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}", API.keyVault, `${KV_DP}rbac.json`, hsm.deleteRoleAssignment),
  r("RoleDefinitions_List", "GET", "hsm", "{+scope}/providers/Microsoft.Authorization/roleDefinitions", API.keyVault, `${KV_DP}rbac.json`, hsm.listRoleDefinitions),
  r("RoleDefinitions_Get", "GET", "hsm", "{+scope}/providers/Microsoft.Authorization/roleDefinitions/{roleDefinitionName}", API.keyVault, `${KV_DP}rbac.json`, hsm.getRoleDefinition),
  r("RoleDefinitions_CreateOrUpdate", "PUT", "hsm", "{+scope}/providers/Microsoft.Authorization/roleDefinitions/{roleDefinitionName}", API.keyVault, `${KV_DP}rbac.json`, hsm.putRoleDefinition),
  // The spec pack has settings.json at 2025-07-01 only; the older data-plane versions are accepted as for keys (UNVERIFIED).
  r("GetSettings", "GET", "hsm", "/settings", API.keyVault, `${KV_DP}settings.json`, hsm.getSettings),
  r("GetSetting", "GET", "hsm", "/settings/{setting-name}", API.keyVault, `${KV_DP}settings.json`, hsm.getSetting),
  r("UpdateSetting", "PATCH", "hsm", "/settings/{setting-name}", API.keyVault, `${KV_DP}settings.json`, hsm.updateSettingHandler),

  // ---------------------------------------------------------------- Event Grid custom topic data plane (both input schemas)
  r("PublishEvents", "POST", "eventgrid", "/api/events", API.eventGrid, EVENT_GRID, eventGrid.publishEvents),

  // ---------------------------------------------------------------- Logs Ingestion (data collection endpoint data plane)
  r("Upload", "POST", "monitor", "/dataCollectionRules/{ruleId}/streams/{stream}", API.logsIngestion, LOGS_INGESTION, ingestion.upload),

  // ---------------------------------------------------------------- Azure Monitor queries (api.loganalytics.io; <region>.metrics.monitor.azure.com)
  // The Log Analytics query spec (operationalinsights data-plane) is not in the spec packs: no specFile (see fidelity.test.ts).
  r("Query_ResourceExecute", "POST", "loganalytics", "/v1/{+resourceId}/query", "any", undefined, logAnalytics.queryResource),
  r("MetricsBatch_Batch", "POST", "metrics", `${SUB}/metrics:getBatch`, API.metricsBatch, METRICS_BATCH, logAnalytics.getMetricsBatch, "Microsoft.Insights/metrics"),

  // ---------------------------------------------------------------- ARM: Microsoft.KeyVault
  r("ManagedHsms_ListBySubscription", "GET", "arm", `${SUB}/providers/Microsoft.KeyVault/managedHSMs`, API.managedHsm, MHSM_SPEC, arm.listArm(T.hsm), T.hsm),
  r("ManagedHsms_ListByResourceGroup", "GET", "arm", `${RG}/providers/Microsoft.KeyVault/managedHSMs`, API.managedHsm, MHSM_SPEC, arm.listArm(T.hsm), T.hsm),
  r("ManagedHsms_Get", "GET", "arm", MHSM, API.managedHsm, MHSM_SPEC, arm.getArm(T.hsm, "name"), T.hsm),
  r("MHSMRegions_ListByResource", "GET", "arm", `${MHSM}/regions`, API.managedHsm, MHSM_SPEC, arm.listHsmRegions, T.hsm),
  r("MHSMPrivateEndpointConnections_ListByResource", "GET", "arm", `${MHSM}/privateEndpointConnections`, API.managedHsm, MHSM_SPEC, arm.listArmChildren(T.hsm, "name", `${T.hsm}/privateEndpointConnections`), T.hsm),

  // ---------------------------------------------------------------- ARM: Microsoft.Network, Microsoft.Insights
  r("PrivateEndpoints_Get", "GET", "arm", `${RG}/providers/Microsoft.Network/privateEndpoints/{privateEndpointName}`, API.network, PE, arm.getArm(T.pe, "privateEndpointName"), T.pe),
  r("DiagnosticSettings_List", "GET", "arm", "{+resourceUri}/providers/Microsoft.Insights/diagnosticSettings", API.diagnostics, DIAG, arm.listDiagnosticSettings, "Microsoft.Insights/diagnosticSettings"),

  // ---------------------------------------------------------------- ARM: Microsoft.Sql
  r("ManagedInstances_List", "GET", "arm", `${SUB}/providers/Microsoft.Sql/managedInstances`, API.sqlInstances, `${SQL}ManagedInstances.json`, arm.listArm(T.mi), T.mi),
  r("ManagedInstances_ListByResourceGroup", "GET", "arm", `${RG}/providers/Microsoft.Sql/managedInstances`, API.sqlInstances, `${SQL}ManagedInstances.json`, arm.listArm(T.mi), T.mi),
  r("ManagedInstances_Get", "GET", "arm", MI, API.sqlInstances, `${SQL}ManagedInstances.json`, arm.getArm(T.mi, "managedInstanceName"), T.mi),
  r("ManagedInstanceKeys_ListByInstance", "GET", "arm", `${MI}/keys`, API.sqlKeys, `${SQL}ManagedInstanceKeys.json`, arm.listArmChildren(T.mi, "managedInstanceName", `${T.mi}/keys`), `${T.mi}/keys`),
  r("ManagedInstanceKeys_Get", "GET", "arm", `${MI}/keys/{keyName}`, API.sqlKeys, `${SQL}ManagedInstanceKeys.json`, arm.getArm(`${T.mi}/keys`, "managedInstanceName", "keyName"), `${T.mi}/keys`),
  r("ManagedInstanceKeys_CreateOrUpdate", "PUT", "arm", `${MI}/keys/{keyName}`, API.sqlKeys, `${SQL}ManagedInstanceKeys.json`, arm.putManagedInstanceKey, `${T.mi}/keys`),
  r("ManagedInstanceEncryptionProtectors_Get", "GET", "arm", `${MI}/encryptionProtector/{encryptionProtectorName}`, API.sqlKeys, `${SQL}ManagedInstanceEncryptionProtectors.json`, arm.getArm(`${T.mi}/encryptionProtector`, "managedInstanceName", "encryptionProtectorName"), `${T.mi}/encryptionProtector`),
  r("InstanceFailoverGroups_ListByLocation", "GET", "arm", `${RG}/providers/Microsoft.Sql/locations/{locationName}/instanceFailoverGroups`, API.sqlFailoverGroups, `${SQL}InstanceFailoverGroups.json`, arm.listInstanceFailoverGroups, "Microsoft.Sql/locations/instanceFailoverGroups"),
  r("ManagedInstanceEncryptionProtectors_CreateOrUpdate", "PUT", "arm", `${MI}/encryptionProtector/{encryptionProtectorName}`, API.sqlKeys, `${SQL}ManagedInstanceEncryptionProtectors.json`, arm.putEncryptionProtector, `${T.mi}/encryptionProtector`),

  // ---------------------------------------------------------------- ARM: Microsoft.Compute
  r("DiskEncryptionSets_List", "GET", "arm", `${SUB}/providers/Microsoft.Compute/diskEncryptionSets`, API.diskRp, `${DISK}diskEncryptionSet.json`, arm.listArm(T.des), T.des),
  r("DiskEncryptionSets_ListByResourceGroup", "GET", "arm", `${RG}/providers/Microsoft.Compute/diskEncryptionSets`, API.diskRp, `${DISK}diskEncryptionSet.json`, arm.listArm(T.des), T.des),
  r("DiskEncryptionSets_Get", "GET", "arm", `${RG}/providers/Microsoft.Compute/diskEncryptionSets/{diskEncryptionSetName}`, API.diskRp, `${DISK}diskEncryptionSet.json`, arm.getArm(T.des, "diskEncryptionSetName"), T.des),
  r("DiskEncryptionSets_Update", "PATCH", "arm", `${RG}/providers/Microsoft.Compute/diskEncryptionSets/{diskEncryptionSetName}`, API.diskRp, `${DISK}diskEncryptionSet.json`, arm.updateDiskEncryptionSet, T.des),
  r("Disks_List", "GET", "arm", `${SUB}/providers/Microsoft.Compute/disks`, API.diskRp, `${DISK}disk.json`, arm.listArm(T.disk), T.disk),
  r("Disks_ListByResourceGroup", "GET", "arm", `${RG}/providers/Microsoft.Compute/disks`, API.diskRp, `${DISK}disk.json`, arm.listArm(T.disk), T.disk),
  r("Disks_Get", "GET", "arm", `${RG}/providers/Microsoft.Compute/disks/{diskName}`, API.diskRp, `${DISK}disk.json`, arm.getArm(T.disk, "diskName"), T.disk),
  r("VirtualMachines_ListAll", "GET", "arm", `${SUB}/providers/Microsoft.Compute/virtualMachines`, API.computeVm, VM, arm.listVirtualMachines, T.vm),
  r("VirtualMachines_Get", "GET", "arm", `${RG}/providers/Microsoft.Compute/virtualMachines/{vmName}`, API.computeVm, VM, arm.getArm(T.vm, "vmName"), T.vm),

  // ---------------------------------------------------------------- ARM: Microsoft.Storage
  r("StorageAccounts_List", "GET", "arm", `${SUB}/providers/Microsoft.Storage/storageAccounts`, API.storage, STORAGE, arm.listArm(T.sa), T.sa),
  r("StorageAccounts_ListByResourceGroup", "GET", "arm", `${RG}/providers/Microsoft.Storage/storageAccounts`, API.storage, STORAGE, arm.listArm(T.sa), T.sa),
  r("StorageAccounts_GetProperties", "GET", "arm", `${RG}/providers/Microsoft.Storage/storageAccounts/{accountName}`, API.storage, STORAGE, arm.getArm(T.sa, "accountName"), T.sa),
  r("StorageAccounts_Update", "PATCH", "arm", `${RG}/providers/Microsoft.Storage/storageAccounts/{accountName}`, API.storage, STORAGE, arm.updateStorage, T.sa),

  // ---------------------------------------------------------------- emulator LRO monitors (ARM host, bearer required)
  r("emulator.operationStatus", "GET", "arm", `${SUB}/providers/Microsoft.Emulator/locations/{location}/operationStatuses/{operationId}`, "any", undefined, arm.operationStatus),
  r("emulator.operationResult", "GET", "arm", `${SUB}/providers/Microsoft.Emulator/locations/{location}/operationResults/{operationId}`, "any", undefined, arm.operationResult),

  // ---------------------------------------------------------------- control endpoints (ARM host, no auth)
  r("emulator.reset", "POST", "control", "/_emulator/reset", "none", undefined, control.reset),
  r("emulator.fixture", "POST", "control", "/_emulator/fixture", "none", undefined, control.loadFixture),
  r("emulator.state", "GET", "control", "/_emulator/state", "none", undefined, control.getState),
  r("emulator.clock.get", "GET", "control", "/_emulator/clock", "none", undefined, control.getClock),
  r("emulator.clock.set", "POST", "control", "/_emulator/clock", "none", undefined, control.setClock),
  r("emulator.faults.add", "POST", "control", "/_emulator/faults", "none", undefined, control.addFault(() => [...new Set(ROUTES.filter((x) => x.host !== "control").map((x) => x.operationId))])),
  r("emulator.faults.list", "GET", "control", "/_emulator/faults", "none", undefined, control.listFaults),
  r("emulator.faults.clear", "DELETE", "control", "/_emulator/faults", "none", undefined, control.clearFaults),
  r("emulator.faults.remove", "DELETE", "control", "/_emulator/faults/{faultId}", "none", undefined, control.removeFault),
  r("emulator.requests", "GET", "control", "/_emulator/requests", "none", undefined, control.requestCounts),
  r("emulator.config", "POST", "control", "/_emulator/config", "none", undefined, access.setModelConfig(control.setConfig)),
  r("emulator.access", "GET", "control", "/_emulator/access", "none", undefined, access.getAccess),
  r("emulator.access.lost", "GET", "control", "/_emulator/access/lost", "none", undefined, access.getLostAccess),
  r("emulator.lroFailures.add", "POST", "control", "/_emulator/lro-failures", "none", undefined, access.addLroFailure(() => LRO_OPERATION_IDS)),
  r("emulator.lroFailures.clear", "DELETE", "control", "/_emulator/lro-failures", "none", undefined, access.clearLroFailures),
  r("emulator.eventgrid.topics", "GET", "control", "/_emulator/eventgrid/topics", "none", undefined, eventGrid.listTopics),
  r("emulator.eventgrid.events", "GET", "control", "/_emulator/eventgrid/topics/{topicName}/events", "none", undefined, eventGrid.listEvents),
  r("emulator.eventgrid.events.clear", "DELETE", "control", "/_emulator/eventgrid/topics/{topicName}/events", "none", undefined, eventGrid.clearEvents),
  r("emulator.monitor.rules", "GET", "control", "/_emulator/monitor/rules", "none", undefined, ingestion.listRules),
  r("emulator.monitor.rows", "GET", "control", "/_emulator/monitor/rules/{ruleName}/streams/{stream}/rows", "none", undefined, ingestion.listRows),
  r("emulator.loganalytics.workspaces", "GET", "control", "/_emulator/loganalytics/workspaces", "none", undefined, logAnalytics.listWorkspaces),
  r("emulator.loganalytics.rows", "GET", "control", "/_emulator/loganalytics/workspaces/{workspaceName}/rows", "none", undefined, logAnalytics.listWorkspaceRows),
  r("emulator.loganalytics.audit", "POST", "control", "/_emulator/loganalytics/audit", "none", undefined, logAnalytics.seedAuditEvent),
  r("emulator.monitor.metrics", "POST", "control", "/_emulator/monitor/metrics", "none", undefined, logAnalytics.seedMetrics),
  r("emulator.monitor.rows.clear", "DELETE", "control", "/_emulator/monitor/rules/{ruleName}/streams/{stream}/rows", "none", undefined, ingestion.clearRows),
];

/** The served operations that answer with a long-running operation (what LRO failure rules may name). */
const LRO_OPERATION_IDS = ["DiskEncryptionSets_Update", "ManagedInstanceKeys_CreateOrUpdate", "ManagedInstanceEncryptionProtectors_CreateOrUpdate"];

// ---------------------------------------------------------------- matching

const segmentsOf = (path: string): string[] => path.split("/").filter((s) => s.length > 0);

/** A template segment: a literal (compared lower-cased), `{x}` (one segment) or `{+x}` (zero or more). */
type Segment = { literal: string } | { one: string } | { many: string };

interface CompiledRoute {
  route: Route;
  segments: Segment[];
  /** Path segments the template needs at least (all of them, exactly, when it has no `{+x}`). */
  minLength: number;
  greedy: boolean;
}

function compile(route: Route): CompiledRoute {
  const segments = segmentsOf(route.template).map((s): Segment => {
    const many = /^\{\+([^}]+)\}$/.exec(s);
    if (many) return { many: many[1]! };
    const one = /^\{([^}]+)\}$/.exec(s);
    return one ? { one: one[1]! } : { literal: s.toLowerCase() };
  });
  const greedy = segments.some((s) => "many" in s);
  return { route, segments, minLength: segments.filter((s) => !("many" in s)).length, greedy };
}

// Templates are parsed once, not per request: matching every route's template afresh cost the emulator a fifth
// of its CPU under `npm run bench`.
const COMPILED: readonly CompiledRoute[] = ROUTES.map(compile);

/** Does `tpl[ti..]` match `path[pi..]` (`lower` = path lower-cased)? Longest `{+x}` first; params only on success. */
function matchSegments(tpl: Segment[], ti: number, path: string[], lower: string[], pi: number, params: Record<string, string>): boolean {
  if (ti === tpl.length) return pi === path.length;
  const head = tpl[ti]!;
  if ("many" in head) {
    for (let n = path.length; n >= pi; n--) {
      if (matchSegments(tpl, ti + 1, path, lower, n, params)) {
        params[head.many] = "/" + path.slice(pi, n).map(decodeSegment).join("/");
        return true;
      }
    }
    return false;
  }
  if (pi === path.length) return false;
  if ("one" in head) {
    if (!matchSegments(tpl, ti + 1, path, lower, pi + 1, params)) return false;
    params[head.one] = decodeSegment(path[pi]!);
    return true;
  }
  return head.literal === lower[pi] && matchSegments(tpl, ti + 1, path, lower, pi + 1, params);
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

/** All routes of `hosts` whose template matches `path` (any method). */
export function matchPath(hosts: RouteHost[], path: string): RouteMatch[] {
  const segs = segmentsOf(path);
  const lower = segs.map((s) => s.toLowerCase());
  const out: RouteMatch[] = [];
  for (const c of COMPILED) {
    if (!hosts.includes(c.route.host)) continue;
    if (c.greedy ? segs.length < c.minLength : segs.length !== c.minLength) continue;
    const params: Record<string, string> = {};
    if (matchSegments(c.segments, 0, segs, lower, 0, params)) out.push({ route: c.route, params });
  }
  return out;
}
