import { isAggregateLogsUploadError, LogsIngestionClient } from "@azure/monitor-ingestion";
import type { TokenCredential } from "@azure/core-auth";
import type { AppSettings, MonitorSettings } from "../config/types.js";
import { createCredential } from "./credential.js";
import { toAzureRequestError } from "./errors.js";
import { monitorClientOptions } from "./pipelineOptions.js";
import { sharedRequestLayer, type RequestLayer } from "./requests.js";

/** Rows for one stream of KeyWarden's data collection rule. */
export interface LogsSink {
  readonly endpoint: string;
  upload(stream: string, rows: Record<string, unknown>[]): Promise<void>;
}

/**
 * The Logs Ingestion client on KeyWarden's request layer, with the managed identity (Monitoring Metrics
 * Publisher on the data collection rule). A failed upload is thrown as an AzureRequestError with the service's
 * status, so the alerts outbox can tell a refused batch (400, 413) from one to retry.
 */
export function createLogsSink(settings: AppSettings & { monitor: MonitorSettings }, requests: RequestLayer = sharedRequestLayer(settings), credential: TokenCredential = createCredential(settings)): LogsSink {
  const { ingestionEndpoint, ruleId } = settings.monitor;
  const client = new LogsIngestionClient(ingestionEndpoint, credential, monitorClientOptions(settings, requests));
  return {
    endpoint: ingestionEndpoint,
    async upload(stream, rows) {
      try {
        // One chunk per call (the outbox keeps batches under the SDK's 1 MB chunk), so a failure is all or nothing.
        await client.upload(ruleId, stream, rows, { maxConcurrency: 1 });
      } catch (error) {
        const cause = isAggregateLogsUploadError(error) ? (error.errors[0]?.cause ?? error) : error;
        throw toAzureRequestError(cause, "Upload", `${ingestionEndpoint}/dataCollectionRules/${ruleId}/streams/${stream}`);
      }
    },
  };
}
