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
  /** "arm", "hsm", "eventgrid", "monitor", an HSM host label, an Event Grid topic name or a data collection rule name (lower case); absent = any. */
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
  /** The served operation that started it (matched by `lroDurations` and LRO failure rules). */
  operationId?: string;
  /** Emulator time the operation needs at least (config `lroDurations`); 0 = none. */
  durationMs?: number;
  /** Set when a failure rule matched at start: the operation ends Failed with this error, its change not applied. */
  failWith?: { code: string; message: string };
  /** The error of a Failed operation. */
  error?: { code: string; message: string };
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
  /** operationId or glob (`*`) → ISO-8601 duration an LRO started by it takes on the emulator clock (absent = PT0S). */
  lroDurations?: Record<string, string>;
  /** `Retry-After` seconds on LRO 202 responses (absent = 1; the SDK ignores 0 and uses its own interval). */
  lroRetryAfterSeconds?: number;
  /** How long native auto-rotation takes to follow a new key version, per consumer kind (absent = the documented maxima). */
  autoRotationDelays?: Partial<Record<ConsumerKind, string>>;
}

export type ConsumerKind = "sqlManagedInstance" | "diskEncryptionSet" | "storageAccount";

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

/** A consumer's access to its key, as the access model derived it (emulator/backend/access.ts). */
export interface ConsumerAccessRecord {
  resourceId: string;
  kind: ConsumerKind;
  accessible: boolean;
  /** Why not, as a stable code (e.g. MissingWrapUnwrap) and a sentence naming the key and the identity. */
  code?: string;
  reason?: string;
  keyUrl: string;
  version: string | null;
  principalId: string | null;
  since: Date;
  /** DES only: the managed disks behind it. */
  disks?: string[];
}

export interface AccessTransition {
  at: Date;
  resourceId: string;
  kind: ConsumerKind;
  accessible: boolean;
  code?: string;
  reason?: string;
}

/** A key version that native auto-rotation has yet to carry to some consumer kinds. */
export interface PendingKeyVersion {
  hsmLabel: string;
  keyName: string;
  version: string;
  created: Date;
  followed: Set<ConsumerKind>;
}

export interface LroFailureRule {
  /** operationId or glob (`*`). */
  operationId: string;
  code: string;
  message: string;
  remaining: number;
}

/** Model state that lives and dies with one materialised estate (so reset and fixture loads clear it). */
export interface ModelState {
  access?: Map<string, ConsumerAccessRecord>;
  transitions: AccessTransition[];
  pendingKeyVersions: PendingKeyVersion[];
  lroFailures: LroFailureRule[];
}

const MODELS = new WeakMap<EstateState, ModelState>();

export function modelOf(rt: Runtime): ModelState {
  let m = MODELS.get(rt.state);
  if (!m) {
    m = { transitions: [], pendingKeyVersions: [], lroFailures: [] };
    MODELS.set(rt.state, m);
  }
  return m;
}

const GLOBS = new Map<string, RegExp>();
/** `*` matches any run of characters; case-insensitive (operation ids, data actions such as `.../keys/*`). */
export function globMatches(pattern: string, value: string): boolean {
  let re = GLOBS.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "i");
    GLOBS.set(pattern, re);
  }
  return re.test(value);
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
