/**
 * The committed extraction of the official REST specs: the spec files and operations the fidelity suite validates
 * against, pruned to schema facts (paths, methods, operationIds, api-versions, path parameters, response status keys
 * and schemas). Each extracted file keeps its pack-relative path and its swagger dialect, so the validator builds the
 * same SpecIndex from it as from the pack, without the pack beside the repository.
 *
 * `npm run gen:specs` (scripts/gen-specs.ts) writes it; the drift test regenerates it in memory and compares.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SCHEMA_KEYWORDS, isObject, type JsonObject } from "./swaggerSchema.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export type SpecPackName = "azure-specs" | "azure-specs-more";

/** Where each pack lives (CI clones the repo beside `shared/`) and which environment variable overrides it. */
const PACKS: Record<SpecPackName, { env: string; extraction: string }> = {
  "azure-specs": { env: "KEYWARDEN_AZURE_SPECS_DIR", extraction: "extract.json" },
  "azure-specs-more": { env: "KEYWARDEN_AZURE_SPECS_MORE_DIR", extraction: "extract-more.json" },
};

export function specPackDir(name: SpecPackName): string {
  const override = process.env[PACKS[name].env];
  return override ? path.resolve(override) : path.resolve(REPO_ROOT, "..", "shared", name);
}

export function specPackEnv(name: SpecPackName): string {
  return PACKS[name].env;
}

export function extractionFile(name: SpecPackName): string {
  return path.resolve(REPO_ROOT, "test", "fixtures", "azure-specs", PACKS[name].extraction);
}

/** A pack is present when its INDEX.md and specification/ folder are. */
export function specPackPresent(dir: string): boolean {
  return fs.existsSync(path.join(dir, "INDEX.md")) && fs.existsSync(path.join(dir, "specification"));
}

export interface ExtractedFileSource {
  sha256: string;
  /** the INDEX.md manifest's source column for the file ("fork a977c730fd", "index b85c970dd1"), if listed */
  origin?: string;
}

export interface SpecExtraction {
  $comment: string;
  source: {
    pack: SpecPackName;
    repository: "Azure/azure-rest-api-specs";
    /** the commit INDEX.md names for the pack, when it names one */
    indexCommit?: string;
    /** SHA-256 over "<path> <sha256 of the file>\n" of every source file used, in path order */
    sha256: string;
    files: Record<string, ExtractedFileSource>;
  };
  /** pack-relative path → the pruned swagger document */
  specs: Record<string, JsonObject>;
}

/** An operation of a pack file, as the selection sees it. */
export interface OperationRef {
  specFile: string;
  /** the `paths`/`x-ms-paths` key, query overload included */
  pathKey: string;
  method: string;
  operationId: string;
}

/** A definition extracted by name, whether or not a selected operation reaches it (definitions-only files). */
export interface DefinitionRef {
  /** pack-relative path, "/"-separated */
  specFile: string;
  name: string;
}

export class SpecExtractionError extends Error {
  override readonly name = "SpecExtractionError";
}

const METHODS = ["get", "put", "post", "patch", "delete", "head", "options"];
/** Keywords whose value is one schema, or (allOf/anyOf/oneOf) a list of schemas. */
const SCHEMA_VALUED = new Set(["additionalProperties", "items", "not", "allOf", "anyOf", "oneOf"]);
const PATH_PARAM_KEYS = ["in", "name", "required", "type", "x-ms-skip-url-encoding"];

