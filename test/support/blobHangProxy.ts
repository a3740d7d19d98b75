import { connect, createServer, type Server, type Socket } from "node:net";

/** The head of one Blob Storage request, as the proxy saw it on the wire. */
export interface BlobRequestHead {
  method: string;
  /** The blob's name inside its container (decoded), "" for a container or account call. */
  blob: string;
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Record<string, string>;
}

/**
 * A TCP proxy in front of Azurite that can hang Blob calls for real: a request it picks is read and never
 * forwarded nor answered, so the caller's socket stays open until the caller gives up. Everything else is piped
 * through untouched, request by request (each connection's requests come one at a time).
 */
export interface BlobHangProxy {
  /** The Blob endpoint through the proxy (http://127.0.0.1:<port>/<account>). */
  endpoint: string;
  /** Hangs the next `count` requests `matches` picks. */
  arm(matches: (r: BlobRequestHead) => boolean, count?: number): void;
  disarm(): void;
  /** Requests hung since the last arm. */
  hung(): number;
  close(): Promise<void>;
}

export async function startBlobHangProxy(azuriteEndpoint: string): Promise<BlobHangProxy> {
  const upstream = new URL(azuriteEndpoint);
  const account = upstream.pathname.replace(/^\/+|\/+$/g, "");
  let matcher: ((r: BlobRequestHead) => boolean) | undefined;
  let remaining = 0;
  let hung = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    // Requests on one connection come one at a time (the client waits for each answer): read each head, then
    // forward it and its body (content-length bytes) unless it is to hang.
    let azurite: Socket | undefined;
    let buffered = Buffer.alloc(0);
    let bodyLeft = 0;
    let mode: "head" | "body" | "pipe" | "hung" = "head";
    const forward = (bytes: Buffer) => {
      if (!azurite) {
        const upstreamSocket = connect(Number(upstream.port), upstream.hostname);
        sockets.add(upstreamSocket);
        // Azurite closes an idle connection after 5 s; a hung request must stay hung all the same.
        upstreamSocket.on("close", () => {
          sockets.delete(upstreamSocket);
          if (mode !== "hung") client.destroy();
        });
        upstreamSocket.on("error", () => {
          if (mode !== "hung") client.destroy();
        });
        upstreamSocket.pipe(client, { end: false });
        client.on("close", () => upstreamSocket.destroy());
        azurite = upstreamSocket;
      }
      azurite.write(bytes);
    };
    const drain = () => {
      while (buffered.length > 0) {
        if (mode === "hung") {
          buffered = Buffer.alloc(0);
          return;
        }
        if (mode === "pipe") {
          forward(buffered);
          buffered = Buffer.alloc(0);
          return;
        }
        if (mode === "body") {
          const take = Math.min(bodyLeft, buffered.length);
          forward(buffered.subarray(0, take));
          buffered = buffered.subarray(take);
          bodyLeft -= take;
          if (bodyLeft === 0) mode = "head";
          continue;
        }
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffered.subarray(0, end + 4);
        buffered = buffered.subarray(end + 4);
        const request = parseHead(head.subarray(0, end).toString("latin1"), account);
        if (matcher && remaining > 0 && request && matcher(request)) {
          remaining -= 1;
          hung += 1;
          // Never forwarded, never answered: the caller's per-try timeout is all that ends it.
          mode = "hung";
          continue;
        }
        forward(head);
        if (!request || request.headers["transfer-encoding"] !== undefined) {
          mode = "pipe";
          continue;
        }
        bodyLeft = Number(request.headers["content-length"] ?? 0);
        mode = bodyLeft > 0 ? "body" : "head";
      }
    };
    client.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      drain();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the Blob hang proxy has no port");
  return {
    endpoint: `http://127.0.0.1:${address.port}/${account}`,
    arm(matches, count = 1) {
      matcher = matches;
      remaining = count;
      hung = 0;
    },
    disarm() {
      matcher = undefined;
      remaining = 0;
    },
    hung: () => hung,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function parseHead(text: string, account: string): BlobRequestHead | undefined {
  const [requestLine, ...lines] = text.split("\r\n");
  const match = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(requestLine ?? "");
  if (!match) return undefined;
  const url = new URL(match[2] ?? "/", "http://proxy");
  // /<account>/<container>/<blob…>
  const parts = url.pathname.split("/").filter((p) => p !== "");
  if (parts[0] === account) parts.shift();
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { method: match[1] ?? "", blob: decodeURIComponent(parts.slice(1).join("/")), query: url.searchParams, headers };
}
