import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findingRows, rotationRows, FINDINGS_STREAM, ROTATIONS_STREAM } from "../../src/lib/alerts/alertRows.js";
import type { ComplianceReport } from "../../src/lib/compliance/evaluate.js";
import { SEVERITIES } from "../../src/lib/compliance/types.js";
import { APP_SETTING_NAMES } from "../../src/lib/config/settings.js";
import { KEY_VAULT_EVENT_TYPES } from "../../src/lib/events/keyVaultEvents.js";
import { KEYWARDEN_EVENT_TYPES } from "../../src/lib/events/keywardenEvents.js";
import { CONSUMER_OPERATOR_ACTIONS, CONSUMER_OPERATOR_ROLE, PERMISSIONS } from "../../src/lib/permissions.js";
import { REPO_ROOT } from "../support/specExtraction.js";
import { isObject } from "../support/swaggerSchema.js";
import { calls, isExpression, parseExpression, print } from "./armExpressions.js";
import { DEPLOYMENT_TYPES, UNVALIDATED_TYPES } from "./deploymentTypes.js";
import {
  dependencyProblems,
  expressionProblems,
  parameterFileProblems,
  resourceProblems,
  roleAssignments,
  templateScopes,
  type ArmResource,
  type ArmTemplate,
} from "./templateChecks.js";

const read = <T>(rel: string): T => JSON.parse(fs.readFileSync(path.join(REPO_ROOT, rel), "utf8")) as T;
const app = read<ArmTemplate>("infra/azuredeploy.json");
const targets = read<ArmTemplate>("infra/targets.json");
const parametersFile = read<{ parameters: Record<string, { value: unknown }> }>("infra/azuredeploy.parameters.json");
const TEMPLATES = { "azuredeploy.json": app, "targets.json": targets } as const;

const clone = <T>(v: T): T => structuredClone(v);
const only = (t: ArmTemplate, type: string): ArmResource[] => t.resources.filter((r) => r.type === type);
const one = (t: ArmTemplate, type: string): ArmResource => {
  const rs = only(t, type);
  expect(rs, `${type} resources`).toHaveLength(1);
  return rs[0] as ArmResource;
};
const props = (r: ArmResource): Record<string, unknown> => r.properties as Record<string, unknown>;

/**
 * Settings of the Functions host (not KeyWarden's), each with where it is documented. Flex Consumption takes the
 * worker runtime and version from functionAppConfig, not from FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION.
 */
const HOST_SETTINGS: Readonly<Record<string, string>> = {
  AzureWebJobsStorage__accountName: "https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity",
  APPLICATIONINSIGHTS_CONNECTION_STRING: "https://learn.microsoft.com/azure/azure-functions/functions-app-settings#applicationinsights_connection_string",
};

/** Settings that hold secrets or point at the emulator: never in a deployed app's settings. */
const FORBIDDEN_SETTINGS = ["KEYWARDEN_EVENTS_TOPIC_KEY", "KEYWARDEN_STATE_BLOB_CONNECTION_STRING", "KEYWARDEN_EMULATOR_ENDPOINT", "KEYWARDEN_EMULATOR_CA_FILE", "KEYWARDEN_EMULATOR_CA_PEM", "KEYWARDEN_EMULATOR_PRINCIPAL_ID", "KEYWARDEN_STATE_DIR", "AzureWebJobsStorage"];