/** Every swagger 2.0 file of a pack (examples excluded), by "/"-separated pack-relative path, in path order. */
export function readPackDocs(dir: string): Map<string, JsonObject> {
  const docs = new Map<string, JsonObject>();
  const walk = (rel: string): void => {
    const entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of entries) {
      const child = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        if (d.name !== "examples") walk(child);
      } else if (d.name.endsWith(".json")) {
        const json: unknown = JSON.parse(fs.readFileSync(path.join(dir, child), "utf8"));
        if (isObject(json) && json.swagger === "2.0") docs.set(child, json);
      }
    }
  };
  walk("");
  return new Map([...docs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Every operation of the pack's files. */
export function packOperations(docs: ReadonlyMap<string, JsonObject>): OperationRef[] {
  const out: OperationRef[] = [];
  for (const [specFile, json] of docs) {
    for (const section of ["paths", "x-ms-paths"] as const) {
      const paths = json[section];
      if (!isObject(paths)) continue;
      for (const [pathKey, item] of Object.entries(paths)) {
        if (!isObject(item)) continue;
        for (const method of METHODS) {
          const op = item[method];
          if (!isObject(op)) continue;
          out.push({ specFile, pathKey, method: method.toUpperCase(), operationId: typeof op.operationId === "string" ? op.operationId : `${method.toUpperCase()} ${pathKey}` });
        }
      }
    }
  }
  return out;
}

/** Resolves a `$ref` in file `fromRel` to (file, pointer segments); both pack-relative and "/"-separated. */
function resolveRef(fromRel: string, ref: string): { rel: string; pointer: string[] } {
  const hash = ref.indexOf("#");
  const filePart = hash < 0 ? ref : ref.slice(0, hash);
  const frag = hash < 0 ? "" : ref.slice(hash + 1);
  const rel = filePart ? path.posix.normalize(path.posix.join(path.posix.dirname(fromRel), filePart)) : fromRel;
  const pointer = frag
    .split("/")
    .slice(1)
    .map((s) => decodeURIComponent(s).replace(/~1/g, "/").replace(/~0/g, "~"));
  return { rel, pointer };
}

class Extractor {
  private readonly out = new Map<string, JsonObject>();
  /** "<file>#<definition>" already copied */
  private readonly copied = new Set<string>();
  /** discriminated base "<file>#<definition>" → definitions deriving from it (transitively, through allOf) */
  private readonly derived = new Map<string, string[]>();

  constructor(private readonly docs: ReadonlyMap<string, JsonObject>) {
    this.buildHierarchy();
  }

  private doc(rel: string, from: string): JsonObject {
    const d = this.docs.get(rel);
    if (!d) throw new SpecExtractionError(`${from}: file ${rel} is not in the pack`);
    return d;
  }

  /** The output document for a file: swagger version, api-version and host (the validator derives the plane from it). */
  private target(rel: string): JsonObject {
    let t = this.out.get(rel);
    if (!t) {
      const src = this.doc(rel, rel);
      t = { swagger: "2.0", info: { version: isObject(src.info) ? src.info.version : undefined } };
      if (typeof src.host === "string") t.host = src.host;
      this.out.set(rel, t);
    }
    return t;
  }

  private section(rel: string, name: string): JsonObject {
    const t = this.target(rel);
    const s = isObject(t[name]) ? t[name] : {};
    t[name] = s;
    return s;
  }

  private deref(fromRel: string, ref: string): { rel: string; pointer: string[]; value: unknown } {
    const { rel, pointer } = resolveRef(fromRel, ref);
    let cur: unknown = this.doc(rel, `$ref ${ref} in ${fromRel}`);
    for (const seg of pointer) cur = isObject(cur) || Array.isArray(cur) ? (cur as Record<string, unknown>)[seg] : undefined;
    if (cur === undefined) throw new SpecExtractionError(`$ref ${ref} in ${fromRel}: unresolved`);
    return { rel, pointer, value: cur };
  }

  /** Copies a definition (and all it references, and every model deriving from a discriminated base) once. */
  private copyDefinition(rel: string, name: string): void {
    const k = `${rel}#${name}`;
    if (this.copied.has(k)) return;
    this.copied.add(k);
    const defs = this.doc(rel, k).definitions;
    const def = isObject(defs) ? defs[name] : undefined;
    if (def === undefined) throw new SpecExtractionError(`definition ${name} is not in ${rel}`);
    this.section(rel, "definitions")[name] = this.schema(def, rel);
    // The validator dispatches a discriminated base to every model deriving from it, wherever that model is defined.
    for (const d of this.derived.get(k) ?? []) {
      const i = d.indexOf("#");
      this.copyDefinition(d.slice(0, i), d.slice(i + 1));
    }
  }

  /** A schema reduced to the keywords the converter reads; every definition it references is copied. */
  schema(node: unknown, rel: string): unknown {
    if (Array.isArray(node)) return node.map((n) => this.schema(n, rel));
    if (!isObject(node)) return node;
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") {
        const { rel: tRel, pointer } = resolveRef(rel, v);
        if (pointer[0] !== "definitions" || pointer[1] === undefined) throw new SpecExtractionError(`$ref ${v} in ${rel}: only #/definitions/... refs are extracted`);
        this.deref(rel, v); // fails loudly on an unresolvable ref
        this.copyDefinition(tRel, pointer[1]);
        out.$ref = v;
      } else if (k === "properties" && isObject(v)) {
        out.properties = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, this.schema(s, rel)]));
      } else if (SCHEMA_VALUED.has(k)) {
        out[k] = typeof v === "boolean" ? v : this.schema(v, rel);
      } else if (k === "x-ms-enum" && isObject(v)) {
        // name and modelAsString are facts; the values' descriptions are prose
        const e: JsonObject = {};
        if (v.name !== undefined) e.name = v.name;
        if (v.modelAsString !== undefined) e.modelAsString = v.modelAsString;
        out[k] = e;
      } else if (SCHEMA_KEYWORDS.has(k)) {
        out[k] = v;
      }
    }
    return out;
  }

  /** A path parameter's facts; a body parameter's name, required and schema only when `keepBody` (request-body checks). */
  private parameter(p: unknown, rel: string, where: string, keepBody: boolean): JsonObject | undefined {
    let param = p;
    let paramRel = rel;
    if (isObject(p) && typeof p.$ref === "string") {
      const t = this.deref(rel, p.$ref);
      param = t.value;
      paramRel = t.rel;
    }
    if (!isObject(param)) throw new SpecExtractionError(`${where}: a parameter is not an object`);
    if (param.in === "body" && keepBody) {
      if (paramRel !== rel) throw new SpecExtractionError(`${where}: its body parameter is defined in ${paramRel}; only body parameters of the operation's own file are extracted`);
      const body: JsonObject = { in: "body", name: param.name, schema: this.schema(param.schema, rel) };
      if (param.required !== undefined) body.required = param.required;
      return body;
    }
    if (param.in !== "path") return undefined;
    return Object.fromEntries(PATH_PARAM_KEYS.filter((k) => param[k] !== undefined).map((k) => [k, param[k]]));
  }

  private response(r: unknown, rel: string, where: string): JsonObject {
    if (isObject(r) && typeof r.$ref === "string") {
      // Keep the reference: the response's schema refs are relative to the file that defines it.
      const t = this.deref(rel, r.$ref);
      if (t.pointer.length !== 2 || t.pointer[0] !== "responses") throw new SpecExtractionError(`${where}: response $ref ${r.$ref} is not #/responses/<name>`);
      this.section(t.rel, "responses")[t.pointer[1] as string] = this.response(t.value, t.rel, `${where} (${r.$ref})`);
      return { $ref: r.$ref };
    }
    if (!isObject(r)) throw new SpecExtractionError(`${where}: a response is not an object`);
    return isObject(r.schema) ? { schema: this.schema(r.schema, rel) } : {};
  }

  operation(ref: OperationRef, keepBody = false): void {
    const src = this.doc(ref.specFile, ref.specFile);
    const section = isObject(src.paths) && isObject(src.paths[ref.pathKey]) ? "paths" : "x-ms-paths";
    const item = (src[section] as JsonObject)[ref.pathKey] as JsonObject;
    const op = item[ref.method.toLowerCase()] as JsonObject;
    const where = `${ref.operationId} ${ref.method} ${ref.pathKey} (${ref.specFile})`;
    const params = [...(Array.isArray(item.parameters) ? item.parameters : []), ...(Array.isArray(op.parameters) ? op.parameters : [])]
      .map((p) => this.parameter(p, ref.specFile, where, keepBody))
      .filter((p): p is JsonObject => p !== undefined);
    const responses = isObject(op.responses) ? op.responses : {};
    const out: JsonObject = {
      parameters: params,
      responses: Object.fromEntries(Object.entries(responses).map(([status, r]) => [status, this.response(r, ref.specFile, `${where} ${status}`)])),
    };
    if (typeof op.operationId === "string") out.operationId = op.operationId;
    const paths = this.section(ref.specFile, section);
    const target = isObject(paths[ref.pathKey]) ? paths[ref.pathKey] as JsonObject : {};
    target[ref.method.toLowerCase()] = out;
    paths[ref.pathKey] = target;
  }

  /** Copies a named definition (and everything it references), for files or models no selected operation reaches. */
  definition(ref: DefinitionRef): void {
    if (!this.docs.has(ref.specFile)) throw new SpecExtractionError(`definition ${ref.name}: file ${ref.specFile} is not in the pack`);
    this.copyDefinition(ref.specFile, ref.name);
  }

  private buildHierarchy(): void {
    const parents = new Map<string, string[]>();
    const discriminated = new Set<string>();
    for (const [rel, json] of this.docs) {
      if (!isObject(json.definitions)) continue;
      for (const [name, def] of Object.entries(json.definitions)) {
        if (isObject(def) && typeof def.discriminator === "string") discriminated.add(`${rel}#${name}`);
        const ps: string[] = [];
        if (isObject(def) && Array.isArray(def.allOf)) {
          for (const m of def.allOf) {
            if (!isObject(m) || typeof m.$ref !== "string") continue;
            const { rel: pRel, pointer } = resolveRef(rel, m.$ref);
            if (pointer.length === 2 && pointer[0] === "definitions") ps.push(`${pRel}#${pointer[1]}`);
          }
        }
        parents.set(`${rel}#${name}`, ps);
      }
    }
    for (const d of parents.keys()) {
      const seen = new Set<string>();
      const stack = [...(parents.get(d) ?? [])];
      while (stack.length) {
        const p = stack.pop() as string;
        if (seen.has(p)) continue;
        seen.add(p);
        if (discriminated.has(p)) {
          const list = this.derived.get(p) ?? [];
          list.push(d);
          this.derived.set(p, list);
        }
        stack.push(...(parents.get(p) ?? []));
      }
    }
  }

  result(): Record<string, JsonObject> {
    const rels = [...this.out.keys()].sort();
    return Object.fromEntries(rels.map((r) => [r, this.out.get(r) as JsonObject]));
  }
}

