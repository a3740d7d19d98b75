/** Test helpers: an HTTPS client that trusts the emulator CA (never disables TLS checks) and unsigned JWTs. */
import https from "node:https";
import type { LookupFunction } from "node:net";
import type { EmulatorHandle } from "./index.js";

export const TENANT_ID = "8f3d2c1b-6a5e-4d7c-9b8a-1e2f3a4b5c6d";
export const SUBSCRIPTION_ID = "5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10";
export const KEYWARDEN_OID = "a1000000-0000-4000-8000-000000000003";

/** base64url(header).base64url(payload). — what the emulated HSM accepts. */
export function unsignedJwt(oid: string, tid = TENANT_ID): string {
  const enc = (o: object): string => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${enc({ alg: "none", typ: "JWT" })}.${enc({ oid, tid, aud: "https://managedhsm.azure.net" })}.`;
}

export const staticCredential = (oid = KEYWARDEN_OID) => ({
  getToken: async () => ({ token: unsignedJwt(oid), expiresOnTimestamp: Date.now() + 3_600_000 }),
});

/** Resolves *.managedhsm.azure.net (and everything else) to 127.0.0.1. */
export const loopbackLookup: LookupFunction = (_hostname, options, callback) => {
  if (typeof options === "object" && options.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: "127.0.0.1", family: 4 }]);
  else callback(null, "127.0.0.1", 4);
};

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface RequestOptions {
  /** Host header (default 127.0.0.1:<port>); e.g. `contoso-prod-hsm.managedhsm.azure.net:<port>`. */
  host?: string;
  body?: unknown;
  /** Bearer token; null = no Authorization header. Default: a token for KeyWarden's identity. */
  token?: string | null;
  /** Further request headers (e.g. `aeg-sas-key`); a `content-type` here replaces the JSON default. */
  headers?: Record<string, string>;
  /** Sent as is instead of JSON.stringify(body) (bytes for a gzip body). */
  rawBody?: string | Buffer;
}

/** `pathAndQuery` is a path (`/keys?api-version=...`) or an absolute URL (nextLink) whose host becomes the Host header. */
export function call(emu: EmulatorHandle, method: string, pathAndQuery: string, opts: RequestOptions = {}): Promise<TestResponse> {
  let path = pathAndQuery;
  let host = opts.host ?? `127.0.0.1:${emu.port}`;
  if (/^https:\/\//.test(pathAndQuery)) {
    const u = new URL(pathAndQuery);
    path = u.pathname + u.search;
    host = u.host;
  }
  const servername = host.replace(/:\d+$/, "");
  const token = opts.token === undefined ? unsignedJwt(KEYWARDEN_OID) : opts.token;
  const payload = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port: emu.port,
        path,
        method,
        ca: emu.caPem,
        servername: /^\d+\.\d+\.\d+\.\d+$/.test(servername) ? undefined : servername,
        agent: false,
        headers: {
          host,
          ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
          ...(payload !== undefined ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}),
          ...(opts.headers ?? {}),
        },
      },
      (res) => {
        let data = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (data += c));
        res.on("end", () => {
          try {
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data ? JSON.parse(data) : undefined });
          } catch (e) {
            reject(new Error(`${method} ${pathAndQuery} → ${res.statusCode}: the response is not JSON (${(e as Error).message}): ${data.slice(0, 200)}`));
          }
        });
      },
    );
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export const hsmHost = (emu: EmulatorHandle, name = "contoso-prod-hsm"): string => `${name}.managedhsm.azure.net:${emu.port}`;
