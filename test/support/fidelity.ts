/**
 * Fidelity ledger: validates recorded emulator exchanges against the official REST specs and keeps what the
 * fidelity suite reports — failures, the api-versions used (SDK's vs the pack's), the routes exercised and the
 * LRO status-monitor bodies.
 */
import type { Exchange, ServedOperation } from "../../emulator/index.js";
import type { SpecIndex, SpecOperation } from "./specValidator.js";

export interface FidelityFailure {
  operationId: string;
  method: string;
  status: number;
  path: string;
  apiVersion: string | undefined;
  errors: string[];
}

export interface VersionUse {
  operationId: string;
  /** api-version the SDK sent */
  sdkApiVersion: string;
  /** version of the spec file the response was validated against */
  specApiVersion: string;
  specFile: string;
  exchanges: number;
}

/**
 * A documented gap between a spec and the wire, excused narrowly: only validator errors of `operationId` that match
 * `error`, whose offending value (at the error's JSON pointer) matches `value`, in a body that passes `body`. Every
 * deviation must still occur (the suite fails on stale entries), so none outlives the gap it describes.
 */
export interface KnownDeviation {
  id: string;
  operationId: RegExp;
  error: RegExp;
  value?: RegExp;
  body?: (body: unknown) => boolean;
  reason: string;
}

/** `{ error: { code: string, message: string, ... } }` — the ARM/Key Vault error envelope the SDKs read `code` from. */
export function isAzureErrorEnvelope(body: unknown): boolean {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null | undefined)?.error;
  return !!body && typeof body === "object" && Object.keys(body).length === 1 && !!error && typeof error.code === "string" && typeof error.message === "string";
}

/** The value at a JSON pointer ("" or "/" = the whole document). */
export function atPointer(doc: unknown, pointer: string): unknown {
  let cur = doc;
  for (const raw of pointer.split("/").slice(1)) {
    if (raw === "") continue;
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Validator lines look like "<operationId> <status> <pointer>: <message>"; long enum lists are shortened and the value shown. */
function explain(line: string, body: unknown): { line: string; pointer?: string } {
  const m = /^(\S+ \S+) (\/\S*): (.*)$/.exec(line);
  if (!m) return { line };
  const [, label, pointer, message] = m as unknown as [string, string, string, string];
  const shortMessage = message.length > 160 ? `${message.slice(0, 120)}… (${(message.match(/","/g)?.length ?? 0) + 1} values)` : message;
  const got = JSON.stringify(atPointer(body, pointer));
  return { line: `${label} ${pointer}: ${shortMessage} — got ${got === undefined ? "nothing" : got.length > 120 ? `${got.slice(0, 120)}…` : got}`, pointer };
}

export const LRO_STATUS_MONITOR = "emulator.operationStatus";
export const LRO_RESULT_MONITOR = "emulator.operationResult";
const LRO_STATUSES = ["InProgress", "Succeeded", "Failed", "Canceled"];

/** Served operations that come from a spec (everything but the emulator's own control and LRO endpoints). */
export function servedSpecOperations(operations: readonly ServedOperation[]): ServedOperation[] {
  return operations.filter((o) => o.specFile !== undefined && !o.operationId.startsWith("emulator."));
}

/** The Managed HSM challenge: a 401 with WWW-Authenticate to a request without a bearer token. */
export function isChallenge(e: Exchange): boolean {
  return e.status === 401 && Object.keys(e.responseHeaders).some((h) => h.toLowerCase() === "www-authenticate");
}

const segments = (path: string): string[] => path.split("?")[0]!.split("/").filter((s) => s.length > 0);

/** Matches a path against an emulator route template (`{x}` one segment, `{+x}` zero or more, literals case-insensitive). */
export function matchesServedTemplate(template: string, path: string): boolean {
  const walk = (t: string[], p: string[]): boolean => {
    if (t.length === 0) return p.length === 0;
    const [head, ...rest] = t as [string, ...string[]];
    if (/^\{\+[^}]+\}$/.test(head)) {
      for (let n = p.length; n >= 0; n--) if (walk(rest, p.slice(n))) return true;
      return false;
    }
    if (p.length === 0) return false;
    if (/^\{[^}]+\}$/.test(head)) return walk(rest, p.slice(1));
    return head.toLowerCase() === p[0]!.toLowerCase() && walk(rest, p.slice(1));
  };
  return walk(segments(template), segments(path));
}

/** Template with parameter names erased, e.g. "/{}/providers/microsoft.authorization/roleassignments/{}". */
export function templateShape(template: string): string {
  return ("/" + segments(template).map((s) => (/^\{\+?[^}]+\}$/.test(s) ? "{}" : s.toLowerCase())).join("/")).replace(/\/{2,}/g, "/");
}

/**
 * The emulator records normalised paths; the SDK sent `/keys/{name}/` (empty key-version = latest) for GetKey and
 * UpdateKey of the latest version, which is how the spec's `/keys/{key-name}/{key-version}` describes it.
 */
