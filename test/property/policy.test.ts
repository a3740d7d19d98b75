import "./seed.js";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { REGISTERED_CONTROLS } from "../../src/lib/compliance/checks/index.js";
import { evaluate } from "../../src/lib/compliance/evaluate.js";
import { loadControls } from "../../src/lib/compliance/registry.js";
import { ConfigError } from "../../src/lib/config/errors.js";
import { formatPath } from "../../src/lib/config/formatPath.js";
import { parsePolicyDocument, parsePolicyJson } from "../../src/lib/config/load.js";
import { parsePolicyJsonText, POLICY_MAX_BYTES, POLICY_MAX_DEPTH } from "../../src/lib/config/parsePolicyJson.js";
import { MAX_ROTATION_DAYS } from "../../src/lib/config/policySchema.js";
import { keyVaultEvents } from "../../src/lib/events/keyVaultEvents.js";
import { renderReport } from "../../src/lib/report/formats.js";
import { planRotation } from "../../src/lib/rotation/planner.js";
import { verifyRotation } from "../../src/lib/rotation/verify.js";
import { loadSnapshot } from "../support/snapshots.js";
import { hostileText } from "./hostileText.js";

/**
 * The policy loader over random and malformed input: whatever it is given, it either returns a document or throws
 * a ConfigError whose every issue says where and why — never a TypeError, a RangeError (stack) or an issue
 * without a message — and a valid document round-trips.
 */

const SOURCE = "examples/contoso.policy.json";
const CONTOSO_TEXT = readFileSync(resolve(import.meta.dirname, "../..", SOURCE), "utf8");
const CONTOSO = JSON.parse(CONTOSO_TEXT) as unknown;

type Outcome = { ok: true; value: unknown } | { ok: false; error: ConfigError };

/** Runs the loader; anything thrown that is not a ConfigError fails the property with the thrown value. */
function attempt(run: () => unknown): Outcome {
  try {
    return { ok: true, value: run() };
  } catch (thrown) {
    if (!(thrown instanceof ConfigError)) throw new Error(`threw ${thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown)}, not a ConfigError`, { cause: thrown });
    return { ok: false, error: thrown };
  }
}

/** Every issue has a path (a string: "" is the document itself) and a non-empty reason, and the message lists them. */
function expectExplained(error: ConfigError): void {
  expect(error.issues.length).toBeGreaterThan(0);
  for (const issue of error.issues) {
    expect(typeof issue.path).toBe("string");
    expect(issue.message.trim().length).toBeGreaterThan(0);
    expect(error.message).toContain(issue.message);
    if (issue.path !== "") expect(error.message).toContain(`${issue.path}: `);
  }
  expect(error.message).toContain("Invalid policy document in");
}

type Segment = string | number;

/** Every path into a JSON value (the root excluded), containers and leaves alike. */
function pathsOf(value: unknown, prefix: Segment[] = []): Segment[][] {
  if (Array.isArray(value)) return value.flatMap((child, i) => [[...prefix, i], ...pathsOf(child, [...prefix, i])]);
  if (typeof value === "object" && value !== null) return Object.entries(value).flatMap(([k, child]) => [[...prefix, k], ...pathsOf(child, [...prefix, k])]);
  return [];
}
const CONTOSO_PATHS = pathsOf(CONTOSO);

type Mutation = { op: "delete" } | { op: "set"; value: unknown } | { op: "addKey"; key: string; value: unknown };

/** A deep copy of `doc` with the mutation applied at `path`. */
function mutate(doc: unknown, path: readonly Segment[], mutation: Mutation): unknown {
  const copy = structuredClone(doc) as Record<Segment, unknown>;
  let parent: Record<Segment, unknown> = copy;
  for (const segment of path.slice(0, -1)) parent = parent[segment] as Record<Segment, unknown>;
  const last = path.at(-1)!;
  if (mutation.op === "delete") {
    if (Array.isArray(parent) && typeof last === "number") parent.splice(last, 1);
    else delete parent[last];
  } else if (mutation.op === "set") {
    parent[last] = mutation.value;
  } else {
    const target = parent[last];
    if (typeof target === "object" && target !== null && !Array.isArray(target)) (target as Record<string, unknown>)[mutation.key] = mutation.value;
    else parent[last] = { [mutation.key]: mutation.value };
  }
  return copy;
}

/** The path itself when it names an object in the example, else the nearest object above it (arrays skipped). */
function enclosingObject(path: readonly Segment[]): Segment[] {
  const result = [...path];
  const at = (p: readonly Segment[]): unknown => p.reduce<unknown>((v, s) => (v as Record<Segment, unknown>)[s], CONTOSO);
  while (result.length > 0 && Array.isArray(at(result))) result.pop();
  return result;
}

