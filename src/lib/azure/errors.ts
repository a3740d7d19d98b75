import { RestError } from "@azure/core-rest-pipeline";
import { ensureError } from "../errors.js";

/**
 * A failed Azure call, with what was being done and Azure's own error code. Adapters throw it; the
 * collector records it. The message never includes request headers (tokens) or bodies. `code` is Azure's
 * error code, a Node network code (ECONNRESET…), or the request layer's "Timeout" (a try got no answer
 * within KEYWARDEN_TRY_TIMEOUT_MS, after its retries) or "DeadlineExceeded" (the overall deadline expired).
 */
export class AzureRequestError extends Error {
  override readonly name = "AzureRequestError";
  constructor(
    readonly operation: string,
    readonly resourceId: string,
    message: string,
    readonly statusCode?: number,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Wraps an SDK error (RestError or a Node network error) with the operation and resource it concerned. */
export function toAzureRequestError(error: unknown, operation: string, resourceId: string): AzureRequestError {
  if (error instanceof AzureRequestError) return error;
  const e = ensureError(error);
  if (e instanceof RestError || (e as { name?: string }).name === "RestError") {
    const rest = e as RestError;
    forgetCredentials(rest);
    const details = rest.details as { error?: { code?: string; message?: string } } | undefined;
    const code = details?.error?.code ?? rest.code;
    const message = details?.error?.message ?? firstLine(rest.message);
    return new AzureRequestError(operation, resourceId, message, rest.statusCode, code, { cause: e });
  }
  const code = (e as { code?: unknown }).code;
  return new AzureRequestError(operation, resourceId, firstLine(e.message), undefined, typeof code === "string" ? code : undefined, { cause: e });
}

/** Request headers that carry a credential: a bearer token, an Event Grid topic key or SAS token. */
const CREDENTIAL_HEADERS = ["authorization", "aeg-sas-key", "aeg-sas-token"] as const;

/**
 * A RestError keeps the request it failed on, credential headers included; a logger that walks the
 * error's cause (JSON serialisers, test reporters) would print them. The call is over, so drop them.
 */
function forgetCredentials(error: RestError): void {
  for (const request of [error.request, error.response?.request]) for (const name of CREDENTIAL_HEADERS) request?.headers.delete(name);
}

function firstLine(text: string): string {
  const line = text.split("\n")[0] ?? text;
  return line.length > 500 ? `${line.slice(0, 500)}...` : line;
}

/** Runs an SDK call and rethrows any failure as an AzureRequestError. */
export async function call<T>(operation: string, resourceId: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toAzureRequestError(error, operation, resourceId);
  }
}

/**
 * Drains an SDK paged iterator into an array, mapping failures like `call`. Page by page: the SDKs' item
 * iterators are async generators over the pages, so each item would cost a round of promise jobs (17,000
 * of them in a 10,000-consumer scan's lists); a page costs one.
 */
export async function collectPages<T, U>(
  operation: string,
  resourceId: string,
  iterator: { byPage(): AsyncIterable<readonly T[]> },
  map: (item: T) => U,
): Promise<U[]> {
  return call(operation, resourceId, async () => {
    const out: U[] = [];
    for await (const page of iterator.byPage()) for (const item of page) out.push(map(item));
    return out;
  });
}

/**
 * A failed send (Event Grid publish, Logs Ingestion upload) as an outbox records it: the service's status and
 * code, and whether the service refused the request as malformed (400, 413), which a resend as is cannot fix.
 */
export function sendFailureOf(thrown: unknown): { statusCode?: number; code?: string; message: string; malformed: boolean } {
  const e = thrown instanceof AzureRequestError ? thrown : undefined;
  return { ...(e?.statusCode !== undefined ? { statusCode: e.statusCode } : {}), ...(e?.code ? { code: e.code } : {}), message: ensureError(thrown).message, malformed: e?.statusCode === 400 || e?.statusCode === 413 };
}