export function specRequestPath(e: Exchange): string {
  if ((e.operationId === "GetKey" || e.operationId === "UpdateKey") && segments(e.path).length === 2) return `${e.path}/`;
  return e.path;
}

interface LroStart {
  operation: SpecOperation;
  exchange: Exchange;
  spec: SpecIndex;
}

/** The index (of several packs') that holds a served operation's spec file; the first when none does. */
function indexFor(specs: readonly SpecIndex[], served: Pick<ServedOperation, "specFile"> | undefined): SpecIndex {
  const file = served?.specFile;
  return (file === undefined ? undefined : specs.find((s) => s.operations.some((o) => o.specFile === file))) ?? specs[0]!;
}

export class FidelityLedger {
  readonly failures: FidelityFailure[] = [];
  readonly versions = new Map<string, VersionUse>();
  /** served routes ("<operationId> <METHOD> <template>") answered 2xx at least once */
  readonly exercisedRoutes = new Set<string>();
  /** operationIds answered 2xx at least once */
  readonly exercised = new Set<string>();
  /** operationIds answered with an error status (>= 400, challenges excluded), validated against `default` */
  readonly exercisedErrors = new Map<string, number[]>();
  readonly statusMonitorBodies: Exchange[] = [];
  /** known-deviation id → validator errors it excused */
  readonly deviationHits = new Map<string, number>();
  validatedCount = 0;
  /** Location-monitor final results validated against the initiating operation */
  lroResultsValidated = 0;
  private readonly lros = new Map<string, LroStart>();
  private readonly served: ServedOperation[];
  private readonly servedIds: Set<string>;

  private readonly specs: readonly SpecIndex[];

  /** `spec`: one pack's index, or several (each operation is validated against the pack holding its spec file). */
  constructor(
    spec: SpecIndex | readonly SpecIndex[],
    operations: readonly ServedOperation[],
    private readonly deviations: readonly KnownDeviation[] = [],
  ) {
    this.specs = Array.isArray(spec) ? spec : [spec as SpecIndex];
    this.served = servedSpecOperations(operations);
    this.servedIds = new Set(this.served.map((o) => o.operationId));
  }

  static routeKey(o: Pick<ServedOperation, "operationId" | "method" | "template">): string {
    return `${o.operationId} ${o.method} ${o.template}`;
  }

  /** Validates every spec exchange in `exchanges`; returns the failures found in this batch. */
  check(exchanges: readonly Exchange[]): FidelityFailure[] {
    const found: FidelityFailure[] = [];
    for (const e of exchanges) {
      const f = this.checkOne(e);
      if (f) found.push(f);
    }
    this.failures.push(...found);
    return found;
  }

  private checkOne(e: Exchange): FidelityFailure | undefined {
    const apiVersion = e.query["api-version"];
    const failure = (errors: string[]): FidelityFailure => ({ operationId: e.operationId ?? "(unrouted)", method: e.method, status: e.status, path: e.path, apiVersion, errors });

    if (e.operationId === LRO_STATUS_MONITOR) {
      this.statusMonitorBodies.push(e);
      return undefined;
    }
    if (e.operationId === LRO_RESULT_MONITOR) return this.checkLroResult(e, failure);
    // An SDK request the emulator routes nowhere (501/405) is a fidelity gap too.
    if (e.operationId === undefined) return /^\/_emulator(\/|$)/i.test(e.path) ? undefined : failure([`no served operation matches ${e.method} ${e.path}`]);
    if (!this.servedIds.has(e.operationId) || isChallenge(e)) return undefined;

    const spec = indexFor(this.specs, this.served.find((o) => o.operationId === e.operationId));
    const result = spec.validateResponse({
      method: e.method,
      host: e.host,
      path: specRequestPath(e),
      query: e.query,
      status: e.status,
      responseBody: e.responseBody,
      operationId: e.operationId,
    });
    this.validatedCount++;
    if (result.operation) {
      const op = result.operation;
      const key = `${op.operationId}|${apiVersion ?? ""}|${op.apiVersion}`;
      const use = this.versions.get(key);
      if (use) use.exchanges++;
      else this.versions.set(key, { operationId: op.operationId, sdkApiVersion: apiVersion ?? "(none)", specApiVersion: op.apiVersion, specFile: op.specFile, exchanges: 1 });
      const location = e.responseHeaders["location"];
      if (e.status === 202 && location) {
        const id = /\/operationResults\/([^/?]+)/.exec(location)?.[1];
        if (id) this.lros.set(id, { operation: op, exchange: e, spec });
      }
    }
    if (e.status >= 200 && e.status < 300) {
      this.exercised.add(e.operationId);
      for (const o of this.served) if (o.operationId === e.operationId && o.method === e.method && matchesServedTemplate(o.template, e.path)) this.exercisedRoutes.add(FidelityLedger.routeKey(o));
    } else if (e.status >= 400) {
      this.exercisedErrors.set(e.operationId, [...(this.exercisedErrors.get(e.operationId) ?? []), e.status]);
    }
    if (result.ok) return undefined;
    const left = this.unexcused(e.operationId, result.errors, e.responseBody);
    return left.length === 0 ? undefined : failure(left);
  }

