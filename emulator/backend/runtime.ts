/** Everything a handler can touch: the estate, the clock, runtime config, faults, counters and pending LROs. */
import type { Socket } from "node:net";
import type { Fixture } from "../fixture.js";
import type { FaultSpec } from "./faults.js";
import type { EstateState, HsmState } from "./state.js";
import type { ThrottlingConfig, TokenBucket } from "./throttling.js";

/** An injected fault (backend/faults.ts). */
export interface Fault {
  id: string;
  /** Exact operation id or a glob with `*`; absent = any. */
  operationId?: string;
  /** "arm", "hsm" or an HSM host label; absent = any. */
  host?: string;
  /** Lower-cased; matches ARM requests whose path names it. */
  subscriptionId?: string;
  behaviour: "status" | "reset" | "hang";
  status?: number;
  code?: string;
  message?: string;
  /** Seconds, sent as Retry-After; absent = no header. */
  retryAfter?: number;
  latencyMs?: number;
  /** Calls left (Infinity when persistent). */
  remaining: number;
  persistent: boolean;
}

export interface LongRunningOperation {
  id: string;
  /** GETs answered so far (status monitor and result URL together). */
  polls: number;
  status: "InProgress" | "Succeeded" | "Failed";
  startTime: Date;
  endTime?: Date;
  /** Applies the change; runs once, when the operation succeeds. */
  apply: () => void;
  /** Resource returned by the Location (result) URL once done. */
  resourceId: string;
}

export interface RuntimeConfig {
  pageSize: number;
  lroPolls: number;
  /** ARM token buckets (backend/throttling.ts). */
  throttling: ThrottlingConfig;
}

export interface Runtime {
  state: EstateState;
  fixture: Fixture;
  clock: { now: Date; loadedAt: Date };
  config: RuntimeConfig;
  defaults: RuntimeConfig;
  port: number;
  /** https://127.0.0.1:<port> */
  endpoint: string;
  faults: Fault[];
  counts: Map<string, number>;
  lros: Map<string, LongRunningOperation>;
  /** ARM token buckets by `<subscription>|<principal>|<reads|writes|deletes>`. */
  buckets: Map<string, TokenBucket>;
  /** 429s served by the token buckets, per operationId. */
  throttled: Map<string, number>;
  /** Faults restored by every reset (e.g. the `latencyMs` start option). */
  defaultFaults: FaultSpec[];
  /** Sockets of requests a "hang" fault holds; close() destroys them. */
  hung: Set<Socket>;
}

export const now = (rt: Runtime): Date => new Date(rt.clock.now.getTime());

export const hsmHost = (rt: Runtime, hsm: { label: string }): string => `${hsm.label}.managedhsm.azure.net:${rt.port}`;

/** https://<label>.managedhsm.azure.net:<port> (no trailing slash). */
export const hsmBaseUrl = (rt: Runtime, hsm: { label: string }): string => `https://${hsmHost(rt, hsm)}`;

export const keyId = (rt: Runtime, hsm: HsmState, keyName: string, version?: string): string =>
  `${hsmBaseUrl(rt, hsm)}/keys/${keyName}${version ? `/${version}` : ""}`;

export interface KeyUrlParts {
  hsmLabel: string;
  keyName: string;
  version: string | null;
}

/** Parses https://<hsm>.managedhsm.azure.net[:port]/keys/<name>[/<version>] (port ignored). */
export function parseKeyUrl(url: string): KeyUrlParts | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const host = /^([a-z0-9-]+)\.managedhsm\.azure\.net$/i.exec(u.hostname);
  if (u.protocol !== "https:" || !host) return undefined;
  const seg = u.pathname.split("/").filter(Boolean);
  if (seg[0]?.toLowerCase() !== "keys" || seg.length < 2 || seg.length > 3) return undefined;
  return { hsmLabel: host[1]!.toLowerCase(), keyName: seg[1]!, version: seg[2] ?? null };
}

/** Parses an HSM base URI (https://<hsm>.managedhsm.azure.net[:port][/]) to the HSM label. */
export function parseHsmUri(uri: string): string | undefined {
  try {
    const u = new URL(uri);
    const m = /^([a-z0-9-]+)\.managedhsm\.azure\.net$/i.exec(u.hostname);
    return u.protocol === "https:" && m && (u.pathname === "/" || u.pathname === "") ? m[1]!.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}
