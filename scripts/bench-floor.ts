/**
 * What one request costs KeyWarden's own thread, for `npm run bench`: a kind of the scan's reads again (the SQL MI
 * reads, each instance's protector GET and key list, are most of a 10,000-consumer scan's requests; the consumer
 * lists, a few hundred pages of 100, are most of its bytes), through KeyWarden's adapters (the SDK clients and the
 * request layer), and then the very same tries (URLs and headers as the adapters sent them, next pages included)
 * through node:https alone, body read and parsed: what any client on this Node and this machine pays at least.
 * The lower bound charges a request latency ÷ cap and nothing for CPU; where these figures approach that, the
 * bound cannot be reached from one thread.
 */
import https from "node:https";
import { createSecureContext } from "node:tls";
import { createDefaultHttpClient, type HttpClient } from "@azure/core-rest-pipeline";
import { createAzureClients, type AzureClients } from "../src/lib/azure/clients.js";
import { createRequestLayer, requestLayerOptions } from "../src/lib/azure/requests.js";
import type { KeyWardenConfig } from "../src/lib/config/types.js";

export interface RequestCpu {
  /** Reads per round, and the tries (requests) they sent: one each for a GET, one a page for a list. */
  reads: number;
  requests: number;
  /** CPU per try (µs), best of the rounds. */
  adaptersUs: number;
  nodeHttpsUs: number;
}

/** One read through the adapters (a GET, or a whole list with its next pages). */
export type Read = (clients: AzureClients) => Promise<unknown>;

interface Try {
  url: string;
  headers: Record<string, string>;
}

export async function measureRequestCpu(config: KeyWardenConfig, reads: readonly Read[], reset: () => Promise<void>, rounds = 3): Promise<RequestCpu> {
  const emulator = config.settings.emulator;
  if (!emulator) throw new Error("the request floor is measured against the emulator");
  // The adapters' tries, as sent (a fresh layer of the same settings, over a transport that notes each try).
  const recording: Try[] = [];
  const transport = createDefaultHttpClient();
  const noting: HttpClient = {
    sendRequest(request) {
      recording.push({ url: request.url, headers: request.headers.toJSON() });
      return transport.sendRequest(request);
    },
  };
  const clients = createAzureClients(config.settings, undefined, createRequestLayer({ ...requestLayerOptions(config.settings), transport: noting }));
  const cap = config.settings.requests.maxConcurrency;
  const agent = new https.Agent({ keepAlive: true, secureContext: createSecureContext({ ca: emulator.caPem }) });
  /** CPU per try of `count` calls of `one`, `cap` at a time. */
  const cpuUs = async (count: number, tries: number, one: (i: number) => Promise<unknown>): Promise<number> => {
    await reset();
    let next = 0;
    const before = process.cpuUsage();
    await Promise.all(Array.from({ length: cap }, async () => { while (next < count) await one(next++); }));
    const used = process.cpuUsage(before);
    return (used.user + used.system) / tries;
  };
  const adapters = (i: number) => (reads[i] as Read)(clients);
  // A first round warms the new clients and records the tries; it is not counted.
  await cpuUs(reads.length, 1, adapters);
  const tries = recording.splice(0);
  if (tries.length < reads.length) throw new Error(`the adapters sent ${tries.length} tries for ${reads.length} reads`);
  const nodeHttps = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const t = tries[i] as Try;
      https
        .get(t.url, { agent, headers: t.headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))) : reject(new Error(`${res.statusCode} from the emulator`))));
        })
        .on("error", reject);
    });
  const best = { adapters: Number.POSITIVE_INFINITY, nodeHttps: Number.POSITIVE_INFINITY };
  for (let r = 0; r < rounds; r++) {
    best.adapters = Math.min(best.adapters, await cpuUs(reads.length, tries.length, adapters));
    // Every round must send what the first did: a retry would skew the figure.
    const sent = recording.splice(0).length;
    if (sent !== tries.length) throw new Error(`a round through the adapters sent ${sent} tries, the first ${tries.length}`);
    best.nodeHttps = Math.min(best.nodeHttps, await cpuUs(tries.length, tries.length, nodeHttps));
  }
  agent.destroy();
  return { reads: reads.length, requests: tries.length, adaptersUs: best.adapters, nodeHttpsUs: best.nodeHttps };
}
