/**
 * What every HTTP response of KeyWarden carries, and the shape of its error bodies. Plain data (the
 * @azure/functions types stay in src/functions): an HttpResponseInit accepts these objects as they are.
 */

/** Reports are per-request and sensitive: no cache may keep one, and no browser may guess a type. */
export const RESPONSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
});

/** The response header that repeats an error body's correlation id (the function's invocation id). */
export const CORRELATION_ID_HEADER = "x-correlation-id";

export interface ErrorResponse {
  status: number;
  jsonBody: { error: { code: string; message: string; correlationId?: string } };
  headers: Record<string, string>;
}

/**
 * A JSON error response. `message` goes to the caller as it is: it must never hold a setting's value, a
 * path or an upstream message; log those and pass `correlationId` so that the log can be found.
 */
export function errorResponse(status: number, code: string, message: string, correlationId?: string): ErrorResponse {
  return {
    status,
    jsonBody: { error: { code, message, ...(correlationId === undefined ? {} : { correlationId }) } },
    headers: {
      ...RESPONSE_HEADERS,
      "content-type": "application/json; charset=utf-8",
      ...(correlationId === undefined ? {} : { [CORRELATION_ID_HEADER]: correlationId }),
    },
  };
}
