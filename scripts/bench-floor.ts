/**
 * What one request costs KeyWarden's own thread, for `npm run bench`: the scan's SQL MI reads (each instance's
 * protector GET and key list, most of a 10,000-consumer scan's requests) again, through KeyWarden's adapters (the
 * SDK clients and the request layer), and then the very same tries (URLs and headers as the adapters sent them)
 * through node:https alone, body read and parsed: what any client on this Node and this machine pays at least.
 * The lower bound charges a request latency ÷ cap and nothing for CPU; where these figures approach that, the
 * bound cannot be reached from one thread.
 */
import https from "node:https";
import { createSecureContext } from "node:tls";
import { createDefaultHttpClient, type HttpClient } from "@azure/core-rest-pipeline";
import { createAzureClients } from "../src/lib/azure/clients.js";
import { createRequestLayer, requestLayerOptions } from "../src/lib/azure/requests.js";
import type { KeyWardenConfig } from "../src/lib/config/types.js";

export interface RequestCpu {
  /** Tries per round. */
  requests: number;
  /** CPU per try (µs), best of the rounds. */
  adaptersUs: number;
  nodeHttpsUs: number;
}

interface Try {
  url: string;
  headers: Record<string, string>;
}

export async function measureRequestCpu(config: KeyWardenConfig, instanceIds: readonly string[], reset: () => Promise<void>, rounds = 3): Promise<RequestCpu> {
  const emulator = config.settings.emulator;
  if (!emulator) throw new Error("the request floor is measured against the emulator");
  // The adapters' tries, as sent (a fresh layer of the same settings, over a transport that notes each try).
  let recording: Try[] | undefined;
  const transport = createDefaultHttpClient();
  const noting: HttpClient = {
    sendRequest(request) {
      recording?.push({ url: request.url, headers: request.headers.toJSON() });
      return transport.sendRequest(request);
    },
  };
  const clients = createAzureClients(config.settings, undefined, createRequestLayer({ ...requestLayerOptions(config.settings), transport: noting }));
  const cap = config.settings.requests.maxConcurrency;
  const agent = new https.Agent({ keepAlive: true, secureContext: createSecureContext({ ca: emulator.caPem }) });
  const cpuUs = async (count: number, one: (i: number) => Promise<unknown>): Promise<number> => {
    await reset();
    let next = 0;
    const before = process.cpuUsage();
    await Promise.all(Array.from({ length: cap }, async () => { while (next < count) await one(next++); }));
    const used = process.cpuUsage(before);
    return (used.user + used.system) / count;
  };
  const adapters = (i: number) => {
    const id = instanceIds[i >> 1] as string;
    return i & 1 ? clients.sql.listKeys(id) : clients.sql.getEncryptionProtector(id);
  };
  const count = instanceIds.length * 2;
  // A first round warms the new clients and records the tries; it is not counted.
  recording = [];
  await cpuUs(count, adapters);
  const tries = recording;
  recording = undefined;
  if (tries.length !== count) throw new Error(`the adapters sent ${tries.length} tries for ${count} reads (a retry or a second page would skew the floor)`);
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
    best.adapters = Math.min(best.adapters, await cpuUs(count, adapters));
    best.nodeHttps = Math.min(best.nodeHttps, await cpuUs(count, nodeHttps));
  }
  agent.destroy();
  return { requests: count, adaptersUs: best.adapters, nodeHttpsUs: best.nodeHttps };
}
