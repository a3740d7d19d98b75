import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { randomUUID } from "node:crypto";
import { BlobServiceClient, ContainerClient, type HttpHeaders as HttpHeadersLike, type HttpOperationResponse, type IHttpClient, type StoragePipelineOptions, type WebResource } from "@azure/storage-blob";
import { createHttpHeaders, createPipelineRequest, isRestError, type HttpClient } from "@azure/core-rest-pipeline";
import type { TokenCredential } from "@azure/core-auth";
import type { AppSettings } from "../config/types.js";
import { createCredential } from "./credential.js";
import { sharedRequestLayer, type RequestLayer } from "./requests.js";

export type { ContainerClient } from "@azure/storage-blob";

/**
 * The Blob Storage adapter under the state store (src/lib/state/blobStore.ts): builds the container client
 * on KeyWarden's request layer and maps the service's answers to plain results, so the store itself
 * never sees the SDK's errors.
 */

/** What the state store's settings say about Blob Storage (the directory kind never reaches here). */
export function createStateContainerClient(
  settings: AppSettings,
  requests: RequestLayer = sharedRequestLayer(settings),
  credential?: TokenCredential,
): ContainerClient {
  const state = settings.stateStore;
  const options = storagePipelineOptions(requests);
  if (state.kind === "blobConnectionString") {
    return BlobServiceClient.fromConnectionString(state.connectionString.reveal(), options).getContainerClient(state.container);
  }
  if (state.kind === "blob") return new ContainerClient(state.containerUrl, credential ?? createCredential(settings), options);
  throw new Error(`The state store is a ${state.kind}, not a blob container`);
}

/**
 * storage-blob still takes a core-http (v1) HttpClient; this hands it the request layer's (v2) client, so
 * Blob calls get the layer's per-try timeout, deadline, retries and concurrency cap. The SDK's own retry
 * policy makes a single try.
 */
export function storagePipelineOptions(requests: RequestLayer): StoragePipelineOptions {
  return { httpClient: v1HttpClient(requests.httpClient("storage")), retryOptions: { maxTries: 1 } };
}

function v1HttpClient(client: HttpClient): IHttpClient {
  return {
    async sendRequest(webResource: WebResource): Promise<HttpOperationResponse> {
      const request = createPipelineRequest({
        url: webResource.url,
        method: webResource.method,
        headers: createHttpHeaders(webResource.headers.toJson({ preserveCase: true })),
        body: webResource.body,
        abortSignal: webResource.abortSignal,
        timeout: webResource.timeout,
        requestId: webResource.requestId,
        withCredentials: webResource.withCredentials,
        streamResponseStatusCodes: webResource.streamResponseStatusCodes,
        onUploadProgress: webResource.onUploadProgress,
        onDownloadProgress: webResource.onDownloadProgress,
        agent: freshConnections(webResource.url),
        // As storage-blob itself allows: http only where a connection string says so (Azurite); tokens are
        // never sent over it (its bearer-token policy refuses non-TLS URLs).
        allowInsecureConnection: true,
      });
      const response = await client.sendRequest(request);
      // The SDK's adapter maps this back to the request it started from (webResource keeps a link to it).
      return { ...response, request: webResource, headers: headersLike(response.headers.toJSON({ preserveCase: true })) };
    },
  };
}

/**
 * A new connection per Blob call. State-store calls are few and far apart (a lease renewal every 20 s), longer
 * than servers keep an idle connection (Azurite: 5 s); a reused socket the server has just closed fails with
 * ECONNRESET, which a write cannot safely retry (a create may have landed).
 */
const noKeepAlive = { http: new HttpAgent({ keepAlive: false }), https: new HttpsAgent({ keepAlive: false }) };
function freshConnections(url: string): HttpAgent {
  return url.startsWith("https:") ? noKeepAlive.https : noKeepAlive.http;
}

function headersLike(raw: Record<string, string>): HttpHeadersLike {
  const map = new Map<string, { name: string; value: string }>(Object.entries(raw).map(([name, value]) => [name.toLowerCase(), { name, value }]));
  const self: HttpHeadersLike = {
    set: (name, value) => void map.set(name.toLowerCase(), { name, value: String(value) }),
    get: (name) => map.get(name.toLowerCase())?.value,
    contains: (name) => map.has(name.toLowerCase()),
    remove: (name) => map.delete(name.toLowerCase()),
    rawHeaders: () => self.toJson(),
    headersArray: () => [...map.values()].map((h) => ({ ...h })),
    headerNames: () => [...map.values()].map((h) => h.name),
    headerValues: () => [...map.values()].map((h) => h.value),
    clone: () => headersLike(self.toJson({ preserveCase: true })),
    toJson: (options) => Object.fromEntries([...map.entries()].map(([lower, h]) => [options?.preserveCase ? h.name : lower, h.value])),
  };
  return self;
}

/** A failure of one Blob call: the HTTP status and the service's error code, never the URL's query. */
export class BlobCallError extends Error {
  override readonly name = "BlobCallError";
  constructor(
    readonly operation: string,
    readonly statusCode: number | undefined,
    readonly errorCode: string | undefined,
    options: { cause: unknown },
  ) {
    super(`${operation} failed${statusCode ? ` with ${statusCode}` : ""}${errorCode ? ` ${errorCode}` : ""}`, options);
  }
}