/** Literal secrets: storage keys, SAS signatures, Event Grid keys, instrumentation keys, and calls that read keys. */
const SECRET_PATTERNS = [/AccountKey=/i, /SharedAccessKey/i, /[?&]sig=/i, /InstrumentationKey=/i, /\blistKeys\s*\(/i, /\blistAccountSas\s*\(/i, /\blistServiceSas\s*\(/i];

function appSettings(t: ArmTemplate): { name: string; value: unknown }[] {
  const site = one(t, "Microsoft.Web/sites");
  return ((props(site).siteConfig as { appSettings?: { name: string; value: unknown }[] }).appSettings ?? []);
}

function appSettingProblems(t: ArmTemplate): string[] {
  const documented = new Set<string>([...APP_SETTING_NAMES, ...Object.keys(HOST_SETTINGS)]);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const s of appSettings(t)) {
    if (seen.has(s.name)) problems.push(`app setting ${s.name} is set twice`);
    seen.add(s.name);
    if (!documented.has(s.name)) problems.push(`app setting ${s.name} is not a documented KeyWarden setting (src/lib/config/settings.ts) or host setting (HOST_SETTINGS)`);
    if (FORBIDDEN_SETTINGS.includes(s.name)) problems.push(`app setting ${s.name} must not be in a deployed app (a secret, or the emulator's)`);
  }
  return problems;
}

function secretProblems(t: ArmTemplate): string[] {
  const problems: string[] = [];
  const walk = (v: unknown, at: string): void => {
    if (typeof v === "string") {
      for (const re of SECRET_PATTERNS) if (re.test(v)) problems.push(`${at}: ${re} — no key, SAS or connection string with a key in a template`);
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`));
    else if (isObject(v)) for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`);
  };
  walk(t, "");
  // A secure parameter's value must not have a default (it would sit in the template); empty, meaning "not given", is no secret.
  for (const [name, p] of Object.entries(t.parameters ?? {})) {
    if (p.type.toLowerCase().startsWith("secure") && p.defaultValue !== undefined && p.defaultValue !== "") problems.push(`secure parameter ${name} has a default value`);
  }
  return problems;
}

/** The (role GUID, scope) pairs PERMISSIONS asks each template to assign. */
function expectedAssignments(template: keyof typeof TEMPLATES): string[] {
  const rows = PERMISSIONS.filter((p) => p.plane === "arm" && (template === "azuredeploy.json" ? p.capability === "ownResources" : p.capability !== "ownResources"));
  return rows.map((p) => `${p.roleGuid} ${p.scopeTemplate}`).sort();
}
const LOG_ANALYTICS_READER = "73c42c96-874c-492b-b04d-ab87d138a893";
const MONITORING_READER = "43d0d8ad-25c7-4714-9337-8ba259a9fe05";
const assigned = (t: ArmTemplate): string[] => roleAssignments(t).facts.map((f) => `${f.roleGuid} ${f.scope}`).sort();

describe("the ARM templates against the official REST specs", () => {
  it.each(Object.entries(TEMPLATES))("%s: every resource's type and apiVersion is in a spec pack, and its body validates against that api-version's PUT body", (name, t) => {
    const report = resourceProblems(t);
    expect(report.problems).toEqual([]);
    expect(report.validated.length).toBeGreaterThan(0);
    // Values outside an extensible enum's list pass (Azure takes others): exactly the DCR's custom streams.
    expect(report.extensible).toEqual(
      name === "azuredeploy.json"
        ? [
            "Microsoft.Insights/dataCollectionRules /properties/dataFlows/0/streams/0: Custom-KeyWardenFindings_CL",
            "Microsoft.Insights/dataCollectionRules /properties/dataFlows/1/streams/0: Custom-KeyWardenRotations_CL",
          ]
        : [],
    );
    // The resources no spec in the packs validates, said out loud every run (and in docs/azure-fidelity.md).
    console.log(`${name}: ${report.validated.length} resources validated against their PUT body; not validated (no spec in the packs):\n  ${report.unvalidated.join("\n  ") || "(none)"}`);
    const types = new Set(templateScopes(t).flatMap((s) => s.template.resources.map((r) => r.type)));
    expect(report.validated.length + report.unvalidated.length).toBe(templateScopes(t).reduce((n, s) => n + s.template.resources.length, 0));
    expect([...types].filter((ty) => !DEPLOYMENT_TYPES.some((d) => d.type === ty) && !(ty in UNVALIDATED_TYPES))).toEqual([]);
  });

  it("every deployment type and every unvalidated type is used by a template, and the unvalidated ones are in docs/azure-fidelity.md", () => {
    const used = new Set(Object.values(TEMPLATES).flatMap((t) => templateScopes(t).flatMap((s) => s.template.resources.map((r) => r.type))));
    expect(DEPLOYMENT_TYPES.map((d) => d.type).filter((ty) => !used.has(ty))).toEqual([]);
    expect(Object.keys(UNVALIDATED_TYPES).filter((ty) => !used.has(ty))).toEqual([]);
    const doc = fs.readFileSync(path.join(REPO_ROOT, "docs", "azure-fidelity.md"), "utf8");
    expect(Object.keys(UNVALIDATED_TYPES).filter((ty) => !doc.includes(`\`${ty}\``))).toEqual([]);
  });

  it.each(Object.entries(TEMPLATES))("%s: every expression parses and names only declared parameters, variables and resources; every parameter and variable is used", (_name, t) => {
    const scopes = templateScopes(t);
    expect(scopes.flatMap(expressionProblems)).toEqual([]);
    const expressions = scopes.flatMap((s) => JSON.stringify(s.template).match(/"\[[^[]/g) ?? []);
    expect(expressions.length).toBeGreaterThan(10);
  });

  it.each(Object.entries(TEMPLATES))("%s: every resource depends on the resources whose properties it reads with reference()", (_name, t) => {
    expect(dependencyProblems(t)).toEqual([]);
  });

  it("the parameters file names declared parameters with values of their type, and every parameter without a default but the secure one", () => {
    expect(parameterFileProblems(parametersFile, app)).toEqual([]);
    const required = Object.entries(app.parameters ?? {}).filter(([, p]) => p.defaultValue === undefined && !p.type.toLowerCase().startsWith("secure"));
    expect(required.length).toBeGreaterThan(0);
    expect(required.map(([n]) => n).filter((n) => !(n in parametersFile.parameters))).toEqual([]);
    // the policy is a secure string: passed on the command line (infra/README.md), never in a committed file
    expect(Object.keys(parametersFile.parameters)).not.toContain("policyJson");
  });
});

describe("infra/README.md", () => {
  it("documents every parameter and output of both templates, and the two-step deployment", () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, "infra", "README.md"), "utf8");
    const names = Object.values(TEMPLATES).flatMap((t) => [...Object.keys(t.parameters ?? {}), ...Object.keys(t.outputs ?? {})]);
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((n) => !readme.includes(`\`${n}\``))).toEqual([]);
    for (const line of ["az deployment group create", "az deployment sub create", "deployEventSubscription=true", "https://portal.azure.com/#create/Microsoft.Template/uri/"]) expect(readme).toContain(line);
  });
});

