/**
 * Validates emulator responses against the official Azure REST specs: by default their committed extraction
 * (test/fixtures/azure-specs/extract.json, see specExtraction.ts), or a spec pack directory (loadSpecPack).
 *
 * Usage:
 *   const spec = loadSpecs();
 *   const r = spec.validateResponse({ method: "GET", host, path: "/keys/cmk1/", query: { "api-version": "7.6" },
 *                                     status: 200, responseBody });
 *   expect(r.errors).toEqual([]);
 *
 * See swaggerSchema.ts for how the Swagger 2.0 dialect is converted to JSON Schema 2020-12.
 */
import fs from "node:fs";
import path from "node:path";
import Ajv2020Module from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv";
import { SwaggerConverter, isObject, type JsonObject, type SpecDoc } from "./swaggerSchema.js";
import { compareApiVersions, compileTemplate, matchTemplate, splitPath, type CompiledTemplate } from "./pathTemplate.js";
import { extractionFile, readExtraction, specPackDir, type SpecExtraction, type SpecPackName } from "./specExtraction.js";

const Ajv2020 = Ajv2020Module.default;
type Ajv = InstanceType<typeof Ajv2020>;

/** The first spec pack (beside the checkout, or KEYWARDEN_AZURE_SPECS_DIR); only pack-dependent tests read it. */
export const DEFAULT_SPEC_ROOT = specPackDir("azure-specs");

/** Where a SpecIndex's documents came from. */
export type SpecSource = { kind: "pack"; root: string } | { kind: "extraction"; file: string; comment: string };

export class SpecSourceError extends Error {
  override readonly name = "SpecSourceError";
}

export interface Exchange {
  method: string;
  host: string;
  path: string;
  query: Record<string, string>;
  status: number;
  responseBody: unknown;
  /** optional hint: restricts matching to operations with this operationId (case-insensitive) */
  operationId?: string;
}

export type Plane = "arm" | "keyvault" | "data";

export interface SpecOperation {
  operationId: string;
  method: string;
  pathTemplate: string;
  apiVersion: string;
  /** path relative to the pack root, e.g. specification/keyvault/data-plane/.../7.5/keys.json */
  specFile: string;
  /** arm = management.azure.com; keyvault = Key Vault / Managed HSM data plane; data = other data planes */
  plane: Plane;
}

export interface ValidationResult {
  operation?: SpecOperation;
  ok: boolean;
  errors: string[];
  /** api-version the request asked for (query "api-version") */
  requestedApiVersion?: string;
  /** true when the pack has no spec for the requested api-version and another version was used */
  versionFallback?: boolean;
  /** response key validated against: "200", "default", ... */
  responseKey?: string;
}

export interface ExampleCase {
  operation: SpecOperation;
  exampleName: string;
  /** pack-relative path of the example file */
  exampleFile: string;
  status: string;
  body: unknown;
}

export interface MatchOptions {
  /** restrict to this operationId (case-insensitive) */
  operationId?: string;
  /** request query, for x-ms-paths overloads such as "?overload=cloudEvent" */
  query?: Record<string, string>;
}

interface OpEntry {
  op: SpecOperation;
  raw: JsonObject;
  compiled: CompiledTemplate;
  /** from x-ms-paths "?key=value" */
  queryConstraints: Record<string, string>;
  fromXmsPaths: boolean;
}

const METHODS = ["get", "put", "post", "patch", "delete", "head", "options"];

