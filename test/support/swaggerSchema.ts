/**
 * Swagger 2.0 (Azure "autorest" dialect) -> JSON Schema draft 2020-12 conversion.
 *
 * Every spec file becomes one ajv schema document with `$id = fileId(relPath)` and, per
 * swagger definition `X`, three `$defs` entries:
 *   - `X~open`   the model itself, never closed; used as an `allOf` inheritance target so that
 *                derived models can add properties.
 *   - `X~closed` `X~open` plus `unevaluatedProperties: false` when the model (with its allOf
 *                ancestors) declares `properties` and no `additionalProperties` anywhere.
 *   - `X`        what a plain `$ref` to the model means: `X~closed`, or for a polymorphic base
 *                (swagger `discriminator`) an if/then/else chain that dispatches on the
 *                discriminator value to the closed form of every model deriving from it
 *                (`x-ms-discriminator-value`, default: the definition name).
 */
import path from "node:path";

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export const SCHEMA_BASE = "https://keywarden.local/azure-specs/";

export function fileId(relPath: string): string {
  return SCHEMA_BASE + relPath.split(path.sep).join("/");
}

function escapePointerSegment(s: string): string {
  return encodeURIComponent(s.replace(/~/g, "~0").replace(/\//g, "~1"));
}

export function defRef(relPath: string, name: string, form: "" | "open" | "closed"): string {
  return `${fileId(relPath)}#/$defs/${escapePointerSegment(form ? `${name}~${form}` : name)}`;
}

/** A loaded spec file: path relative to the pack root, and its parsed JSON. */
export interface SpecDoc {
  rel: string;
  json: JsonObject;
}

interface DefKey {
  rel: string;
  name: string;
}

const KEEP_KEYWORDS = new Set([
  "type",
  "enum",
  "required",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "uniqueItems",
  "multipleOf",
  "minProperties",
  "maxProperties",
  "readOnly",
  "const",
]);

/**
 * Every schema keyword this converter reads besides `$ref`, `properties` and the schema-valued ones (`items`,
 * `additionalProperties`, `allOf`, `anyOf`, `oneOf`, `not`). The spec extraction (specExtraction.ts) keeps exactly
 * these, so a schema converts the same from the extraction as from the pack.
 */
export const SCHEMA_KEYWORDS: ReadonlySet<string> = new Set([
  ...KEEP_KEYWORDS,
  "format",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "discriminator",
  "x-ms-discriminator-value",
  "x-nullable",
  "x-ms-mutability",
  "x-ms-enum",
]);

/** Converts swagger schemas of a whole pack; holds the cross-file definition graph. */
export class SwaggerConverter {
  readonly formats = new Set<string>();
  readonly problems: string[] = [];
  private readonly docs = new Map<string, SpecDoc>();
  private readonly closableCache = new Map<string, { props: boolean; addl: boolean }>();
  /** base definition key -> derived definitions (transitive) */
  private readonly derived = new Map<string, DefKey[]>();

  constructor(
    docs: SpecDoc[],
    private readonly root: string,
  ) {
    for (const d of docs) this.docs.set(d.rel, d);
    this.buildHierarchy();
  }

  /** Resolves `$ref` text found in file `fromRel` to (file, JSON pointer segments). */
  resolveRef(fromRel: string, ref: string): { rel: string; pointer: string[] } {
    const hash = ref.indexOf("#");
    const filePart = hash < 0 ? ref : ref.slice(0, hash);
    const frag = hash < 0 ? "" : ref.slice(hash + 1);
    const rel = filePart
      ? path.relative(this.root, path.resolve(this.root, path.dirname(fromRel), filePart))
      : fromRel;
    const pointer = frag
      .split("/")
      .slice(1)
      .map((s) => decodeURIComponent(s).replace(/~1/g, "/").replace(/~0/g, "~"));
    return { rel, pointer };
  }

  /** Follows a JSON-pointer ref to its target value. */
  deref(fromRel: string, ref: string): { rel: string; value: unknown } {
    const { rel, pointer } = this.resolveRef(fromRel, ref);
    const doc = this.docs.get(rel);
    if (!doc) throw new Error(`$ref ${ref} in ${fromRel}: file ${rel} is not in the pack`);
    let cur: unknown = doc.json;
    for (const seg of pointer) {
      if (!isObject(cur) && !Array.isArray(cur)) throw new Error(`$ref ${ref} in ${fromRel}: unresolved`);
      cur = (cur as Record<string, unknown>)[seg];
    }
    if (cur === undefined) throw new Error(`$ref ${ref} in ${fromRel}: unresolved`);
    return { rel, value: cur };
  }

  private defKeyOfRef(fromRel: string, ref: string): DefKey | undefined {
    const { rel, pointer } = this.resolveRef(fromRel, ref);
    if (pointer.length === 2 && pointer[0] === "definitions" && pointer[1] !== undefined) return { rel, name: pointer[1] };
    return undefined;
  }

  private definition(k: DefKey): JsonObject | undefined {
    const defs = this.docs.get(k.rel)?.json.definitions;
    if (!isObject(defs)) return undefined;
    const d = defs[k.name];
    return isObject(d) ? d : undefined;
  }

  private buildHierarchy(): void {
    // direct parents via allOf $ref
    const parents = new Map<string, DefKey[]>();
    const all: DefKey[] = [];
    for (const doc of this.docs.values()) {
      const defs = doc.json.definitions;
      if (!isObject(defs)) continue;
      for (const [name, def] of Object.entries(defs)) {
        if (!isObject(def)) continue;
        const me = { rel: doc.rel, name };
        all.push(me);
        const ps: DefKey[] = [];
        if (Array.isArray(def.allOf)) {
          for (const m of def.allOf) {
            if (isObject(m) && typeof m.$ref === "string") {
              const k = this.defKeyOfRef(doc.rel, m.$ref);
              if (k) ps.push(k);
            }
          }
        }
        parents.set(key(me), ps);
      }
    }
    for (const d of all) {
      const seen = new Set<string>();
      const stack = [...(parents.get(key(d)) ?? [])];
      while (stack.length) {
        const p = stack.pop() as DefKey;
        const pk = key(p);
        if (seen.has(pk)) continue;
        seen.add(pk);
        const pd = this.definition(p);
        if (pd && typeof pd.discriminator === "string") {
          const list = this.derived.get(pk) ?? [];
          list.push(d);
          this.derived.set(pk, list);
        }
        stack.push(...(parents.get(pk) ?? []));
      }
    }
  }

  /** Does this schema (with its allOf ancestors) declare properties / additionalProperties? */
  private shape(node: JsonObject, rel: string, seen = new Set<string>()): { props: boolean; addl: boolean } {
    let props = isObject(node.properties) && Object.keys(node.properties).length > 0;
    let addl = node.additionalProperties !== undefined && node.additionalProperties !== false;
    if (Array.isArray(node.allOf)) {
      for (const m of node.allOf) {
        if (!isObject(m)) continue;
        let s: { props: boolean; addl: boolean };
        if (typeof m.$ref === "string") {
          s = this.refShape(rel, m.$ref, seen);
        } else {
          s = this.shape(m, rel, seen);
        }
        props ||= s.props;
        addl ||= s.addl;
      }
    }
    return { props, addl };
  }

  private refShape(rel: string, ref: string, seen: Set<string>): { props: boolean; addl: boolean } {
    const { rel: tRel, value } = this.deref(rel, ref);
    const k = `${tRel}#${ref.slice(ref.indexOf("#"))}`;
    const cached = this.closableCache.get(k);
    if (cached) return cached;
    if (seen.has(k) || !isObject(value)) return { props: false, addl: false };
    seen.add(k);
    const s = this.shape(value, tRel, seen);
    this.closableCache.set(k, s);
    return s;
  }

  /**
   * Converts one schema node.
   * @param closeable false for allOf members (inheritance targets): those must stay open so
   *   that the model composing them can close itself with unevaluatedProperties.
   */
  convert(node: unknown, rel: string, closeable = true): unknown {
    if (typeof node === "boolean") return node;
    if (!isObject(node)) return {};
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(node)) {
      switch (k) {
        case "$ref": {
          if (typeof v !== "string") break;
          const dk = this.defKeyOfRef(rel, v);
          if (dk) {
            out.$ref = defRef(dk.rel, dk.name, closeable ? "" : "open");
          } else {
            // Not a definition (deep pointer): inline the converted target.
            const t = this.deref(rel, v);
            Object.assign(out, { allOf: [this.convert(t.value, t.rel, closeable)] });
          }
          break;
        }
        case "properties":
          if (isObject(v)) {
            const required = Array.isArray(node.required) ? node.required : [];
            out.properties = Object.fromEntries(
              Object.entries(v).map(([pk, pv]) => {
                const converted = this.convert(pv, rel, true);
                // Azure model validation (oav nullableTransformer): an optional property accepts null
                // unless it (or the model it references) says x-nullable: false.
                const optionalNullable = !required.includes(pk) && this.xNullable(pv, rel) === undefined;
                return [pk, optionalNullable ? { anyOf: [{ type: "null" }, converted] } : converted];
              }),
            );
          }
          break;
        case "additionalProperties":
          if (v === true || isObject(v)) out.additionalProperties = v === true ? true : this.convert(v, rel, true);
          // `false`: closed; expressed through unevaluatedProperties below.
          break;
        case "items":
          out.items = Array.isArray(v) ? { anyOf: v.map((i) => this.convert(i, rel, true)) } : this.convert(v, rel, true);
          break;
        case "allOf":
          if (Array.isArray(v)) out.allOf = [...((out.allOf as unknown[]) ?? []), ...v.map((m) => this.convert(m, rel, false))];
          break;
        case "anyOf":
        case "oneOf":
          if (Array.isArray(v)) out[k] = v.map((m) => this.convert(m, rel, closeable));
          break;
        case "not":
          out.not = this.convert(v, rel, true);
          break;
        case "type":
          if (v === "file") break;
          out.type = v;
          break;
        case "format":
          if (typeof v === "string") {
            this.formats.add(v);
            out.format = v;
          }
          break;
        case "required":
          // A property whose x-ms-mutability lacks "read" (e.g. ["create"]) is never returned by the
          // service, so it cannot be required in a response.
          if (Array.isArray(v)) out.required = v.filter((r) => !(typeof r === "string" && this.writeOnly(node, r)));
          break;
        case "exclusiveMinimum":
        case "exclusiveMaximum": {
          // draft-04 boolean form -> 2020 numeric form
          const bound = k === "exclusiveMinimum" ? "minimum" : "maximum";
          if (v === true && typeof node[bound] === "number") out[k] = node[bound];
          else if (typeof v === "number") out[k] = v;
          break;
        }
        default:
          if (KEEP_KEYWORDS.has(k)) out[k] = v;
      }
    }
    if (out.exclusiveMinimum !== undefined) delete out.minimum;
    if (out.exclusiveMaximum !== undefined) delete out.maximum;
    // oav pureObjectTransformer: `type: object` with no properties/additionalProperties means "any".
    if (out.type === "object" && out.properties === undefined && node.additionalProperties === undefined && out.allOf === undefined) {
      delete out.type;
    }
    if (closeable && (out.properties !== undefined || out.allOf !== undefined)) {
      const s = this.shape(node, rel);
      if ((s.props || node.additionalProperties === false) && !s.addl) out.unevaluatedProperties = false;
    } else if (closeable && node.additionalProperties === false) {
      out.unevaluatedProperties = false;
    }
    if (node["x-nullable"] === true) return { anyOf: [{ type: "null" }, out] };
    return out;
  }

  /** x-nullable of a schema, looking through a $ref. */
  private xNullable(node: unknown, rel: string): boolean | undefined {
    if (!isObject(node)) return undefined;
    if (typeof node["x-nullable"] === "boolean") return node["x-nullable"];
    if (typeof node.$ref === "string") {
      const t = this.deref(rel, node.$ref);
      if (isObject(t.value) && typeof t.value["x-nullable"] === "boolean") return t.value["x-nullable"];
    }
    return undefined;
  }

  private writeOnly(node: JsonObject, prop: string): boolean {
    const p = isObject(node.properties) ? node.properties[prop] : undefined;
    const m = isObject(p) ? p["x-ms-mutability"] : undefined;
    return Array.isArray(m) && !m.includes("read");
  }

  /** Builds the ajv document for one spec file. */
  fileSchema(doc: SpecDoc): JsonObject {
    const $defs: JsonObject = {};
    const defs = isObject(doc.json.definitions) ? doc.json.definitions : {};
    for (const [name, def] of Object.entries(defs)) {
      const open = this.convert(def, doc.rel, false);
      $defs[`${name}~open`] = open;
      const shape = isObject(def) ? this.shape(def, doc.rel) : { props: false, addl: false };
      const closedForm: JsonObject = { $ref: defRef(doc.rel, name, "open") };
      const explicitlyClosed = isObject(def) && def.additionalProperties === false;
      if ((shape.props || explicitlyClosed) && !shape.addl) closedForm.unevaluatedProperties = false;
      $defs[`${name}~closed`] = closedForm;
      const disc = isObject(def) ? def.discriminator : undefined;
      const sub = this.derived.get(key({ rel: doc.rel, name }));
      if (typeof disc === "string" && sub && sub.length > 0) {
        let chain: JsonObject = { $ref: defRef(doc.rel, name, "closed") };
        for (const d of [...sub].reverse()) {
          const dd = this.definition(d);
          const value = dd && typeof dd["x-ms-discriminator-value"] === "string" ? dd["x-ms-discriminator-value"] : d.name;
          chain = {
            if: { properties: { [disc]: { const: value } }, required: [disc] },
            then: { $ref: defRef(d.rel, d.name, "closed") },
            else: chain,
          };
        }
        $defs[name] = chain;
      } else {
        $defs[name] = { $ref: defRef(doc.rel, name, "closed") };
      }
    }
    return { $id: fileId(doc.rel), $defs };
  }
}

function key(k: DefKey): string {
  return `${k.rel}#/definitions/${k.name}`;
}