describe("the role assignments are exactly the permission table's (src/lib/permissions.ts)", () => {
  it("azuredeploy.json assigns the ownResources rows, to the function app's identity, on the resources it declares", () => {
    const { facts, problems } = roleAssignments(app);
    expect(problems).toEqual([]);
    expect(assigned(app)).toEqual(expectedAssignments("azuredeploy.json"));
    const principal = `[reference(resourceId('Microsoft.Web/sites', variables('siteName')), '2025-03-01', 'full').identity.principalId]`;
    expect(facts.length).toBe(3);
    expect(facts.filter((f) => f.principal !== principal)).toEqual([]);
  });

  it("targets.json assigns Reader and, opted in, the consumer operator on the subscription, and Log Analytics Reader on the audit workspace", () => {
    const { facts, problems } = roleAssignments(targets);
    expect(problems).toEqual([]);
    expect(assigned(targets)).toEqual(expectedAssignments("targets.json"));
    expect(facts.length).toBe(3);
    expect(facts.filter((f) => f.principal !== "[parameters('principalId')]")).toEqual([]);
    // HSM-plane rows are the data plane's (keywarden setup-roles), never an ARM assignment
    const hsm = new Set(PERMISSIONS.filter((p) => p.plane === "hsm").map((p) => p.roleGuid));
    expect(hsm.size).toBeGreaterThan(0);
    expect([...facts, ...roleAssignments(app).facts].filter((f) => hsm.has(f.roleGuid))).toEqual([]);
  });

  it("every assignment names a service principal, and only the opt-in one depends on the parameter that opts in", () => {
    const all = Object.values(TEMPLATES).flatMap((t) => templateScopes(t).flatMap((s) => only(s.template, "Microsoft.Authorization/roleAssignments")));
    expect(all).toHaveLength(6);
    expect(all.filter((r) => props(r).principalType !== "ServicePrincipal").map((r) => r.name)).toEqual([]);
    const operator = all.filter((r) => String(props(r).roleDefinitionId).includes(CONSUMER_OPERATOR_ROLE.roleGuid));
    expect(operator).toHaveLength(1);
    expect(operator[0]?.condition).toBe("[parameters('enableConsumerOperator')]");
    expect(operator[0]?.dependsOn).toEqual([`[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${CONSUMER_OPERATOR_ROLE.roleGuid}')]`]);
    expect(targets.parameters?.enableConsumerOperator?.defaultValue).toBe(false);
  });

  it("targets.json defines the custom role Consumer Key Operator exactly as the table does, assignable in the subscription", () => {
    const def = one(targets, "Microsoft.Authorization/roleDefinitions");
    expect(def.name).toBe(CONSUMER_OPERATOR_ROLE.roleGuid);
    expect(def.condition).toBe("[parameters('enableConsumerOperator')]");
    const p = props(def) as { roleName: string; description: string; type: string; permissions: { actions: string[]; notActions: string[]; dataActions: string[]; notDataActions: string[] }[]; assignableScopes: string };
    expect(p.roleName).toBe(CONSUMER_OPERATOR_ROLE.roleName);
    expect(p.description).toBe(CONSUMER_OPERATOR_ROLE.description);
    expect(p.type).toBe("CustomRole");
    expect(p.permissions).toEqual([{ actions: [...CONSUMER_OPERATOR_ACTIONS], notActions: [], dataActions: [], notDataActions: [] }]);
    expect(p.assignableScopes).toBe("[variables('consumerOperatorAssignableScopes')]");
    expect(targets.variables?.consumerOperatorAssignableScopes).toBe("[if(empty(parameters('consumerOperatorScopes')), createArray(subscription().id), parameters('consumerOperatorScopes'))]");
  });

  it("targets.json grants Log Analytics Reader only on a workspace outside the deployment's subscription (Reader covers one inside), and no Monitoring Reader", () => {
    const workspace = only(targets, "Microsoft.Resources/deployments");
    expect(workspace.map((d) => d.name)).toEqual(["[format('keywarden-workspace-{0}', uniqueString(parameters('workspaceResourceId')))]"]);
    expect(workspace[0]?.subscriptionId).toBe("[variables('workspaceSubscriptionId')]");
    expect(targets.variables?.workspaceSubscriptionId).toBe("[if(empty(parameters('workspaceResourceId')), subscription().subscriptionId, split(parameters('workspaceResourceId'), '/')[2])]");
    // Empty or in this subscription: the same id as the deployment's, so the nested deployment is skipped.
    expect(workspace[0]?.condition).toBe("[not(equals(toLower(variables('workspaceSubscriptionId')), toLower(subscription().subscriptionId)))]");
    expect(targets.parameters?.workspaceResourceId?.defaultValue).toBe("");
    expect((targets.parameters?.workspaceResourceId as { metadata?: { description?: string } } | undefined)?.metadata?.description).toContain("Pass it only when that workspace is in a subscription KeyWarden does not read");
    // KeyWarden's Reader on the HSM's subscription reads the metrics: the template takes no HSM id and grants no Monitoring Reader.
    expect(Object.keys(targets.parameters ?? {})).not.toContain("managedHsmResourceId");
    expect(PERMISSIONS.filter((p) => p.roleName === "Monitoring Reader")).toEqual([]);
    expect(roleAssignments(targets).facts.filter((f) => f.roleGuid === MONITORING_READER)).toEqual([]);
  });
});