/** Lenient format checks: known Azure formats are checked loosely, unknown formats always pass. */
const FORMATS: Record<string, { type?: "string" | "number"; validate: RegExp | ((x: never) => boolean) }> = {
  int32: { type: "number", validate: (x: number) => Number.isInteger(x) && x >= -2147483648 && x <= 2147483647 },
  int64: { type: "number", validate: (x: number) => Number.isInteger(x) },
  unixtime: { type: "number", validate: (x: number) => Number.isFinite(x) },
  float: { type: "number", validate: () => true },
  double: { type: "number", validate: () => true },
  decimal: { type: "number", validate: () => true },
  "date-time": {
    type: "string",
    validate: /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/,
  },
  "date-time-rfc1123": { type: "string", validate: /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/ },
  date: { type: "string", validate: /^\d{4}-\d{2}-\d{2}$/ },
  duration: {
    type: "string",
    // ISO 8601 (P30D, PT1H) or .NET TimeSpan (1.00:00:00)
    validate: /^(-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+(\.\d+)?D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?|-?(\d+\.)?\d{1,2}:\d{2}:\d{2}(\.\d+)?)$/i,
  },
  uuid: { type: "string", validate: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i },
  "arm-id": { type: "string", validate: /^\S*$/ },
  byte: { type: "string", validate: /^[A-Za-z0-9+/]*={0,2}$/ },
  base64url: { type: "string", validate: /^[A-Za-z0-9_-]*={0,2}$/ },
  uri: { type: "string", validate: /^\S+$/ },
  url: { type: "string", validate: /^\S+$/ },
};

export class SpecIndex {
  readonly source: SpecSource;
  /** all operations in every swagger file loaded */
  readonly operations: SpecOperation[] = [];
  /** problems found while loading (unparseable INDEX rows, unresolvable refs, ...) */
  readonly problems: string[] = [];
  /** milliseconds spent building the index */
  loadMs = 0;

  private readonly entries: OpEntry[] = [];
  private readonly byOp = new Map<SpecOperation, OpEntry>();
  private readonly docs = new Map<string, SpecDoc>();
  private readonly converter: SwaggerConverter;
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction | null>();
  private listedCache: SpecOperation[] | undefined;

  /** Every swagger file of a pack directory (examples excluded). */
  static fromPack(root: string): SpecIndex {
    const t0 = performance.now();
    const docs: SpecDoc[] = [];
    for (const rel of listJsonFiles(root)) {
      if (rel.split(path.sep).includes("examples")) continue;
      const json: unknown = JSON.parse(fs.readFileSync(path.join(root, rel), "utf8"));
      if (isObject(json) && json.swagger === "2.0") docs.push({ rel, json });
    }
    return new SpecIndex(docs, { kind: "pack", root }, t0);
  }

  /** The pruned swagger files of a spec extraction (no pack needed). */
  static fromExtraction(x: SpecExtraction, file = "(in memory)"): SpecIndex {
    const t0 = performance.now();
    const docs = Object.entries(x.specs).map(([rel, json]) => ({ rel: rel.split("/").join(path.sep), json: structuredClone(json) }));
    return new SpecIndex(docs, { kind: "extraction", file, comment: x.$comment }, t0);
  }

  private constructor(docs: SpecDoc[], source: SpecSource, t0: number) {
    this.source = source;
    for (const d of docs) if (d.json.swagger === "2.0") this.docs.set(d.rel, d);
    // $refs resolve between the documents' relative paths; an extraction has no directory, so give it a virtual one.
    this.converter = new SwaggerConverter([...this.docs.values()], source.kind === "pack" ? source.root : path.parse(process.cwd()).root);
    this.ajv = new Ajv2020({
      strict: false,
      allErrors: true,
      unicodeRegExp: false,
      validateSchema: false,
      logger: false,
    });
    for (const doc of this.docs.values()) this.ajv.addSchema(this.converter.fileSchema(doc));
    for (const [name, f] of Object.entries(FORMATS)) {
      const validate = f.validate as RegExp | ((x: unknown) => boolean);
      this.ajv.addFormat(name, f.type === "number" ? { type: "number", validate: validate as (x: number) => boolean } : { type: "string", validate: validate as RegExp });
    }
    for (const fmt of this.converter.formats) if (!(fmt in FORMATS)) this.ajv.addFormat(fmt, true);
    for (const doc of this.docs.values()) this.indexOperations(doc);
    this.problems.push(...this.converter.problems);
    this.loadMs = performance.now() - t0;
  }