  /** Validator errors no known deviation excuses, made readable. */
  private unexcused(operationId: string, errors: string[], body: unknown): string[] {
    const left: string[] = [];
    for (const raw of errors) {
      const { line, pointer } = explain(raw, body);
      const value = pointer === undefined ? undefined : atPointer(body, pointer);
      const d = this.deviations.find(
        (x) =>
          x.operationId.test(operationId) &&
          x.error.test(raw) &&
          (x.value === undefined || (typeof value === "string" && x.value.test(value))) &&
          (x.body === undefined || x.body(body)),
      );
      if (d) this.deviationHits.set(d.id, (this.deviationHits.get(d.id) ?? 0) + 1);
      else left.push(line);
    }
    return left;
  }

  /** Known deviations that excused nothing: the gap is gone, remove the entry. */
  staleDeviations(): string[] {
    return this.deviations.filter((d) => !this.deviationHits.has(d.id)).map((d) => d.id);
  }

  /**
   * The Location monitor answers 202 (no body) while running, then the resource: for a PATCH that is the SDK's final
   * GET, i.e. what the caller gets back, so it must match the initiating operation's 200 response.
   */
  private checkLroResult(e: Exchange, failure: (errors: string[]) => FidelityFailure): FidelityFailure | undefined {
    if (e.status === 202) return e.responseBody === undefined ? undefined : failure([`${LRO_RESULT_MONITOR} 202: expected no body while running, got ${JSON.stringify(e.responseBody).slice(0, 80)}`]);
    const id = /\/operationResults\/([^/?]+)/.exec(e.path)?.[1];
    const start = id ? this.lros.get(id) : undefined;
    if (!start) return failure([`${LRO_RESULT_MONITOR} ${e.status}: no recorded 202 names this operation in its Location header`]);
    const r = start.spec.validateBody(start.operation, e.status, e.responseBody);
    this.validatedCount++;
    this.lroResultsValidated++;
    if (r.ok) return undefined;
    const left = this.unexcused(start.operation.operationId, r.errors, e.responseBody);
    return left.length === 0 ? undefined : failure(left.map((m) => `(final result of ${start.operation.operationId}) ${m}`));
  }

  /** Status-monitor bodies that are not `{ status: InProgress|Succeeded|Failed|Canceled, ... }`. */
  badStatusMonitorBodies(): string[] {
    const out: string[] = [];
    for (const e of this.statusMonitorBodies) {
      const b = e.responseBody as { status?: unknown } | undefined;
      if (e.status !== 200 || !b || typeof b !== "object" || typeof b.status !== "string" || !LRO_STATUSES.includes(b.status)) {
        out.push(`${e.method} ${e.path} → ${e.status} ${JSON.stringify(e.responseBody)}`);
      }
    }
    return out;
  }

  /** Served spec routes never answered 2xx. */
  unexercisedRoutes(): string[] {
    return this.served.map((o) => FidelityLedger.routeKey(o)).filter((k) => !this.exercisedRoutes.has(k));
  }
}

export function formatFailures(failures: readonly FidelityFailure[]): string {
  return failures
    .map((f) => [`✗ ${f.operationId}  ${f.method} ${f.path}  → ${f.status}  (api-version ${f.apiVersion ?? "none"})`, ...f.errors.map((m) => `    ${m}`)].join("\n"))
    .join("\n");
}

export function formatVersionTable(versions: Iterable<VersionUse>): string {
  const rows = [...versions].sort((a, b) => a.operationId.localeCompare(b.operationId) || a.sdkApiVersion.localeCompare(b.sdkApiVersion));
  const head = ["operationId", "SDK api-version", "spec version", "match", "exchanges"];
  const cells = rows.map((r) => [r.operationId, r.sdkApiVersion, r.specApiVersion, r.sdkApiVersion === r.specApiVersion ? "exact" : "fallback", String(r.exchanges)]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((x, i) => x.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}

/** Does a served route correspond to a spec operation (same operationId, method, file and path shape)? */
export function specOperationFor(spec: SpecIndex | readonly SpecIndex[], served: ServedOperation): SpecOperation | undefined {
  const shape = templateShape(served.template);
  return (Array.isArray(spec) ? spec : [spec as SpecIndex]).flatMap((s) => s.operations).find(
    (o) =>
      o.operationId === served.operationId &&
      o.method === served.method &&
      o.specFile === served.specFile &&
      // the emulator serves the latest-version form `/keys/{key-name}` of `/keys/{key-name}/{key-version}` (empty version)
      (templateShape(o.pathTemplate) === shape || templateShape(o.pathTemplate) === `${shape}/{}`),
  );
}