describe("the function app", () => {
  const site = one(app, "Microsoft.Web/sites");
  const settings = new Map(appSettings(app).map((s) => [s.name, s.value]));

  it("runs on a Flex Consumption plan (Linux) with a system-assigned identity, Node 20 in functionAppConfig", () => {
    const plan = one(app, "Microsoft.Web/serverfarms");
    expect(plan.sku).toEqual({ name: "FC1", tier: "FlexConsumption" });
    expect(props(plan).reserved).toBe(true);
    expect(site.kind).toBe("functionapp,linux");
    expect(site.identity).toEqual({ type: "SystemAssigned" });
    const config = props(site).functionAppConfig as { runtime: unknown; deployment: { storage: { authentication: unknown; value: string } } };
    expect(config.runtime).toEqual({ name: "node", version: "20" });
    expect(read<{ engines: { node: string } }>("package.json").engines.node).toBe(">=20");
    expect(config.deployment.storage.authentication).toEqual({ type: "SystemAssignedIdentity" });
    expect(config.deployment.storage.value).toContain("variables('deploymentContainerName')");
  });

  it("sets only documented app settings, with no secret, and no worker runtime or version (Flex takes them from functionAppConfig)", () => {
    expect(appSettingProblems(app)).toEqual([]);
    expect(secretProblems(app)).toEqual([]);
    expect(secretProblems(targets)).toEqual([]);
    for (const name of ["FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE", "AzureWebJobsStorage"]) expect(settings.has(name), name).toBe(false);
    expect(settings.size).toBeGreaterThan(10);
  });

  it("uses identity-based AzureWebJobsStorage on its own storage account, whose shared keys are off and which holds the state store", () => {
    expect(settings.get("AzureWebJobsStorage__accountName")).toBe("[variables('storageAccountName')]");
    const storage = one(app, "Microsoft.Storage/storageAccounts");
    expect(storage.name).toBe("[variables('storageAccountName')]");
    expect(props(storage).allowSharedKeyAccess).toBe(false);
    expect(props(storage).allowBlobPublicAccess).toBe(false);
    const stateUrl = parseExpression(String(settings.get("KEYWARDEN_STATE_BLOB_URL")));
    expect(print(stateUrl)).toBe(
      print(parseExpression("[format('{0}{1}', reference(resourceId('Microsoft.Storage/storageAccounts', variables('storageAccountName')), '2023-05-01').primaryEndpoints.blob, variables('stateContainerName'))]")),
    );
    const containers = only(app, "Microsoft.Storage/storageAccounts/blobServices/containers").map((r) => r.name);
    expect(containers).toContain("[format('{0}/default/{1}', variables('storageAccountName'), variables('stateContainerName'))]");
  });

  it("wires events, alerts and the policy to the resources the template creates", () => {
    expect(settings.get("KEYWARDEN_EVENTS_TOPIC_ENDPOINT")).toBe("[reference(resourceId('Microsoft.EventGrid/topics', variables('topicName')), '2025-02-15').endpoint]");
    expect(settings.get("KEYWARDEN_EVENTS_SCHEMA")).toBe("[parameters('eventsSchema')]");
    expect(settings.get("KEYWARDEN_MONITOR_INGESTION_ENDPOINT")).toBe("[reference(resourceId('Microsoft.Insights/dataCollectionEndpoints', variables('dataCollectionEndpointName')), '2024-03-11').logsIngestion.endpoint]");
    expect(settings.get("KEYWARDEN_MONITOR_DCR_ID")).toBe("[reference(resourceId('Microsoft.Insights/dataCollectionRules', variables('dataCollectionRuleName')), '2024-03-11').immutableId]");
    expect(settings.get("KEYWARDEN_POLICY_JSON")).toBe("[parameters('policyJson')]");
    expect(app.parameters?.policyJson?.type).toBe("securestring");
    // Or the policy as a blob in the state store; KeyWarden refuses both at once, naming them.
    expect(settings.get("KEYWARDEN_POLICY_BLOB")).toBe("[parameters('policyBlobName')]");
    expect(app.parameters?.policyBlobName?.defaultValue).toBe("");
    expect(settings.get("KEYWARDEN_ROTATION_MODE")).toBe("[parameters('rotationMode')]");
    expect(app.parameters?.rotationMode?.defaultValue).toBe("plan");
  });

  it("outputs what setup-roles and the operator need: the principal id, the topic endpoint, the DCR's immutable id", () => {
    const outputs = app.outputs ?? {};
    expect(outputs.functionAppPrincipalId?.value).toBe("[reference(resourceId('Microsoft.Web/sites', variables('siteName')), '2025-03-01', 'full').identity.principalId]");
    expect(outputs.eventsTopicEndpoint?.value).toBe(settings.get("KEYWARDEN_EVENTS_TOPIC_ENDPOINT"));
    expect(outputs.dataCollectionRuleImmutableId?.value).toBe(settings.get("KEYWARDEN_MONITOR_DCR_ID"));
  });

  it("private networking by parameter: VNet integration in a subnet delegated to Flex, and a private endpoint to the HSM", () => {
    expect(app.parameters?.privateNetworking?.defaultValue).toBe(false);
    expect(props(site).virtualNetworkSubnetId).toBe("[if(parameters('privateNetworking'), resourceId('Microsoft.Network/virtualNetworks/subnets', variables('vnetName'), 'app'), null())]");
    const vnet = one(app, "Microsoft.Network/virtualNetworks");
    const subnets = (props(vnet).subnets as { name: string; properties: { delegations?: { properties: { serviceName: string } }[] } }[]);
    expect(subnets.find((s) => s.name === "app")?.properties.delegations?.map((d) => d.properties.serviceName)).toEqual(["Microsoft.App/environments"]);
    const pe = one(app, "Microsoft.Network/privateEndpoints");
    expect(pe.condition).toBe("[parameters('privateNetworking')]");
    expect(props(pe).privateLinkServiceConnections).toEqual([{ name: "managedhsm", properties: { privateLinkServiceId: "[parameters('managedHsmResourceId')]", groupIds: ["managedhsm"] } }]);
    for (const type of ["Microsoft.Network/privateDnsZones", "Microsoft.Network/privateDnsZones/virtualNetworkLinks", "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"]) expect(one(app, type).condition, type).toBe("[parameters('privateNetworking')]");
  });
});