/** One path names a field at or inside the other (issues may name the field, its container or a member of it). */
function related(a: string, b: string): boolean {
  const within = (inner: string, outer: string): boolean => outer === "" || inner === outer || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`);
  return within(a, b) || within(b, a);
}

const hugeNumber = fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, Number.MIN_VALUE, -0, 2 ** 31, 1.5, -1);
const nested = fc.integer({ min: 1, max: 200 }).map((depth) => {
  let value: unknown = "x";
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { v: value };
  return value;
});
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  hugeNumber,
  hostileText,
  nested,
  fc.constantFrom(null, true, 0, "", [], {}, "P0D", "P-1D", "P99999999999D", "PT1H", "__proto__", "constructor"),
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Mutation>({ op: "delete" }) },
  { weight: 4, arbitrary: wrongValue.map((value): Mutation => ({ op: "set", value })) },
  { weight: 1, arbitrary: fc.record({ key: fc.oneof(hostileText, fc.constantFrom("__proto__", "constructor", "toString", "$schema", "name")), value: wrongValue }).map((m): Mutation => ({ op: "addKey", ...m })) },
);

describe("policy parser: parsed values", () => {
  it("random JSON values: a document or a ConfigError that explains itself", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const outcome = attempt(() => parsePolicyDocument(value, "KEYWARDEN_POLICY_JSON"));
        if (!outcome.ok) expectExplained(outcome.error);
      }),
      { numRuns: 200 },
    );
  });

  it("the example with one field deleted, retyped or extended: an issue names a field of the object it is in", () => {
    expect(CONTOSO_PATHS.length).toBeGreaterThan(20);
    let rejected = 0;
    fc.assert(
      fc.property(fc.constantFrom(...CONTOSO_PATHS), mutation, (path, m) => {
        const doc = mutate(CONTOSO, path, m);
        const outcome = attempt(() => parsePolicyDocument(doc, SOURCE));
        if (outcome.ok) return;
        rejected++;
        expectExplained(outcome.error);
        // Cross-field rules (a key's consumers and its expectedConsumers) may name a sibling: the object holding the
        // change is as far as an issue may be from it.
        const container = formatPath(enclosingObject(m.op === "addKey" ? path : path.slice(0, -1)));
        const paths = outcome.error.issues.map((i) => i.path);
        expect(paths.some((p) => related(p, container)), `issues ${JSON.stringify(paths)} for a change at ${formatPath(path)}`).toBe(true);
      }),
      { numRuns: 300 },
    );
    // The mutations must mostly break the document, or the property says little.
    expect(rejected).toBeGreaterThan(100);
  });

  it("the example with several fields mutated at once: a document or an explained ConfigError", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...CONTOSO_PATHS), mutation), { minLength: 2, maxLength: 6 }), (changes) => {
        let doc = CONTOSO;
        for (const [path, m] of changes) {
          try {
            doc = mutate(doc, path, m);
          } catch {
            // An earlier change removed the path's parent: skip this one.
          }
        }
        const outcome = attempt(() => parsePolicyDocument(doc, SOURCE));
        if (!outcome.ok) expectExplained(outcome.error);
      }),
      { numRuns: 150 },
    );
  });
});

/** Random bytes read as UTF-8 (what a wrongly encoded file gives). */
const randomBytesText = fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString("utf8"));
/** Offsets of every `"key":` in the example's text. */
const MEMBER_OFFSETS = [...CONTOSO_TEXT.matchAll(/"([A-Za-z$]+)"\s*:/g)].map((m) => ({ offset: m.index, key: m[1]! }));
const LAST_BRACE = CONTOSO_TEXT.lastIndexOf("}");

describe("policy parser: text", () => {
  it("random text, unicode and bytes: a document or an explained ConfigError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.string({ unit: "grapheme", maxLength: 200 }), randomBytesText, hostileText, fc.json({ maxDepth: 5 })), (text) => {
        const outcome = attempt(() => parsePolicyJson(text, "KEYWARDEN_POLICY_JSON"));
        if (!outcome.ok) expectExplained(outcome.error);
      }),
      { numRuns: 300 },
    );
  });

  it("the example truncated anywhere: not valid JSON, at the document level", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: LAST_BRACE }), (cut) => {
        const outcome = attempt(() => parsePolicyJson(CONTOSO_TEXT.slice(0, cut), SOURCE));
        expect(outcome.ok).toBe(false);
        if (outcome.ok) return;
        expectExplained(outcome.error);
        expect(outcome.error.issues.some((i) => i.path === "" && i.message.startsWith("not valid JSON"))).toBe(true);
      }),
    );
  });

  it("the example with a byte flipped or a character inserted: a document or an explained ConfigError", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: CONTOSO_TEXT.length }), fc.oneof(fc.string({ unit: "binary", minLength: 1, maxLength: 3 }), fc.constantFrom("{", "}", "[", "]", ",", ":", '"', "\\", "\u0000", "\uFEFF", "1e999")), fc.boolean(), (at, piece, replace) => {
        const text = CONTOSO_TEXT.slice(0, at) + piece + CONTOSO_TEXT.slice(replace ? at + piece.length : at);
        const outcome = attempt(() => parsePolicyJson(text, SOURCE));
        if (!outcome.ok) expectExplained(outcome.error);
      }),
      { numRuns: 200 },
    );
  });

  it("a key repeated in any object: a ConfigError naming the duplicate key", () => {
    expect(MEMBER_OFFSETS.length).toBeGreaterThan(20);
    fc.assert(
      fc.property(fc.constantFrom(...MEMBER_OFFSETS), fc.jsonValue({ maxDepth: 2 }), ({ offset, key }, value) => {
        const text = `${CONTOSO_TEXT.slice(0, offset)}${JSON.stringify(key)}: ${JSON.stringify(value)}, ${CONTOSO_TEXT.slice(offset)}`;
        const outcome = attempt(() => parsePolicyJsonText(text, SOURCE));
        expect(outcome.ok).toBe(false);
        if (outcome.ok) return;
        expectExplained(outcome.error);
        expect(outcome.error.issues.some((i) => i.message.startsWith(`duplicate key ${JSON.stringify(key)}`) && /line \d+, column \d+ and line \d+, column \d+/.test(i.message))).toBe(true);
      }),
    );
  });

  it("nesting past the limit, alone or inside the example: a ConfigError saying so, never a stack overflow", () => {
    fc.assert(
      fc.property(fc.integer({ min: POLICY_MAX_DEPTH + 1, max: 200_000 }), fc.constantFrom("[", '{"a":'), fc.boolean(), (depth, opener, inside) => {
        const closer = opener === "[" ? "]" : "}";
        const deep = opener.repeat(depth) + "0" + closer.repeat(depth);
        const text = inside ? CONTOSO_TEXT.replace('"version": 1', `"version": ${deep}`) : deep;
        const outcome = attempt(() => parsePolicyJson(text, SOURCE));
        expect(outcome.ok).toBe(false);
        if (outcome.ok) return;
        expectExplained(outcome.error);
        expect(outcome.error.issues.some((i) => i.message.includes(`nests deeper than the limit of ${POLICY_MAX_DEPTH} levels`) || i.message.includes("limit is 1 MiB"))).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it("huge or odd numbers in a numeric field: a ConfigError naming the field, or a document", () => {
    fc.assert(
      fc.property(fc.constantFrom("1e999", "-1e999", "123456789012345678901234567890", "3072.0000000000001", "0.1e-400", "-0", "1E3"), (number) => {
        const text = CONTOSO_TEXT.replace('"minKeySize": 3072', `"minKeySize": ${number}`);
        expect(text).not.toBe(CONTOSO_TEXT);
        const outcome = attempt(() => parsePolicyJson(text, SOURCE));
        if (outcome.ok) return;
        expectExplained(outcome.error);
        expect(outcome.error.issues.map((i) => i.path)).toContain("managedHsms[0].keys[0].minKeySize");
      }),
      { numRuns: 20 },
    );
  });

  it("a document over 1 MiB: a ConfigError naming the limit, before any parse", () => {
    const text = CONTOSO_TEXT.replace('"version": 1', `"version": 1, "pad": "${"x".repeat(POLICY_MAX_BYTES)}"`);
    const outcome = attempt(() => parsePolicyJson(text, SOURCE));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.issues[0]?.message).toContain("the limit is 1 MiB");
  });
});

/** The same JSON value with every object's keys in another order. */
function shuffleKeys(value: unknown, pick: (n: number) => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, pick));
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value);
  const shuffled: [string, unknown][] = [];
  while (entries.length > 0) shuffled.push(entries.splice(pick(entries.length), 1)[0]!);
  return Object.fromEntries(shuffled.map(([k, v]) => [k, shuffleKeys(v, pick)]));
}

describe("policy parser: a valid document round-trips", () => {
  const parsed = parsePolicyJson(CONTOSO_TEXT, SOURCE);

  it("keeps what the text says: every key's name and rotation periods, every subscription", () => {
    const raw = CONTOSO as { subscriptions: string[]; managedHsms: { keys: { name: string; rotation: Record<string, string> }[] }[] };
    const keys = raw.managedHsms.flatMap((h) => h.keys);
    expect(keys.length).toBeGreaterThan(0);
    expect(parsed.subscriptions).toEqual(raw.subscriptions);
    expect(parsed.managedHsms.flatMap((h) => h.keys.map((k) => k.name))).toEqual(keys.map((k) => k.name));
    expect(parsed.managedHsms.flatMap((h) => h.keys.map((k) => k.rotation.rotateAfter.iso))).toEqual(keys.map((k) => k.rotation["rotateAfter"]));
  });

  it("in any key order, indentation, with or without a byte-order mark, it parses to the same document", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 50 }), fc.constantFrom(0, 1, 2, 4, "\t"), fc.boolean(), (choices, indent, bom) => {
        let n = 0;
        const pick = (size: number): number => choices[n++ % choices.length]! % size;
        const text = (bom ? "\uFEFF" : "") + JSON.stringify(shuffleKeys(CONTOSO, pick), null, indent);
        expect(parsePolicyJson(text, SOURCE)).toEqual(parsed);
      }),
    );
  });
});

/** An ISO-8601 duration with components from small to far past any Date (as an operator might mistype one). */
const anyDuration: fc.Arbitrary<string> = fc
  .record(
    {
      Y: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 2 ** 40 })),
      M: fc.integer({ min: 0, max: 2_000 }),
      W: fc.integer({ min: 0, max: 10_000 }),
      D: fc.oneof(fc.integer({ min: 0, max: 40_000 }), fc.integer({ min: 0, max: 2 ** 50 }), fc.constant(MAX_ROTATION_DAYS), fc.constant(MAX_ROTATION_DAYS + 1)),
      H: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constant(10 ** 20)),
    },
    { requiredKeys: [] },
  )
  .map((parts) => {
    const date = (["Y", "M", "W", "D"] as const).map((u) => (parts[u] === undefined ? "" : `${parts[u]}${u}`)).join("");
    const time = parts.H === undefined ? "" : `T${parts.H}H`;
    return date === "" && time === "" ? "P0D" : `P${date}${time}`;
  });

/** rotateAfter < expireAfter, notifyBefore < expireAfter, in days from a month to far past the limit. */
const consistentTriple: fc.Arbitrary<[string, string, string | undefined]> = fc
  .tuple(fc.oneof(fc.integer({ min: 28, max: MAX_ROTATION_DAYS + 10 }), fc.integer({ min: 28, max: 2 ** 45 })), fc.integer({ min: 1, max: 40_000 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }))
  .map(([rotate, extra, share]) => {
    const expire = rotate + extra;
    return [`P${rotate}D`, `P${expire}D`, `P${Math.max(1, Math.floor(expire * share))}D`];
  });

describe("policy parser: what it accepts, the scan can use", () => {
  const controls = loadControls(REGISTERED_CONTROLS);
  const snapshots = [loadSnapshot("contoso-reference"), loadSnapshot("contoso-drifted")];

  it("rotation periods of any size: a ConfigError naming the field, or a policy that evaluation, planning, verification, events and reports handle", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(consistentTriple, fc.tuple(anyDuration, anyDuration, fc.option(anyDuration, { nil: undefined }))), fc.nat({ max: 2 }), ([rotateAfter, expireAfter, notifyBefore], keyIndex) => {
        const doc = structuredClone(CONTOSO) as { managedHsms: { keys: { rotation: Record<string, string> }[] }[] };
        const rotation = doc.managedHsms[0]!.keys[keyIndex]!.rotation;
        rotation["rotateAfter"] = rotateAfter;
        rotation["expireAfter"] = expireAfter;
        if (notifyBefore === undefined) delete rotation["notifyBefore"];
        else rotation["notifyBefore"] = notifyBefore;
        const outcome = attempt(() => parsePolicyDocument(doc, SOURCE));
        if (!outcome.ok) {
          expectExplained(outcome.error);
          const prefix = `managedHsms[0].keys[${keyIndex}].rotation`;
          expect(outcome.error.issues.filter((i) => !i.path.startsWith(prefix)).map((i) => i.path)).toEqual([]);
          return;
        }
        accepted++;
        const policy = outcome.value as ReturnType<typeof parsePolicyDocument>;
        for (const snapshot of snapshots) {
          const now = new Date(snapshot.collectedAt);
          const report = evaluate(snapshot, policy, controls, { now });
          for (const format of ["json", "html"] as const) expect(renderReport(report, format, { policy, snapshot }).body.length).toBeGreaterThan(0);
          planRotation(snapshot, policy, now);
          verifyRotation(snapshot, policy, now);
          keyVaultEvents(snapshot, policy, now);
        }
      }),
      { numRuns: 80 },
    );
    expect(accepted).toBeGreaterThan(5);
  });
});
