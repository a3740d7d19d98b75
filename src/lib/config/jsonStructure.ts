/**
 * What JSON.parse does not tell: keys repeated within one object (it keeps the last, silently) and
 * nesting deep enough to overflow the stack of anything that walks the result recursively. An iterative
 * scan, so that it cannot overflow itself; it stops at the first syntax error and leaves reporting that to
 * JSON.parse.
 */

export type JsonPath = (string | number)[];

export type JsonStructureProblem =
  | { kind: "tooDeep"; offset: number }
  | { kind: "duplicateKey"; key: string; path: JsonPath; firstOffset: number; secondOffset: number };

export interface JsonStructure {
  /** The scan stopped at invalid JSON; problems found before that point are still listed. */
  syntaxError: boolean;
  problems: JsonStructureProblem[];
}

type Frame = { kind: "array"; index: number } | { kind: "object"; keys: Map<string, number>; key: string };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// A complete string literal: no raw control characters, only JSON's escapes.
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y; // eslint-disable-line no-control-regex -- JSON forbids raw control characters in strings

/** Scans JSON text for duplicate keys and for nesting deeper than `maxDepth` containers (the scan stops there). */
export function scanJsonStructure(text: string, maxDepth: number): JsonStructure {
  const problems: JsonStructureProblem[] = [];
  const stack: Frame[] = [];
  let i = 0;

  const whitespace = (): void => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const match = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = i;
    const found = pattern.exec(text);
    if (found === null) return undefined;
    i += found[0].length;
    return found[0];
  };
  const scalar = (): boolean => {
    if (text[i] === '"') return match(STRING) !== undefined;
    for (const literal of ["true", "false", "null"]) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return true;
      }
    }
    return match(NUMBER) !== undefined;
  };
  /** A member's key and colon; records the key in its object. */
  const member = (frame: Frame & { kind: "object" }): boolean => {
    whitespace();
    const offset = i;
    const literal = match(STRING);
    if (literal === undefined) return false;
    const key = JSON.parse(literal) as string;
    const first = frame.keys.get(key);
    if (first === undefined) frame.keys.set(key, offset);
    else problems.push({ kind: "duplicateKey", key, path: pathOf(stack.slice(0, -1)), firstOffset: first, secondOffset: offset });
    frame.key = key;
    whitespace();
    if (text[i] !== ":") return false;
    i++;
    return true;
  };
  const stop = (syntaxError: boolean): JsonStructure => ({ syntaxError, problems });

  for (;;) {
    // A value is expected here.
    whitespace();
    const opening = text[i];
    if (opening === "[" || opening === "{") {
      if (stack.length >= maxDepth) {
        problems.push({ kind: "tooDeep", offset: i });
        return stop(false);
      }
      i++;
      whitespace();
      if (text[i] !== (opening === "[" ? "]" : "}")) {
        const frame: Frame = opening === "[" ? { kind: "array", index: 0 } : { kind: "object", keys: new Map(), key: "" };
        stack.push(frame);
        if (frame.kind === "object" && !member(frame)) return stop(true);
        continue;
      }
      i++; // an empty container is a complete value
    } else if (!scalar()) {
      return stop(true);
    }
    // A value has ended: close containers until one continues with another element.
    let next = false;
    while (!next) {
      whitespace();
      const top = stack[stack.length - 1];
      if (top === undefined) return stop(i < text.length);
      if (text[i] === ",") {
        i++;
        if (top.kind === "array") top.index++;
        else if (!member(top)) return stop(true);
        next = true;
      } else if (text[i] === (top.kind === "array" ? "]" : "}")) {
        i++;
        stack.pop();
      } else {
        return stop(true);
      }
    }
  }
}

function pathOf(frames: readonly Frame[]): JsonPath {
  return frames.map((frame) => (frame.kind === "array" ? frame.index : frame.key));
}