  private indexOperations(doc: SpecDoc): void {
    const j = doc.json;
    const apiVersion = isObject(j.info) && typeof j.info.version === "string" ? j.info.version : "";
    const plane: Plane = j.host === "management.azure.com" ? "arm" : doc.rel.includes(`keyvault${path.sep}data-plane`) ? "keyvault" : "data";
    for (const section of ["paths", "x-ms-paths"] as const) {
      const paths = j[section];
      if (!isObject(paths)) continue;
      for (const [fullTemplate, item] of Object.entries(paths)) {
        if (!isObject(item)) continue;
        const [template = "", qs] = fullTemplate.split("?");
        const queryConstraints: Record<string, string> = {};
        for (const kv of (qs ?? "").split("&")) {
          const [k, v] = kv.split("=");
          if (k && v !== undefined) queryConstraints[k] = v; // value-less ("?disambiguation_dummy") is no constraint
        }
        for (const method of METHODS) {
          const raw = item[method];
          if (!isObject(raw)) continue;
          const multi = new Set<string>();
          const params = [...asArray(item.parameters), ...asArray(raw.parameters)];
          for (const p of params) {
            const pd = this.param(doc.rel, p);
            if (pd && pd.in === "path" && pd["x-ms-skip-url-encoding"] === true && typeof pd.name === "string") multi.add(pd.name);
          }
          const op: SpecOperation = {
            operationId: typeof raw.operationId === "string" ? raw.operationId : `${method.toUpperCase()} ${fullTemplate}`,
            method: method.toUpperCase(),
            pathTemplate: template,
            apiVersion,
            specFile: doc.rel.split(path.sep).join("/"),
            plane,
          };
          const entry: OpEntry = {
            op,
            raw,
            compiled: compileTemplate(template, multi),
            queryConstraints,
            fromXmsPaths: section === "x-ms-paths",
          };
          this.entries.push(entry);
          this.byOp.set(op, entry);
          this.operations.push(op);
        }
      }
    }
  }

  private param(rel: string, p: unknown): JsonObject | undefined {
    if (!isObject(p)) return undefined;
    if (typeof p.$ref === "string") {
      try {
        const t = this.converter.deref(rel, p.$ref);
        return isObject(t.value) ? t.value : undefined;
      } catch (e) {
        this.problems.push(String(e));
        return undefined;
      }
    }
    return p;
  }

  /**
   * Finds the spec operation for a request. Among matching path templates the most specific wins
   * (most literal segments, then fewest segments swallowed by {scope}-like params); among api-versions
   * of that operation: the exact one, else the newest older one, else the oldest newer one.
   */
  findOperation(method: string, requestPath: string, apiVersion?: string, opts: MatchOptions = {}): SpecOperation | undefined {
    return this.matchRequest(method, requestPath, apiVersion, opts)?.operation;
  }

  /** Like findOperation, also returning the path parameters ({scope} values start with "/"; "/" for the root scope). */
  matchRequest(method: string, requestPath: string, apiVersion?: string, opts: MatchOptions = {}): { operation: SpecOperation; params: Record<string, string> } | undefined {
    const segs = splitPath(requestPath);
    const query = { ...parseQuery(requestPath), ...(opts.query ?? {}) };
    const m = method.toUpperCase();
    const wanted = opts.operationId?.toLowerCase();
    type Cand = { e: OpEntry; literals: number; swallowed: number; constraints: number; params: Record<string, string> };
    const cands: Cand[] = [];
    for (const e of this.entries) {
      if (e.op.method !== m) continue;
      if (wanted && e.op.operationId.toLowerCase() !== wanted) continue;
      const cs = Object.entries(e.queryConstraints);
      if (cs.some(([k, v]) => query[k]?.toLowerCase() !== v.toLowerCase())) continue;
      const match = matchTemplate(e.compiled, segs);
      if (match) cands.push({ e, literals: match.literals, swallowed: match.swallowed, constraints: cs.length, params: match.params });
    }
    if (cands.length === 0) return undefined;
    cands.sort(
      (a, b) =>
        b.constraints - a.constraints ||
        b.literals - a.literals ||
        a.swallowed - b.swallowed ||
        Number(a.e.fromXmsPaths) - Number(b.e.fromXmsPaths),
    );
    const top = cands[0] as Cand;
    const same = cands.filter((c) => c.e.compiled.shape === top.e.compiled.shape && c.constraints === top.constraints && c.e.fromXmsPaths === top.e.fromXmsPaths);
    const operation = pickVersion(
      same.map((c) => c.e.op),
      apiVersion,
    );
    const chosen = same.find((c) => c.e.op === operation) ?? top;
    return { operation: chosen.e.op, params: chosen.params };
  }