describe("alerts: the data collection rule, the custom tables and the alert rules", () => {
  const dcr = one(app, "Microsoft.Insights/dataCollectionRules");
  const variables = app.variables as Record<string, { name: string; type: string }[]>;
  const streams = props(dcr).streamDeclarations as Record<string, { columns: string }>;

  /** The columns the code writes: the row shapes of src/lib/alerts/alertRows.ts, from real rows. */
  function rowColumns(): Record<string, string[]> {
    const finding = findingRows(
      [{ transition: "opened", fingerprint: "f", controlId: "c", severity: "high", status: "FAIL", resourceId: "/r", resourceName: "r", message: "m", firstSeen: "2026-01-01T00:00:00Z", scanId: "s", at: "2026-01-01T00:00:00Z" }],
      { controls: [] } as unknown as ComplianceReport,
    );
    const rotation = rotationRows([
      { identity: "i", event: { id: "e", type: KEYWARDEN_EVENT_TYPES.rotationFailed, subject: "s", source: "/s", time: "2026-01-01T00:00:00Z", dataVersion: "1", data: { keyName: "k", runId: "r", failures: [] } } },
    ]);
    expect(finding).toHaveLength(1);
    expect(rotation).toHaveLength(1);
    return { [FINDINGS_STREAM]: Object.keys(finding[0]?.item.row ?? {}), [ROTATIONS_STREAM]: Object.keys(rotation[0]?.item.row ?? {}) };
  }

  it("declares exactly the streams and columns the alert rows carry, typed as the emulator's rule (which the ingestion test checks drops nothing)", () => {
    const declared = Object.fromEntries(Object.entries(streams).map(([name, s]) => [name, variables[/variables\('(\w+)'\)/.exec(s.columns)?.[1] ?? ""] ?? []]));
    const columns = rowColumns();
    expect(Object.keys(declared).sort()).toEqual([FINDINGS_STREAM, ROTATIONS_STREAM].sort());
    for (const [stream, cols] of Object.entries(declared)) expect(cols.map((c) => c.name), stream).toEqual(columns[stream]);
    const fixture = read<{ dataCollectionRules: { streams: { name: string; columns: { name: string; type: string }[] }[] }[] }>("emulator/fixtures/contoso-reference.json");
    const emulatorStreams = Object.fromEntries((fixture.dataCollectionRules[0]?.streams ?? []).map((s) => [s.name, s.columns]));
    expect(declared).toEqual(emulatorStreams);
  });

  it("sends each stream to its own custom table, whose schema is the stream's columns", () => {
    const flows = props(dcr).dataFlows as { streams: string[]; outputStream: string; destinations: string[] }[];
    expect(flows.map((f) => [f.streams, f.outputStream])).toEqual([
      [[FINDINGS_STREAM], FINDINGS_STREAM],
      [[ROTATIONS_STREAM], ROTATIONS_STREAM],
    ]);
    const tables = only(app, "Microsoft.OperationalInsights/workspaces/tables").map((t) => props(t).schema as { name: string; columns: string });
    expect(tables.map((t) => [`Custom-${t.name}`, t.columns])).toEqual(Object.entries(streams).map(([name, s]) => [name, s.columns]));
  });

  it("alerts, grouped on Fingerprint, on findings opened at high or critical, failed rotations, blocked consumers and pending past deadline, to the action group's email", () => {
    const rules = only(app, "Microsoft.Insights/scheduledQueryRules");
    expect(rules).toHaveLength(4);
    const transitions = new Set<string>(["opened", "completed", "failed", "pendingPastDeadline", "consumerBlocked"]);
    const queries: string[] = [];
    for (const r of rules) {
      const p = props(r) as { criteria: { allOf: { query: string; dimensions: unknown[] }[] }; actions: { actionGroups: string[] }; scopes: string[] };
      const condition = p.criteria.allOf[0];
      expect(p.criteria.allOf).toHaveLength(1);
      expect(condition?.dimensions).toEqual([{ name: "Fingerprint", operator: "Include", values: ["*"] }]);
      expect(p.actions.actionGroups).toEqual(["[resourceId('Microsoft.Insights/actionGroups', variables('actionGroupName'))]"]);
      expect(p.scopes).toEqual(["[resourceId('Microsoft.OperationalInsights/workspaces', variables('workspaceName'))]"]);
      const q = condition?.query ?? "";
      queries.push(q);
      for (const m of q.matchAll(/Transition == '(\w+)'/g)) expect(transitions.has(m[1] as string), q).toBe(true);
    }
    expect(queries.map((q) => /^(\w+) /.exec(q)?.[1])).toEqual(["KeyWardenFindings_CL", "KeyWardenRotations_CL", "KeyWardenRotations_CL", "KeyWardenRotations_CL"]);
    expect(queries.map((q) => /Transition == '(\w+)'/.exec(q)?.[1])).toEqual(["opened", "failed", "consumerBlocked", "pendingPastDeadline"]);
    for (const s of /Severity in \(([^)]*)\)/.exec(queries[0] ?? "")?.[1]?.match(/'(\w+)'/g) ?? []) expect(SEVERITIES as readonly string[]).toContain(s.slice(1, -1));
    expect(queries[0]).toContain("Severity in ('high', 'critical')");
    const group = one(app, "Microsoft.Insights/actionGroups");
    expect(props(group).emailReceivers).toEqual([{ name: "keywarden-operators", emailAddress: "[parameters('alertEmail')]", useCommonAlertSchema: true }]);
  });
});

