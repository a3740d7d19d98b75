/** What every write takes: how often to poll its long-running operation, and where to report Azure's request ids. */
export interface WriteOptions {
  /** KEYWARDEN_LRO_POLL_INTERVAL_MS. */
  pollIntervalMs: number;
  /** Called with each response's x-ms-request-id (the journal records them for support cases and audits). */
  onRequestId?: (requestId: string) => void;
}

/** The SDK options for a write: poll interval and a response hook. */
/** The part of an SDK response the hook reads (core-client and the modular clients both pass one). */
interface ResponseWithHeaders {
  headers: { get(name: string): string | undefined };
}

export function writeOptions(options: WriteOptions): { updateIntervalInMs: number; onResponse: (response: ResponseWithHeaders) => void } {
  return {
    updateIntervalInMs: options.pollIntervalMs,
    onResponse: (response) => {
      const id = response.headers.get("x-ms-request-id");
      if (id) options.onRequestId?.(id);
    },
  };
}
