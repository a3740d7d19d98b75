import { Agent } from "node:https";
import { createSecureContext } from "node:tls";
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from "node:dns";
import { inspect } from "node:util";
import type { HttpClient } from "@azure/core-rest-pipeline";
import type { AppSettings } from "../config/types.js";
import type { RequestLayer } from "./requests.js";

/**
 * Options every SDK client gets: our request layer's HttpClient (which does the retrying, so the SDK's
 * own retry policy is set to 0 retries) and, against the emulator, trust in the emulator's CA (through
 * the agent the layer attaches to each try — TLS verification is never switched off).
 */
export interface CommonClientOptions {
  retryOptions: { maxRetries: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  /**
   * Only for callers without a request layer (tests that build a client by hand). With a layer, the agent
   * lives inside the layer's HttpClient and is never handed to the SDK, whose log policy would serialise it.
   */
  agent?: Agent;
  httpClient?: HttpClient;
}

/** The SDK's retry policy stays in the pipeline but never retries: the request layer does. */
const NO_SDK_RETRIES = { maxRetries: 0 } as const;

export function armClientOptions(settings: AppSettings, requests: RequestLayer): CommonClientOptions {
  return { retryOptions: { ...NO_SDK_RETRIES }, httpClient: requests.httpClient("arm", emulatorAgent(settings)) };
}

export function dataPlaneClientOptions(settings: AppSettings, requests: RequestLayer): CommonClientOptions {
  return { retryOptions: { ...NO_SDK_RETRIES }, httpClient: requests.httpClient("hsm", emulatorAgent(settings)) };
}

/** An Event Grid topic: the global cap only; against the emulator, the agent that reaches it. */
export function eventGridClientOptions(settings: AppSettings, requests: RequestLayer): CommonClientOptions {
  return { retryOptions: { ...NO_SDK_RETRIES }, httpClient: requests.httpClient("eventgrid", emulatorAgent(settings)) };
}

/** Azure Monitor Logs Ingestion (a data collection endpoint): the global cap only; against the emulator, its agent. */
export function monitorClientOptions(settings: AppSettings, requests: RequestLayer): CommonClientOptions {
  return { retryOptions: { ...NO_SDK_RETRIES }, httpClient: requests.httpClient("monitor", emulatorAgent(settings)) };
}

/**
 * An https.Agent whose serialisation is its name only. A busy agent holds sockets whose pending request
 * carries the raw `Authorization: Bearer` header; JSON.stringify or util.inspect of it must never show that.
 */
export class RedactedAgent extends Agent {
  toJSON(): string {
    return "[https.Agent]";
  }

  [inspect.custom](): string {
    return "[https.Agent]";
  }
}

/** Event Grid topic hosts (<topic>.<region>-1.eventgrid.azure.net), which the emulator serves as well. */
const EVENT_GRID_DNS_SUFFIX = "eventgrid.azure.net";
/** Data collection endpoint hosts (<endpoint>.<region>-1.ingest.monitor.azure.com) of the Logs Ingestion API, ditto. */
const LOGS_INGESTION_DNS_SUFFIX = "ingest.monitor.azure.com";
/** The Log Analytics query API (api.loganalytics.io) and the regional metrics hosts (<region>.metrics.monitor.azure.com), ditto. */
const LOG_ANALYTICS_DNS_SUFFIX = "loganalytics.io";
const METRICS_DNS_SUFFIX = "metrics.monitor.azure.com";

const emulatorAgents = new WeakMap<AppSettings, Agent>();

/**
 * Against the emulator: one connection pool for every client of these settings, which trusts the emulator's CA
 * and resolves *.<managedHsmDnsSuffix>, *.eventgrid.azure.net, *.ingest.monitor.azure.com, api.loganalytics.io
 * and *.metrics.monitor.azure.com to its address. The CA goes in as a secure context, not as `ca`: an https.Agent
 * names its pool by its TLS options, the `ca` PEM included, so every request built a 2 kB name and looked it up
 * (6 MB of strings in a 10,000-consumer scan, measured with a heap sampling profile) — a cost Azure's public CAs
 * never bring.
 */
function emulatorAgent(settings: AppSettings): Agent | undefined {
  if (!settings.emulator) return undefined;
  const cached = emulatorAgents.get(settings);
  if (cached) return cached;
  const emulatorHost = new URL(settings.emulator.endpoint).hostname;
  const agent = new RedactedAgent({
    secureContext: createSecureContext({ ca: settings.emulator.caPem }),
    keepAlive: true,
    lookup: emulatorLookup([settings.cloud.managedHsmDnsSuffix, EVENT_GRID_DNS_SUFFIX, LOGS_INGESTION_DNS_SUFFIX, LOG_ANALYTICS_DNS_SUFFIX, METRICS_DNS_SUFFIX], emulatorHost),
  });
  emulatorAgents.set(settings, agent);
  return agent;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * The emulator serves every HSM data plane and Event Grid topic on one address; host names keep their real form
 * (<name>.managedhsm.azure.net) so that the Key Vault challenge's resource check still applies.
 */
function emulatorLookup(dnsSuffixes: readonly string[], emulatorHost: string) {
  const suffixes = dnsSuffixes.map((s) => `.${s.toLowerCase()}`);
  const address = emulatorHost === "localhost" ? "127.0.0.1" : emulatorHost.replace(/^\[|\]$/g, "");
  const family = address.includes(":") ? 6 : 4;
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    const lower = hostname.toLowerCase();
    if (suffixes.some((suffix) => lower.endsWith(suffix))) {
      if ((options as LookupAllOptions).all) callback(null, [{ address, family }]);
      else callback(null, address, family);
      return;
    }
    dnsLookup(hostname, options as LookupAllOptions, callback as (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void);
  };
}