describe("Event Grid", () => {
  it("a custom topic in the schema KeyWarden publishes (KEYWARDEN_EVENTS_SCHEMA's default), keys disabled", () => {
    const topic = one(app, "Microsoft.EventGrid/topics");
    expect(props(topic).inputSchema).toBe("[parameters('eventsSchema')]");
    expect(app.parameters?.eventsSchema?.defaultValue).toBe("EventGridSchema");
    expect(app.parameters?.eventsSchema?.allowedValues).toEqual(["EventGridSchema", "CloudEventSchemaV1_0"]);
    expect(props(topic).disableLocalAuth).toBe(true);
  });

  it("subscribes the keyEvents function to the Key Vault event types, once the code is deployed (deployEventSubscription)", () => {
    const sub = one(app, "Microsoft.EventGrid/topics/eventSubscriptions");
    expect(sub.condition).toBe("[parameters('deployEventSubscription')]");
    expect(app.parameters?.deployEventSubscription?.defaultValue).toBe(false);
    const p = props(sub) as { destination: { endpointType: string; properties: { resourceId: string } }; filter: { includedEventTypes: string[] }; eventDeliverySchema: string };
    expect(p.destination.endpointType).toBe("AzureFunction");
    expect(p.destination.properties.resourceId).toBe("[resourceId('Microsoft.Web/sites/functions', variables('siteName'), 'keyEvents')]");
    expect(fs.readFileSync(path.join(REPO_ROOT, "src", "functions", "keyEvents.ts"), "utf8")).toContain('app.eventGrid("keyEvents"');
    expect(p.filter.includedEventTypes).toEqual([KEY_VAULT_EVENT_TYPES.nearExpiry, KEY_VAULT_EVENT_TYPES.expired, KEY_VAULT_EVENT_TYPES.newVersion]);
    expect(p.eventDeliverySchema).toBe("[parameters('eventsSchema')]");
  });
});

