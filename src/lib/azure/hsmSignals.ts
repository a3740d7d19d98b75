import { LogsQueryClient, type LogsTable } from "@azure/monitor-query-logs";
import { MetricsClient } from "@azure/monitor-query-metrics";
import type { TokenCredential } from "@azure/core-auth";
import type { CloudEndpoints } from "../config/types.js";
import type { DeniedRequestGroup, MetricSummary } from "../estate/snapshot.js";
import { AzureRequestError, call } from "./errors.js";
import type { CommonClientOptions } from "./pipelineOptions.js";

/** A query window: [start, end] on the collector's clock. */
export interface SignalWindow {
  start: Date;
  end: Date;
}

/** The table Managed HSM's AuditEvent lands in with the (default) Azure diagnostics destination type. */
export const AUDIT_TABLE = "AzureDiagnostics";
/** The Managed HSM metrics KeyWarden reads (namespace Microsoft.KeyVault/managedHSMs). */
export const HSM_METRIC_NAMESPACE = "Microsoft.KeyVault/managedHSMs";
export const AVAILABILITY_METRIC = "Availability";
export const LATENCY_METRIC = "ServiceApiLatency";
/** At most this many (caller, IP, operation, status) groups of denied requests per HSM; more are reported as truncated. */
export const DENIED_GROUPS_LIMIT = 50;

/** A KQL string literal (resource ids hold no quotes, but a literal is escaped whatever it holds). */
const kqlString = (s: string): string => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

/** KQL that counts the HSM's AuditEvent rows in the window and finds the newest. */
export function auditEventsQuery(hsmResourceId: string): string {
  return `${AUDIT_TABLE} | where ResourceId =~ ${kqlString(hsmResourceId)} and Category == "AuditEvent" | summarize Events = count(), NewestEvent = max(TimeGenerated)`;
}

/** KQL that groups the HSM's 401 and 403 answers by caller, caller IP, operation and status. */
export function deniedRequestsQuery(hsmResourceId: string): string {
  return [
    AUDIT_TABLE,
    `where ResourceId =~ ${kqlString(hsmResourceId)} and Category == "AuditEvent" and httpStatusCode_d in (401, 403)`,
    "summarize Requests = count(), LastSeen = max(TimeGenerated) by identity_claim_oid_g, identity_claim_appid_g, identity_claim_upn_s, CallerIPAddress, OperationName, httpStatusCode_d",
    `top ${DENIED_GROUPS_LIMIT + 1} by Requests desc`,
  ].join(" | ");
}

/**
 * The HSM's own signals: its AuditEvent rows in the Log Analytics workspace its diagnostic setting names (a
 * resource-context query on that workspace's ARM id, so the rows are proven to arrive *there*), and its metrics through
 * the regional metrics batch API. Every failure is thrown as an AzureRequestError naming the operation.
 */
export class HsmSignalsReader {
  constructor(
    private readonly logs: LogsQueryClient,
    private readonly metricsIn: (region: string) => MetricsClient,
  ) {}

  async auditEvents(workspaceResourceId: string, hsmResourceId: string, window: SignalWindow): Promise<{ count: number; newestEventAt: string | null }> {
    const table = await this.query("logs.queryResource(auditEvents)", workspaceResourceId, auditEventsQuery(hsmResourceId), window);
    const row = table.rows[0];
    const cell = columnReader(table, ["Events", "NewestEvent"]);
    const newest = row ? cell(row, "NewestEvent") : null;
    return { count: row ? Number(cell(row, "Events") ?? 0) : 0, newestEventAt: instant(newest) };
  }

  async deniedRequests(workspaceResourceId: string, hsmResourceId: string, window: SignalWindow): Promise<{ groups: DeniedRequestGroup[]; truncated: boolean }> {
    const table = await this.query("logs.queryResource(deniedRequests)", workspaceResourceId, deniedRequestsQuery(hsmResourceId), window);
    const cell = columnReader(table, ["Requests", "LastSeen", "identity_claim_oid_g", "identity_claim_appid_g", "identity_claim_upn_s", "CallerIPAddress", "OperationName", "httpStatusCode_d"]);
    const groups = table.rows.slice(0, DENIED_GROUPS_LIMIT).map((row): DeniedRequestGroup => {
      const text = (name: string): string | undefined => {
        const v = cell(row, name);
        return typeof v === "string" && v.trim() !== "" ? v : undefined;
      };
      return {
        ...(text("identity_claim_oid_g") ? { objectId: text("identity_claim_oid_g")!.toLowerCase() } : {}),
        ...(text("identity_claim_appid_g") ? { appId: text("identity_claim_appid_g")!.toLowerCase() } : {}),
        ...(text("identity_claim_upn_s") ? { upn: text("identity_claim_upn_s") } : {}),
        ...(text("CallerIPAddress") ? { callerIpAddress: text("CallerIPAddress") } : {}),
        operation: text("OperationName") ?? "unknown",
        statusCode: Number(cell(row, "httpStatusCode_d")),
        count: Number(cell(row, "Requests") ?? 0),
        lastSeen: instant(cell(row, "LastSeen")) ?? window.end.toISOString(),
      };
    });
    return { groups, truncated: table.rows.length > DENIED_GROUPS_LIMIT };
  }

