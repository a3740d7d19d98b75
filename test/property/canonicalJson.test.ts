import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, writeCanonicalJson } from "../../src/lib/text/canonicalJson.js";
import { sortedKeys } from "../../src/lib/text/sortedJson.js";
import "./seed.js";

/** What the snapshot hash is defined as: JSON.stringify with every object's keys sorted. */
const byReplacer = (value: unknown) => JSON.stringify(value ?? null, sortedKeys()) ?? "null";

/**
 * Text that is mostly plain, as a snapshot's is, with every kind of character JSON escapes mixed in: quotes,
 * backslashes, control characters, lone and paired surrogates, and non-ASCII.
 */
const risky = fc.constantFrom('"', "\\", "\n", "\u0000", "\u001f", "\ud800", "\udfff", "😀", "é", "/");
const plain = fc.constantFrom("a", "b", "-", "0", " ", "resourceGroups", "/subscriptions/");
const text = fc.array(fc.oneof({ weight: 9, arbitrary: plain }, { weight: 1, arbitrary: risky }), { maxLength: 12 }).map((parts) => parts.join(""));
const key = fc.oneof(fc.constantFrom("id", "name", "b", "a", "10", "2", "01", "-1"), text);
const leaf = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined));
const value = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, fc.array(tie("node"), { maxLength: 4 }), fc.dictionary(key, tie("node"), { maxKeys: 5 })),
})).node;

describe("canonicalJson (property)", () => {
  it("writes any JSON-shaped value as JSON.stringify with sorted keys does", () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(byReplacer(v));
      }),
      { numRuns: 300 },
    );
  });

  it("escapes what needs it wherever it falls among thousands of pieces, across chunk boundaries", () => {
    // Long documents of plain records: the writer joins its pieces a few thousand at a time and escapes a
    // chunk's strings only when the joined chunk shows it must, so a risky string must be found in any chunk.
    const record = fc.record({ id: text, name: text, location: fc.constantFrom("southindia", "centralindia"), n: fc.integer() });
    const document = fc.array(record, { minLength: 500, maxLength: 1500 });
    fc.assert(
      fc.property(document, (records) => {
        const chunks: string[] = [];
        writeCanonicalJson({ records }, (chunk) => chunks.push(chunk));
        expect(chunks.join("")).toBe(byReplacer({ records }));
      }),
      { numRuns: 20 },
    );
  });
});