/** The INDEX.md facts the header names: the pack's stated commit and each file's source column. */
function indexFacts(dir: string): { commit?: string; origins: Map<string, string> } {
  const md = fs.readFileSync(path.join(dir, "INDEX.md"), "utf8");
  const commit = /\bcommit `([0-9a-f]{40})`/.exec(md)?.[1];
  const origins = new Map<string, string>();
  for (const m of md.matchAll(/^\|\s*`([^`]+\.json)`\s*\|\s*\d+\s*\|\s*([^|]+?)\s*\|\s*$/gm)) {
    const [, rel, origin] = m as unknown as [string, string, string];
    origins.set(rel, origin.replace(/`/g, ""));
  }
  return commit ? { commit, origins } : { origins };
}

/**
 * Extracts the operations `select` picks from the pack at `dir`, and the `definitions` named (with all they
 * reference); the operations `withBody` picks also keep their request body parameter (the ARM template tests
 * validate resource bodies against it). Throws when a selected operation, a named definition or a reference cannot
 * be resolved, naming it.
 */
export function buildExtraction(
  dir: string,
  pack: SpecPackName,
  select: (op: OperationRef) => boolean,
  definitions: readonly DefinitionRef[] = [],
  withBody: (op: OperationRef) => boolean = () => false,
): SpecExtraction {
  const docs = readPackDocs(dir);
  const x = new Extractor(docs);
  const picked = packOperations(docs).filter(select);
  if (picked.length === 0) throw new SpecExtractionError(`${dir}: the selection picks no operation of pack ${pack}`);
  for (const op of picked) x.operation(op, withBody(op));
  for (const d of definitions) x.definition(d);
  const specs = x.result();
  const facts = indexFacts(dir);
  const files: Record<string, ExtractedFileSource> = {};
  const lines: string[] = [];
  for (const rel of Object.keys(specs)) {
    const sha256 = createHash("sha256").update(fs.readFileSync(path.join(dir, rel))).digest("hex");
    lines.push(`${rel} ${sha256}\n`);
    const origin = facts.origins.get(rel);
    files[rel] = origin ? { sha256, origin } : { sha256 };
  }
  const sha256 = createHash("sha256").update(lines.join("")).digest("hex");
  const identity = facts.commit
    ? `Azure/azure-rest-api-specs@${facts.commit} (as INDEX.md states; files marked "index" come from later revisions), files sha256:${sha256}`
    : `files sha256:${sha256} (INDEX.md states no single commit)`;
  const source: SpecExtraction["source"] = { pack, repository: "Azure/azure-rest-api-specs", sha256, files };
  if (facts.commit) source.indexCommit = facts.commit;
  return {
    $comment: `generated by npm run gen:specs from ${pack} @ ${identity} — do not edit`,
    source,
    specs,
  };
}

/** Stable JSON: keys sorted at every level (array order kept), two-space indent, trailing newline. */
export function renderExtraction(x: SpecExtraction): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (!isObject(v)) return v;
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sort(v[k])]),
    );
  };
  return `${JSON.stringify(sort(x), null, 1)}\n`;
}

export function readExtraction(file: string): SpecExtraction {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new SpecExtractionError(`${file}: cannot read the spec extraction (${(e as Error).message}); regenerate it with npm run gen:specs`);
  }
  if (!isObject(json) || !isObject(json.specs) || !isObject(json.source) || typeof json.$comment !== "string") {
    throw new SpecExtractionError(`${file}: not a spec extraction (expected $comment, source and specs); regenerate it with npm run gen:specs`);
  }
  return json as unknown as SpecExtraction;
}