  /** Validates one recorded exchange (request line + response status/body) against the spec. */
  validateResponse(x: Exchange): ValidationResult {
    const query = { ...parseQuery(x.path), ...x.query };
    const requestedApiVersion = query["api-version"];
    const opts: MatchOptions = { query };
    if (x.operationId) opts.operationId = x.operationId;
    const operation = this.findOperation(x.method, x.path, requestedApiVersion, opts);
    const base: ValidationResult = { ok: false, errors: [] };
    if (requestedApiVersion !== undefined) base.requestedApiVersion = requestedApiVersion;
    if (!operation) {
      base.errors.push(`no spec operation matches ${x.method.toUpperCase()} ${x.path}${x.operationId ? ` (operationId ${x.operationId})` : ""}`);
      return base;
    }
    base.operation = operation;
    base.versionFallback = requestedApiVersion !== undefined && requestedApiVersion !== operation.apiVersion;
    const r = this.validateBody(operation, x.status, x.responseBody);
    return { ...base, ...r };
  }

  /** Validates a body against `operation`'s response for `status` (falls back to `default` for status >= 400). */
  validateBody(operation: SpecOperation, status: number | string, body: unknown): { ok: boolean; errors: string[]; responseKey?: string } {
    const entry = this.byOp.get(operation);
    if (!entry) return { ok: false, errors: [`operation ${operation.operationId} is not from this SpecIndex`] };
    const responses = isObject(entry.raw.responses) ? entry.raw.responses : {};
    const label = `${operation.operationId} ${status}`;
    let responseKey: string | undefined = String(status) in responses ? String(status) : undefined;
    if (!responseKey) {
      const declared = Object.keys(responses).join(", ");
      if (Number(status) < 400) {
        // `default` in Azure specs describes errors; a success/redirect status must be declared.
        return { ok: false, errors: [`${label}: status ${status} is not declared (declared: ${declared})`] };
      }
      if (!("default" in responses)) {
        return { ok: false, errors: [`${label}: status ${status} is not declared and there is no default response (declared: ${declared})`] };
      }
      responseKey = "default";
    }
    const validate = this.validator(entry, responseKey);
    const empty = body === undefined || body === null || body === "";
    if (validate === null) {
      if (empty) return { ok: true, errors: [], responseKey };
      return { ok: false, errors: [`${label}: the spec declares no response body for ${responseKey}, got ${JSON.stringify(body).slice(0, 80)}`], responseKey };
    }
    if (body === undefined || body === "") return { ok: false, errors: [`${label}: missing response body`], responseKey };
    if (validate(body)) return { ok: true, errors: [], responseKey };
    return { ok: false, errors: formatErrors(label, validate.errors ?? []), responseKey };
  }

