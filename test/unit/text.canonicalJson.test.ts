import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { snapshotHash } from "../../src/lib/compliance/evaluate.js";
import { canonicalJson, writeCanonicalJson } from "../../src/lib/text/canonicalJson.js";
import { sortedKeys } from "../../src/lib/text/sortedJson.js";

/** What the snapshot hash was defined as before the writer: the replacer's output. */
const byReplacer = (value: unknown) => JSON.stringify(value ?? null, sortedKeys()) ?? "null";

const fixture = (name: string): unknown => JSON.parse(readFileSync(join(import.meta.dirname, "..", "fixtures", "snapshots", `${name}.json`), "utf8"));

describe("canonicalJson", () => {
  it.each(["contoso-reference", "contoso-drifted"])("writes the generated snapshot %s exactly as JSON.stringify with sortedKeys does", (name) => {
    const snapshot = fixture(name);
    const text = canonicalJson(snapshot);
    expect(text.length).toBeGreaterThan(1000);
    expect(text).toBe(byReplacer(snapshot));
    expect(snapshotHash(snapshot as never)).toBe(createHash("sha256").update(byReplacer(snapshot)).digest("hex"));
  });

  const cases: [string, unknown][] = [
    ["keys out of order, nested", { b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }],
    ["integer-like keys first, ascending, as JavaScript enumerates them", { b: 1, 10: "ten", 2: "two", a: 0, "01": "not an index", "-1": "neither" }],
    ["undefined, functions and symbols left out of objects, null in arrays", { a: undefined, b: () => 1, c: Symbol("s"), d: [undefined, () => 1, Symbol("t"), 1] }],
    ["numbers: -0, NaN, Infinity, exponents", [-0, Number.NaN, Number.POSITIVE_INFINITY, 1e21, 1.5e-7, -3]],
    ["strings that need escaping: quotes, backslash, controls, lone and paired surrogates", ['a"b', "c\\d", "\n\t\u0001", "\ud800", "\udc00x", "😀", "ü"]],
    ["toJSON (Date), with its key", { when: new Date(Date.UTC(2026, 0, 2)), custom: { toJSON: (key: string) => ({ y: key, x: 1 }) }, list: [{ toJSON: (key: string) => key }] }],
    ["wrapper objects", [Object(1), Object("s"), Object(true)]],
    ["empty containers and top-level primitives inside", [{}, [], "", 0, false, null]],
    ["a key left out because its value is undefined, first and last", { a: undefined, m: 1, z: undefined }],
    ["the same shape in two key orders", [{ b: 1, a: 2 }, { a: 3, b: 4 }, { b: 5, a: 6 }]],
    // eslint-disable-next-line no-sparse-arrays
    ["holes in arrays, at every depth", [1, , 3, { b: [, { d: 1, c: [, 2] }] }]],
    ["an object with no prototype, a class instance and an own toJSON key", [Object.assign(Object.create(null) as object, { b: 1, a: 2 }), new (class Thing { b = 1; a = 2 })(), { b: 1, toJSON: () => ({ z: 1, y: 2 }) }]],
    ["a document 300 levels deep", Array.from({ length: 300 }).reduce<unknown>((inner) => ({ b: inner, a: 1 }), { d: 1, c: 2 })],
  ];
  it.each(cases)("matches the replacer: %s", (_label, value) => {
    expect(canonicalJson(value)).toBe(byReplacer(value));
  });

  it("writes null for undefined and for a function at the top level, as the snapshot hash always did", () => {
    expect(canonicalJson(undefined)).toBe("null");
    expect(canonicalJson(() => 1)).toBe("null");
    expect(canonicalJson("x")).toBe('"x"');
  });

  it("hands a large document on in several chunks that join to the whole", () => {
    const value = { items: Array.from({ length: 20_000 }, (_, i) => ({ name: `item-${i}`, id: i })) };
    const chunks: string[] = [];
    writeCanonicalJson(value, (chunk) => chunks.push(chunk));
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join("")).toBe(byReplacer(value));
  });

  it("refuses a cycle and a BigInt with a TypeError, as JSON.stringify does", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });
});