function statusOf(error: unknown): number | undefined {
  return isRestError(error) ? error.statusCode : undefined;
}

function codeOf(error: unknown): string | undefined {
  return isRestError(error) ? error.code : undefined;
}

function wrap(operation: string, error: unknown): BlobCallError {
  return new BlobCallError(operation, statusOf(error), codeOf(error), { cause: error });
}

/** The container's URL without its query (a SAS lives there). */
export function containerUrlOf(container: ContainerClient): string {
  const url = new URL(container.url);
  return `${url.origin}${url.pathname}`;
}

/**
 * Creates the container unless it exists. Creating it is idempotent (an existing one is a 409 the SDK takes as
 * "exists"), so a dropped connection is tried again, twice, unlike the store's other writes.
 */
export async function ensureContainer(container: ContainerClient): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await container.createIfNotExists();
      return;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (attempt < 3 && typeof code === "string" && CONNECTION_DROPPED.has(code)) continue;
      throw wrap("create the container", error);
    }
  }
}

const CONNECTION_DROPPED = new Set(["ECONNRESET", "EPIPE", "ECONNREFUSED"]);

/** Uploads unless the blob exists; false when it does (409 BlobAlreadyExists, or 412 on a retried try). */
export async function uploadIfAbsent(container: ContainerClient, name: string, body: string): Promise<boolean> {
  try {
    await container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), { conditions: { ifNoneMatch: "*" } });
    return true;
  } catch (error) {
    const status = statusOf(error);
    if (status === 409 || status === 412) return false;
    throw wrap(`create ${name}`, error);
  }
}

/** Uploads; with ifMatch, "conflict" when the blob's etag differs (412) or it is gone (404). */
export async function upload(container: ContainerClient, name: string, body: string, ifMatch?: string): Promise<{ etag: string } | "conflict"> {
  try {
    const response = await container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), ifMatch === undefined ? {} : { conditions: { ifMatch } });
    if (!response.etag) throw new Error("the service returned no ETag");
    return { etag: response.etag };
  } catch (error) {
    const status = statusOf(error);
    if (ifMatch !== undefined && (status === 412 || status === 404)) return "conflict";
    throw wrap(`write ${name}`, error);
  }
}

export async function download(container: ContainerClient, name: string): Promise<{ body: string; etag: string } | undefined> {
  try {
    const response = await container.getBlobClient(name).download();
    const body = response.readableStreamBody ? await readStream(response.readableStreamBody) : "";
    if (!response.etag) throw new Error("the service returned no ETag");
    return { body, etag: response.etag };
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw wrap(`read ${name}`, error);
  }
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

export async function listNames(container: ContainerClient, prefix: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const blob of container.listBlobsFlat(prefix === "" ? {} : { prefix })) names.push(blob.name);
  } catch (error) {
    throw wrap(`list ${prefix === "" ? "every item" : prefix}`, error);
  }
  return names;
}

export async function deleteIfExists(container: ContainerClient, name: string): Promise<boolean> {
  try {
    return (await container.getBlobClient(name).deleteIfExists()).succeeded;
  } catch (error) {
    throw wrap(`delete ${name}`, error);
  }
}

/**
 * Takes a lease on `name` (created as an empty blob if absent). Returns its lease id, or undefined when
 * another lease is active (409 LeaseAlreadyPresent). The lease id is proposed by us, so a retried try of
 * the same acquire is answered as ours rather than as someone else's.
 */
export async function acquireBlobLease(container: ContainerClient, name: string, durationSeconds: number): Promise<string | undefined> {
  const leaseId = randomUUID();
  for (let attempt = 0; ; attempt++) {
    try {
      await container.getBlobClient(name).getBlobLeaseClient(leaseId).acquireLease(durationSeconds);
      return leaseId;
    } catch (error) {
      if (statusOf(error) === 409) return undefined;
      if (statusOf(error) !== 404 || attempt > 0) throw wrap(`lease ${name}`, error);
    }
    await uploadIfAbsent(container, name, "");
  }
}

/** "lost" when the lease is no longer ours (409: another lease, or none) or the blob is gone (404). */
export async function renewBlobLease(container: ContainerClient, name: string, leaseId: string): Promise<"renewed" | "lost"> {
  try {
    await container.getBlobClient(name).getBlobLeaseClient(leaseId).renewLease();
    return "renewed";
  } catch (error) {
    const status = statusOf(error);
    if (status === 409 || status === 404) return "lost";
    throw wrap(`renew the lease on ${name}`, error);
  }
}

/** Releases; a lease that is already gone or someone else's (409, 404) counts as released. */
export async function releaseBlobLease(container: ContainerClient, name: string, leaseId: string): Promise<void> {
  try {
    await container.getBlobClient(name).getBlobLeaseClient(leaseId).releaseLease();
  } catch (error) {
    const status = statusOf(error);
    if (status === 409 || status === 404) return;
    throw wrap(`release the lease on ${name}`, error);
  }
}