  /** Availability (%) and ServiceApiLatency (ms) over the window, one data point for the whole window (interval FULL). */
  async metrics(hsmResourceId: string, region: string, window: SignalWindow): Promise<{ availability: MetricSummary; serviceApiLatency: MetricSummary }> {
    const results = await call("metrics.queryResources", hsmResourceId, () =>
      this.metricsIn(region).queryResources([hsmResourceId], [AVAILABILITY_METRIC, LATENCY_METRIC], HSM_METRIC_NAMESPACE, {
        startTime: window.start,
        endTime: window.end,
        interval: "FULL",
        aggregation: "average,minimum,maximum",
      }),
    );
    const metrics = results[0]?.metrics ?? [];
    const summary = (name: string): MetricSummary => {
      // The SDK hands back the localized name ("Overall Service Availability") as `name`: match on the id's last segment.
      const metric = metrics.find((m) => m.id.toLowerCase().endsWith(`/metrics/${name.toLowerCase()}`));
      if (metric?.errorCode && metric.errorCode !== "Success") {
        throw new AzureRequestError("metrics.queryResources", hsmResourceId, `metric ${name}: ${metric.errorMessage ?? metric.errorCode}`, undefined, metric.errorCode);
      }
      const points = (metric?.timeseries ?? []).flatMap((t) => t.data ?? []).filter((p) => typeof p.average === "number");
      if (points.length === 0) return { average: null, minimum: null, maximum: null, points: 0 };
      const avg = points.reduce((s, p) => s + p.average!, 0) / points.length;
      const mins = points.map((p) => p.minimum ?? p.average!);
      const maxs = points.map((p) => p.maximum ?? p.average!);
      return { average: avg, minimum: Math.min(...mins), maximum: Math.max(...maxs), points: points.length };
    };
    return { availability: summary(AVAILABILITY_METRIC), serviceApiLatency: summary(LATENCY_METRIC) };
  }

  private async query(operation: string, workspaceResourceId: string, kql: string, window: SignalWindow): Promise<LogsTable> {
    // The SDK expands `/{+resourceId}/query`: an id without its leading slash gives /v1/subscriptions/…/query.
    const resource = workspaceResourceId.replace(/^\/+/, "");
    const result = await call(operation, workspaceResourceId, () => this.logs.queryResource(resource, kql, { startTime: window.start, endTime: window.end }));
    if (result.status !== "Success") {
      // A partial result could hide rows: the read is failed, never half-believed.
      const error = "partialError" in result ? result.partialError : undefined;
      throw new AzureRequestError(operation, workspaceResourceId, `the query returned a partial result: ${error?.message ?? "no detail"}`, undefined, error?.code ?? "PartialFailure");
    }
    const table = result.tables[0];
    if (!table) throw new AzureRequestError(operation, workspaceResourceId, "the query returned no table");
    return table;
  }
}

type Cell = LogsTable["rows"][number][number] | null;

/** Reads cells by column name; a column the query asked for but the answer lacks is a failed read. */
function columnReader(table: LogsTable, names: string[]): (row: LogsTable["rows"][number], name: string) => Cell {
  const index = new Map(table.columnDescriptors.map((c, i) => [c.name ?? "", i]));
  const missing = names.filter((n) => !index.has(n));
  if (missing.length > 0) throw new AzureRequestError("logs.queryResource", "", `the query result lacks column(s) ${missing.join(", ")}`);
  return (row, name) => row[index.get(name)!] ?? null;
}

function instant(v: Cell): string | null {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (typeof v === "string" && v !== "" && !Number.isNaN(Date.parse(v))) return new Date(v).toISOString();
  return null;
}

/** Log Analytics' query API and the regional metrics hosts of each cloud (UNVERIFIED for the sovereign clouds). */
const MONITOR_HOSTS: Record<string, { logs: string; metricsSuffix: string; logsAudience: string }> = {
  AzureChinaCloud: { logs: "https://api.loganalytics.azure.cn/v1", metricsSuffix: "metrics.monitor.azure.cn", logsAudience: "https://api.loganalytics.azure.cn" },
  AzureUSGovernment: { logs: "https://api.loganalytics.us/v1", metricsSuffix: "metrics.monitor.azure.us", logsAudience: "https://api.loganalytics.us" },
};
const PUBLIC_HOSTS = { logs: "https://api.loganalytics.io/v1", metricsSuffix: "metrics.monitor.azure.com", logsAudience: "https://api.loganalytics.io" };

/**
 * Builds the reader on KeyWarden's request layer. Against the emulator the real host names are kept (with its port):
 * the agent in `options` resolves them to it.
 */
export function createHsmSignalsReader(credential: TokenCredential, cloud: Pick<CloudEndpoints, "name" | "resourceManagerAudience">, options: CommonClientOptions, emulatorPort?: string): HsmSignalsReader {
  const hosts = MONITOR_HOSTS[cloud.name] ?? PUBLIC_HOSTS;
  // The metrics batch takes an ARM token (the SDK's default scope is management.azure.com/.default): the cloud's own.
  const metricsScopes = [`${cloud.resourceManagerAudience.replace(/\/+$/, "")}/.default`];
  const port = emulatorPort ? `:${emulatorPort}` : "";
  // The endpoint is used as given (no /v1 appended: azure-wire.md §4.2), so it carries /v1 itself.
  const logsEndpoint = hosts.logs.replace(/^(https:\/\/[^/]+)/, `$1${port}`);
  const logs = new LogsQueryClient(credential, { ...options, endpoint: logsEndpoint, credentials: { scopes: [`${hosts.logsAudience}/.default`] } });
  const metrics = new Map<string, MetricsClient>();
  return new HsmSignalsReader(logs, (region) => {
    const key = region.toLowerCase().replace(/\s+/g, "");
    let client = metrics.get(key);
    if (!client) {
      client = new MetricsClient(`https://${key}.${hosts.metricsSuffix}${port}`, credential, { ...options, credentials: { scopes: metricsScopes } });
      metrics.set(key, client);
    }
    return client;
  });
}