  /**
   * Validates `value` against definition `name` of `specFile` (pack-relative, "/"-separated) as a closed model, like a
   * response body. Problems as "<name> <pointer>: <message>" (empty = valid); throws SpecSourceError when the index
   * lacks the file or the definition.
   */
  validateDefinition(specFile: string, name: string, value: unknown): string[] {
    const rel = specFile.split("/").join(path.sep);
    const defs = this.docs.get(rel)?.json.definitions;
    if (!isObject(defs) || !isObject(defs[name])) {
      const where = this.source.kind === "pack" ? this.source.root : this.source.file;
      throw new SpecSourceError(`definition ${name} of ${specFile} is not in ${where}${this.source.kind === "extraction" ? " (extract it in scripts/gen-specs.ts and run npm run gen:specs)" : ""}`);
    }
    const cacheKey = `def|${specFile}|${name}`;
    let v = this.validators.get(cacheKey);
    if (!v) {
      v = this.ajv.compile(this.converter.convert({ $ref: `#/definitions/${name}` }, rel, true) as JsonObject);
      this.validators.set(cacheKey, v);
    }
    return v(value) ? [] : formatErrors(name, v.errors ?? []);
  }

  /** Compiled validator for operation + response key (cached); null when the response has no schema. */
  private validator(entry: OpEntry, responseKey: string): ValidateFunction | null {
    const cacheKey = `${entry.op.specFile}|${entry.op.method}|${entry.op.pathTemplate}|${entry.op.operationId}|${responseKey}`;
    const hit = this.validators.get(cacheKey);
    if (hit !== undefined) return hit;
    const rel = entry.op.specFile.split("/").join(path.sep);
    let resp: unknown = isObject(entry.raw.responses) ? entry.raw.responses[responseKey] : undefined;
    let respRel = rel;
    if (isObject(resp) && typeof resp.$ref === "string") {
      const t = this.converter.deref(rel, resp.$ref);
      resp = t.value;
      respRel = t.rel;
    }
    let v: ValidateFunction | null = null;
    if (isObject(resp) && isObject(resp.schema) && !(resp.schema.type === "file")) {
      v = this.ajv.compile(this.converter.convert(resp.schema, respRel, true) as JsonObject);
    }
    this.validators.set(cacheKey, v);
    return v;
  }

  /** The pack directory; INDEX.md and the example files exist only there, not in an extraction. */
  packRoot(what: string): string {
    if (this.source.kind !== "pack") throw new SpecSourceError(`${what} needs a spec pack directory, but this SpecIndex was built from ${this.source.file}`);
    return this.source.root;
  }

  /** Operations listed in INDEX.md's "Operations" table, resolved against the loaded spec files. */
  listed(): SpecOperation[] {
    if (this.listedCache) return this.listedCache;
    const out: SpecOperation[] = [];
    const md = fs.readFileSync(path.join(this.packRoot("listed()"), "INDEX.md"), "utf8");
    const row = /^\|\s*\d+\s*\|\s*(\S+)[^|]*\|\s*`(\w+) ([^`]+)`\s*\|\s*([^|\s]+)\s*\|\s*`([^`]+)`/;
    for (const line of md.split("\n")) {
      const m = row.exec(line);
      if (!m) continue;
      const [, opId, method, template, version, file] = m as unknown as [string, string, string, string, string, string];
      const op = this.operations.find(
        (o) => o.specFile === file && o.method === method.toUpperCase() && o.pathTemplate.toLowerCase() === template.toLowerCase(),
      );
      if (!op) this.problems.push(`INDEX.md lists ${opId} ${method} ${template} in ${file}, which the file does not define`);
      else {
        if (op.operationId !== opId) this.problems.push(`INDEX.md lists ${opId} but ${file} names it ${op.operationId}`);
        if (op.apiVersion !== version) this.problems.push(`INDEX.md lists ${opId} as ${version} but ${file} says ${op.apiVersion}`);
        if (!out.includes(op)) out.push(op);
      }
    }
    this.listedCache = out;
    return out;
  }

  /** Example responses (x-ms-examples whose file is in the pack) of the INDEX.md operations. */
  examples(): { cases: ExampleCase[]; missing: string[] } {
    const cases: ExampleCase[] = [];
    const missing: string[] = [];
    const root = this.packRoot("examples()");
    for (const op of this.listed()) {
      const entry = this.byOp.get(op) as OpEntry;
      const exs = isObject(entry.raw["x-ms-examples"]) ? entry.raw["x-ms-examples"] : {};
      for (const [exampleName, ref] of Object.entries(exs)) {
        if (!isObject(ref) || typeof ref.$ref !== "string") continue;
        const file = path.join(root, path.dirname(op.specFile), ref.$ref);
        const exampleFile = path.relative(root, file).split(path.sep).join("/");
        if (!fs.existsSync(file)) {
          missing.push(`${op.operationId} ${op.apiVersion}: ${exampleFile}`);
          continue;
        }
        const ex: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
        const responses = isObject(ex) && isObject(ex.responses) ? ex.responses : {};
        for (const [status, r] of Object.entries(responses)) {
          cases.push({ operation: op, exampleName, exampleFile, status, body: isObject(r) ? r.body : undefined });
        }
      }
    }
    return { cases, missing };
  }
}

