/**
 * Fault injection: by operation id (exact or a `*` glob), host and subscription; a status (with or without
 * Retry-After), a connection reset, a hang, and/or latency; for N calls or persistent.
 *
 * Every matching fault is consumed by a request: their latencies add up, and the first one (in the order they
 * were added) that has a status, reset or hang decides the outcome. So a persistent `*` latency fault (the
 * benchmark's 20 ms) and a one-off 503 on one operation combine.
 */
import { randomUUID } from "node:crypto";
import type { Fault, Runtime } from "./runtime.js";

export type FaultBehaviour = "status" | "reset" | "hang";

/** A validated POST /_emulator/faults body. */
export interface FaultSpec {
  operationId?: string;
  /** "arm", "hsm", "eventgrid", "monitor", "loganalytics", "metrics", an HSM host label, an Event Grid topic name or a data collection rule name (lower case). */
  host?: string;
  subscriptionId?: string;
  behaviour?: FaultBehaviour;
  status?: number;
  code?: string;
  message?: string;
  retryAfter?: number;
  latencyMs?: number;
  count?: number;
  persistent?: boolean;
}

/** What the control endpoints show of a fault. */
export interface FaultView {
  id: string;
  operationId?: string;
  host?: string;
  subscriptionId?: string;
  behaviour: FaultBehaviour;
  status?: number;
  code?: string;
  message?: string;
  retryAfter?: number;
  latencyMs?: number;
  /** Calls left; absent when persistent. */
  remaining?: number;
  persistent: boolean;
}

export interface FaultTarget {
  operationId: string;
  /** Host label of the Managed HSM data plane addressed, or undefined for ARM. */
  hsmLabel?: string;
  /** Host label (lower-cased name) of the Event Grid topic addressed. */
  topicLabel?: string;
  /** Logs Ingestion: true on a data collection endpoint; `ruleLabel` = the lower-cased name of the rule the path names, if any. */
  monitor?: boolean;
  ruleLabel?: string;
  /** The Log Analytics query API, the metrics batch API. */
  logAnalytics?: boolean;
  metrics?: boolean;
  /** Lower-cased subscription named by an ARM path. */
  subscriptionId?: string;
}

export interface FaultOutcome {
  latencyMs: number;
  /** The fault deciding the response, if any has a status, reset or hang. */
  decisive?: Fault;
}

const globCache = new Map<string, RegExp>();
export function globRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (!re) {
    re = new RegExp(`^${glob.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
    globCache.set(glob, re);
  }
  return re;
}

export function addFault(rt: Runtime, spec: FaultSpec): FaultView {
  const fault: Fault = {
    id: randomUUID(),
    operationId: spec.operationId,
    host: spec.host?.toLowerCase(),
    subscriptionId: spec.subscriptionId?.toLowerCase(),
    behaviour: spec.behaviour ?? "status",
    status: spec.status,
    code: spec.code,
    message: spec.message,
    retryAfter: spec.retryAfter,
    latencyMs: spec.latencyMs,
    remaining: spec.persistent ? Number.POSITIVE_INFINITY : (spec.count ?? 1),
    persistent: spec.persistent === true,
  };
  rt.faults.push(fault);
  return faultView(fault);
}

export function removeFault(rt: Runtime, id: string): FaultView | undefined {
  const i = rt.faults.findIndex((f) => f.id === id);
  if (i < 0) return undefined;
  const [removed] = rt.faults.splice(i, 1);
  return faultView(removed!);
}

export function clearFaults(rt: Runtime): void {
  rt.faults.length = 0;
}

export const listFaults = (rt: Runtime): FaultView[] => rt.faults.map(faultView);

export function faultView(f: Fault): FaultView {
  const view: FaultView = { id: f.id, behaviour: f.behaviour, persistent: f.persistent };
  if (f.operationId !== undefined) view.operationId = f.operationId;
  if (f.host !== undefined) view.host = f.host;
  if (f.subscriptionId !== undefined) view.subscriptionId = f.subscriptionId;
  if (f.status !== undefined) view.status = f.status;
  if (f.code !== undefined) view.code = f.code;
  if (f.message !== undefined) view.message = f.message;
  if (f.retryAfter !== undefined) view.retryAfter = f.retryAfter;
  if (f.latencyMs !== undefined) view.latencyMs = f.latencyMs;
  if (!f.persistent) view.remaining = f.remaining;
  return view;
}

/** The `host` values that name a whole plane rather than one HSM, topic or rule. */
export const PLANES: readonly string[] = ["arm", "hsm", "eventgrid", "monitor", "loganalytics", "metrics"];

function matches(f: Fault, t: FaultTarget): boolean {
  if (f.operationId !== undefined && !(f.operationId.includes("*") ? globRegExp(f.operationId).test(t.operationId) : f.operationId === t.operationId)) return false;
  if (f.host !== undefined) {
    const plane = t.hsmLabel !== undefined ? "hsm" : t.topicLabel !== undefined ? "eventgrid" : t.monitor ? "monitor" : t.logAnalytics ? "loganalytics" : t.metrics ? "metrics" : "arm";
    const named = PLANES.includes(f.host) ? f.host === plane : f.host === t.hsmLabel || f.host === t.topicLabel || f.host === t.ruleLabel;
    if (!named) return false;
  }
  if (f.subscriptionId !== undefined && f.subscriptionId !== t.subscriptionId) return false;
  return true;
}

/** Consumes one call of every fault matching `target` and says what to do. */
export function takeFaults(rt: Runtime, target: FaultTarget): FaultOutcome {
  const outcome: FaultOutcome = { latencyMs: 0 };
  if (rt.faults.length === 0) return outcome;
  for (const f of rt.faults) {
    if (f.remaining <= 0 || !matches(f, target)) continue;
    f.remaining -= 1;
    outcome.latencyMs += f.latencyMs ?? 0;
    const decides = f.behaviour !== "status" || f.status !== undefined;
    if (decides && !outcome.decisive) outcome.decisive = f;
  }
  // Spent faults go; persistent ones (remaining = Infinity) stay.
  if (rt.faults.some((f) => f.remaining <= 0)) rt.faults.splice(0, rt.faults.length, ...rt.faults.filter((f) => f.remaining > 0));
  return outcome;
}
