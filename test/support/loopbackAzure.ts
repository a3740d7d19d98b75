/**
 * A small real HTTPS server on 127.0.0.1 that stands in for ARM and Managed HSM data planes at the
 * transport level (hang, reset, 429, 503 …), for the request layer's tests. KeyWarden reaches it through
 * its emulator settings (the server's CA trusted, *.managedhsm.azure.net resolved to 127.0.0.1), so the
 * clients are the real ones createAzureClients builds.
 */
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { generateTlsMaterial } from "../../emulator/tls.js";
import { createEmulatorCredential } from "../../src/lib/azure/emulatorCredential.js";
import { loadAppSettings } from "../../src/lib/config/settings.js";
import type { AppSettings } from "../../src/lib/config/types.js";

export const LOOPBACK_PRINCIPAL_ID = "a1000000-0000-4000-8000-000000000003";
export const LOOPBACK_TENANT = "8f3d2c1b-6a5e-4d7c-9b8a-1e2f3a4b5c6d";

/** One request as the server saw it; `n` counts requests with the same method and path (1 = first). */
export interface SeenRequest {
  method: string;
  host: string;
  path: string;
  n: number;
  authorized: boolean;
}

/** Return true once you have answered (or deliberately never will); false falls through to the default 200. */
export type Behaviour = (seen: SeenRequest, req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface LoopbackAzure {
  endpoint: string;
  caPem: string;
  port: number;
  hsmUri(name: string): string;
  seen: SeenRequest[];
  /** Most requests the server was answering at once. */
  peakInFlight(): number;
  behave(behaviour: Behaviour | undefined): void;
  /** Forgets what was seen (and the per-path counts), keeping the behaviour. */
  reset(): void;
  /** Emulator-cloud settings pointing at this server (KEYWARDEN_* overrides welcome). */
  settings(overrides?: Record<string, string>): AppSettings;
  credential: ReturnType<typeof createEmulatorCredential>;
  close(): Promise<void>;
}

const tls = generateTlsMaterial();

export async function startLoopbackAzure(): Promise<LoopbackAzure> {
  const seen: SeenRequest[] = [];
  const counts = new Map<string, number>();
  let inFlight = 0;
  let peak = 0;
  let behaviour: Behaviour | undefined;

  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      inFlight--;
    };
    res.on("close", finish);
    req.on("close", () => {
      if (!res.writableEnded) finish();
    });
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      void (async () => {
        const host = (req.headers.host ?? "").toLowerCase();
        const path = (req.url ?? "/").split("?")[0] ?? "/";
        const method = req.method ?? "GET";
        const key = `${method} ${host} ${path}`;
        const n = (counts.get(key) ?? 0) + 1;
        counts.set(key, n);
        const entry: SeenRequest = { method, host, path, n, authorized: /^Bearer /.test(req.headers.authorization ?? "") };
        seen.push(entry);
        // The Managed HSM data plane challenges a request without a token, as Azure does.
        if (host.includes(".managedhsm.azure.net") && !entry.authorized) {
          res.writeHead(401, {
            "www-authenticate": `Bearer authorization="https://login.microsoftonline.com/${LOOPBACK_TENANT}", resource="https://managedhsm.azure.net"`,
            "content-type": "application/json",
          });
          res.end(JSON.stringify({ error: { code: "Unauthorized", message: "AKV10000: Request is missing a Bearer or PoP token." } }));
          return;
        }
        if (behaviour && (await behaviour(entry, req, res))) return;
        answer(res, method, body);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const endpoint = `https://127.0.0.1:${port}`;

  return {
    endpoint,
    caPem: tls.caPem,
    port,
    hsmUri: (name) => `https://${name.toLowerCase()}.managedhsm.azure.net:${port}/`,
    seen,
    peakInFlight: () => peak,
    behave(b) {
      behaviour = b;
    },
    reset() {
      seen.length = 0;
      counts.clear();
      peak = inFlight;
    },
    settings: (overrides = {}) =>
      loadAppSettings(
        {
          KEYWARDEN_CLOUD: "Emulator",
          KEYWARDEN_EMULATOR_ENDPOINT: endpoint,
          KEYWARDEN_EMULATOR_CA_PEM: tls.caPem,
          KEYWARDEN_EMULATOR_PRINCIPAL_ID: LOOPBACK_PRINCIPAL_ID,
          KEYWARDEN_POLICY_FILE: "unused.policy.json",
          KEYWARDEN_RETRY_DELAY_MS: "10",
          KEYWARDEN_MAX_RETRY_DELAY_MS: "50",
          ...overrides,
        },
        () => "",
      ),
    credential: createEmulatorCredential(LOOPBACK_PRINCIPAL_ID, LOOPBACK_TENANT),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The default answer: an empty list for a GET, the sent body back (201) for a PUT. */
function answer(res: ServerResponse, method: string, body: string): void {
  if (method === "PUT") {
    res.writeHead(201, { "content-type": "application/json" });
    res.end(body || "{}");
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ value: [] }));
}

/** Answers with a status (and headers) and an ARM-shaped error body. */
export function reply(res: ServerResponse, status: number, headers: Record<string, string> = {}): true {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ error: { code: status === 429 ? "TooManyRequests" : "ServerError", message: `loopback answered ${status}` } }));
  return true;
}

export const SUBSCRIPTIONS = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222", "33333333-3333-4333-8333-333333333333"];