function pickVersion(ops: SpecOperation[], apiVersion: string | undefined): SpecOperation | undefined {
  const sorted = [...ops].sort((a, b) => compareApiVersions(a.apiVersion, b.apiVersion));
  if (apiVersion === undefined) return sorted[sorted.length - 1];
  const exact = sorted.find((o) => o.apiVersion === apiVersion);
  if (exact) return exact;
  const older = sorted.filter((o) => compareApiVersions(o.apiVersion, apiVersion) < 0);
  return older[older.length - 1] ?? sorted[0];
}

function formatErrors(label: string, errors: ErrorObject[]): string[] {
  const out: string[] = [];
  for (const e of errors) {
    // wrapper noise: the failing branch's own errors say more; "must be null" is the nullable branch
    if (e.keyword === "if" || e.keyword === "anyOf") continue;
    if (e.keyword === "type" && e.params.type === "null") continue;
    const where = e.instancePath || "/";
    let msg = e.message ?? e.keyword;
    if (e.keyword === "unevaluatedProperties") msg = `has property "${String(e.params.unevaluatedProperty)}" that the spec does not declare`;
    if (e.keyword === "enum") msg += `: ${JSON.stringify(e.params.allowedValues)}`;
    const line = `${label} ${where}: ${msg}`;
    if (!out.includes(line)) out.push(line);
  }
  if (out.length === 0) out.push(`${label} /: does not match the schema`);
  return out;
}

function parseQuery(p: string): Record<string, string> {
  const i = p.indexOf("?");
  if (i < 0) return {};
  return Object.fromEntries(new URLSearchParams(p.slice(i + 1)));
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function listJsonFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const d of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, d.name);
      if (d.isDirectory()) walk(rel);
      else if (d.name.endsWith(".json")) out.push(rel);
    }
  };
  walk("");
  return out.sort();
}

const cache = new Map<string, SpecIndex>();

function cached(key: string, build: () => SpecIndex): SpecIndex {
  let idx = cache.get(key);
  if (!idx) {
    idx = build();
    cache.set(key, idx);
  }
  return idx;
}

/**
 * The committed extraction of a pack (cached; the first pack by default): what the fidelity suite validates against,
 * on any machine. The packs stay separate indexes: they hold different revisions of the same common-types files.
 */
export function loadSpecs(pack: SpecPackName = "azure-specs"): SpecIndex {
  const file = extractionFile(pack);
  return cached(`extraction:${file}`, () => SpecIndex.fromExtraction(readExtraction(file), file));
}

/** Every swagger file of a spec pack directory (cached per directory); the pack must be present. */
export function loadSpecPack(root: string = DEFAULT_SPEC_ROOT): SpecIndex {
  const key = path.resolve(root);
  return cached(`pack:${key}`, () => SpecIndex.fromPack(key));
}

/** Every operation INDEX.md's table lists, as found in the pack's files (both versions where two exist). */
export function listSpecOperations(root: string = DEFAULT_SPEC_ROOT): SpecOperation[] {
  return loadSpecPack(root).listed();
}