describe("the checks fail on a wrong template (they can fail)", () => {
  const withResource = (type: string, edit: (r: ArmResource) => void): ArmTemplate => {
    const t = clone(app);
    edit(t.resources.find((r) => r.type === type) as ArmResource);
    return t;
  };

  it("an unknown property fails the body validation", () => {
    const t = withResource("Microsoft.Storage/storageAccounts", (r) => {
      props(r).allowSharedKeyAcess = false;
    });
    expect(resourceProblems(t).problems).toEqual([expect.stringContaining('has property "allowSharedKeyAcess" that the spec does not declare')]);
    const deep = withResource("Microsoft.Web/sites", (r) => {
      ((props(r).functionAppConfig as { runtime: Record<string, unknown> }).runtime).flavour = "node";
    });
    expect(resourceProblems(deep).problems).toEqual([expect.stringMatching(/functionAppConfig\/runtime: has property "flavour"/)]);
  });

  it("a wrong type fails it, and so does a parameter of the wrong type where a number is expected", () => {
    const t = withResource("Microsoft.EventGrid/topics", (r) => {
      props(r).disableLocalAuth = "true";
    });
    expect(resourceProblems(t).problems).toEqual([expect.stringContaining("/properties/disableLocalAuth: must be boolean")]);
    const p = clone(app);
    (p.parameters as Record<string, { type: string; defaultValue?: unknown }>).maximumInstanceCount = { type: "string", defaultValue: "40" };
    expect(resourceProblems(p).problems).toEqual([expect.stringContaining("scaleAndConcurrency/maximumInstanceCount")]);
    const e = withResource("Microsoft.Insights/scheduledQueryRules", (r) => {
      props(r).severity = "[if(parameters('privateNetworking'), 1, 2)]";
    });
    expect(resourceProblems(e).problems).toEqual([expect.stringContaining("/properties/severity: must be integer")]);
  });

  it("a wrong enum value, an apiVersion the packs do not hold, an unknown type and an unknown resource key fail", () => {
    const en = withResource("Microsoft.Web/sites", (r) => {
      props(r).clientCertMode = "Sometimes";
    });
    expect(resourceProblems(en).problems).toEqual([expect.stringContaining("/properties/clientCertMode: must be equal to one of the allowed values")]);
    const v = withResource("Microsoft.EventGrid/topics", (r) => {
      r.apiVersion = "2024-06-01-preview";
    });
    expect(resourceProblems(v).problems).toEqual([expect.stringContaining("apiVersion 2024-06-01-preview is not the one the packs hold for Microsoft.EventGrid/topics (2025-02-15")]);
    const ty = withResource("Microsoft.EventGrid/topics", (r) => {
      r.type = "Microsoft.EventGrid/domains";
    });
    expect(resourceProblems(ty).problems).toEqual([expect.stringContaining("type Microsoft.EventGrid/domains is in neither spec extraction")]);
    const key = withResource("Microsoft.EventGrid/topics", (r) => {
      r.propertes = {};
    });
    expect(resourceProblems(key).problems).toEqual([expect.stringContaining("unknown resource key 'propertes'")]);
  });

  it("an undeclared parameter, an undeclared variable, an unused parameter, an unknown function and an undeclared resource fail the expression check", () => {
    const t = clone(app);
    const setting = appSettings(t).find((s) => s.name === "KEYWARDEN_ROTATION_MODE") as { value: string };
    setting.value = "[parameters('rotationMod')]";
    const problems = templateScopes(t).flatMap(expressionProblems);
    expect(problems).toEqual(
      expect.arrayContaining([expect.stringContaining("parameters('rotationMod') is not declared"), expect.stringContaining("parameter 'rotationMode' is declared and never used")]),
    );
    expect(problems).toHaveLength(2);
    const u = clone(app);
    (appSettings(u).find((s) => s.name === "KEYWARDEN_EVENTS_SCHEMA") as { value: string }).value = "[toLowr(variables('eventsSchema'))]";
    expect(templateScopes(u).flatMap(expressionProblems)).toEqual(
      expect.arrayContaining([expect.stringContaining("unknown template function toLowr()"), expect.stringContaining("variables('eventsSchema') is not declared")]),
    );
    const r = clone(app);
    one(r, "Microsoft.Insights/actionGroups").dependsOn = ["[resourceId('Microsoft.EventGrid/domains', variables('topicName'))]"];
    expect(templateScopes(r).flatMap(expressionProblems)).toEqual([expect.stringContaining("names a resource the template does not declare")]);
    const nested = clone(targets);
    const inner = ((nested.resources.find((x) => x.type === "Microsoft.Resources/deployments") as ArmResource).properties as { template: ArmTemplate }).template;
    inner.parameters = { principalId: { type: "string" }, scopeId: { type: "string" } };
    const innerProblems = templateScopes(nested).flatMap(expressionProblems);
    expect(innerProblems).toEqual(expect.arrayContaining([expect.stringContaining("parameters('scope') is not declared"), expect.stringContaining("parameter 'scopeId' is declared and never used")]));
    expect(innerProblems.filter((p) => !p.includes("> deployment"))).toEqual([]);
  });

  it("a resource that reads another with reference() without depending on it fails the ordering check", () => {
    const t = clone(app);
    const site = one(t, "Microsoft.Web/sites");
    site.dependsOn = (site.dependsOn as string[]).filter((d) => !d.includes("dataCollectionEndpoints"));
    expect(dependencyProblems(t)).toEqual([expect.stringContaining("reads resourceid('Microsoft.Insights/dataCollectionEndpoints',variables('dataCollectionEndpointName')) with reference() but does not depend on it")]);
  });

  it("an extra or a missing role assignment makes the set differ from the permission table", () => {
    const t = clone(app);
    const extra = clone(only(t, "Microsoft.Authorization/roleAssignments")[0] as ArmResource);
    (extra.properties as Record<string, unknown>).roleDefinitionId = "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b24988ac-6180-42a0-ab88-20f7382dd24c')]";
    t.resources.push(extra);
    expect(assigned(t)).not.toEqual(expectedAssignments("azuredeploy.json"));
    const m = clone(targets);
    m.resources = m.resources.filter((r) => r.type !== "Microsoft.Resources/deployments");
    expect(assigned(m)).not.toEqual(expectedAssignments("targets.json"));
    // The dropped grant, back: Monitoring Reader on the HSM through a nested deployment like the workspace's.
    const hsm = clone(targets);
    hsm.parameters = { ...hsm.parameters, managedHsmResourceId: { type: "string", defaultValue: "" } };
    const nestedHsm = clone(hsm.resources.find((r) => r.type === "Microsoft.Resources/deployments") as ArmResource);
    const body = JSON.stringify(nestedHsm).replaceAll("workspaceResourceId", "managedHsmResourceId").replaceAll("Microsoft.OperationalInsights/workspaces/{0}", "Microsoft.KeyVault/managedHSMs/{0}").replaceAll(LOG_ANALYTICS_READER, MONITORING_READER);
    hsm.resources.push(JSON.parse(body) as ArmResource);
    expect(roleAssignments(hsm).problems).toEqual([]);
    expect(assigned(hsm)).toEqual([...expectedAssignments("targets.json"), `${MONITORING_READER} {managedHsmResourceId}`].sort());
    expect(assigned(hsm)).not.toEqual(expectedAssignments("targets.json"));
    const s = clone(app);
    (only(s, "Microsoft.Authorization/roleAssignments")[0] as ArmResource).scope = "[resourceGroup().id]";
    expect(roleAssignments(s).problems).toEqual([expect.stringContaining("is not a declared resource KeyWarden owns")]);
  });

  it("an undocumented or secret app setting, and a key in the template, fail", () => {
    const t = clone(app);
    appSettings(t).push({ name: "KEYWARDEN_EVENTS_TOPIC_KEY", value: "[parameters('alertEmail')]" }, { name: "KEYWARDEN_ROTATON_MODE", value: "plan" });
    expect(appSettingProblems(t)).toEqual([expect.stringContaining("KEYWARDEN_EVENTS_TOPIC_KEY must not be in a deployed app"), expect.stringContaining("KEYWARDEN_ROTATON_MODE is not a documented")]);
    const k = clone(app);
    appSettings(k).push({ name: "AzureWebJobsStorage", value: "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc==" });
    expect(secretProblems(k)).toEqual([expect.stringContaining("AccountKey=")]);
    expect(appSettingProblems(k)).toEqual(expect.arrayContaining([expect.stringContaining("AzureWebJobsStorage must not be in a deployed app")]));
    const d = clone(app);
    d.parameters!.policyJson!.defaultValue = '{"version":1}';
    expect(secretProblems(d)).toEqual(["secure parameter policyJson has a default value"]);
  });

  it("a parameters file with an undeclared name, a wrong type or a value outside allowedValues fails", () => {
    const f = clone(parametersFile);
    f.parameters.rotationMod = { value: "plan" };
    f.parameters.rotationMode = { value: "auto" };
    f.parameters.privateNetworking = { value: "false" };
    expect(parameterFileProblems(f, app)).toEqual([
      expect.stringContaining("'rotationMode': \"auto\" is not one of"),
      expect.stringContaining("'privateNetworking': \"false\" is not of type bool"),
      expect.stringContaining("'rotationMod' is not declared"),
    ]);
  });
});

describe("the expression parser", () => {
  it("parses calls, literals with escaped quotes, property access and indexing, and refuses malformed ones", () => {
    const e = parseExpression("[split(parameters('id'), '/')[4]]");
    expect(print(e)).toBe("split(parameters('id'),'/')[4]");
    expect(calls(e).map((c) => c.name)).toEqual(["split", "parameters"]);
    expect(print(parseExpression("[concat('it''s', reference(resourceId('a.b/c', 'n')).x.y)]"))).toBe("concat('it''s',reference(resourceid('a.b/c','n')).x.y)");
    expect(isExpression("[[not an expression]")).toBe(false);
    for (const bad of ["[parameters('x']", "[parameters x]", "[format('a', )]", "['unterminated]", "[f() g()]"]) expect(() => parseExpression(bad), bad).toThrow(/at position/);
    const strings = JSON.stringify(TEMPLATES).match(/"\[(?!\[)[^"]*\]"/g) ?? [];
    expect(strings.length).toBeGreaterThan(50);
  });
});
