/**
 * Canonical JSON: exactly what `JSON.stringify(value, sortedKeys())` writes (every object's keys in
 * code-unit order, integer-like keys first as JavaScript enumerates them; no whitespace), produced by a
 * walk of our own and handed to `write` in chunks. A replacer function costs a call from the native
 * serialiser into JavaScript for every value and a sorted copy of every object out of order (nearly
 * all of a snapshot's), and the whole document as one string; here each object's key order is worked
 * out once per shape, strings that need escaping and numbers are written by the native serialiser, and
 * the text is handed on in chunks, so hashing a snapshot never holds its whole text (the hash of the
 * 10,000-consumer benchmark snapshot: ~135 ms → ~95 ms, best of ten, on the 2-core bench host).
 *
 * Joining costs per piece as much as per byte, and testing each string for escapes as much as the join:
 * a string property is two pieces (its key with the quotes and comma around it, then the value), and a
 * chunk's string values are tested for escapes once, together (a 21-23% faster hash of that snapshot,
 * both writers run alternately in one process, 16 rounds each).
 */
export function writeCanonicalJson(value: unknown, write: (chunk: string) => void): void {
  const writer = new CanonicalWriter(write);
  if (!writer.value("", value)) writer.raw("null");
  writer.flush();
}

/** The canonical JSON of `value` as one string ("null" for undefined, like JSON.stringify(value ?? null)). */
export function canonicalJson(value: unknown): string {
  const chunks: string[] = [];
  writeCanonicalJson(value, (chunk) => chunks.push(chunk));
  return chunks.join("");
}

/** Pieces are joined and handed on this many at a time (a chunk of some tens of kB). */
const CHUNK = 1 << 11;

/**
 * What JSON.stringify escapes in a string besides the quote: backslash, control characters and (lone)
 * surrogates. String values are written as they are unless they hold a quote, and this is tested once
 * over a whole joined chunk; a chunk in which it finds anything has its values escaped and is joined
 * again. One test over a chunk costs a third of one per string (228,000 strings in the benchmark
 * snapshot), and a snapshot's strings need escaping almost never.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const MAY_NEED_ESCAPE = /[\\\u0000-\u001f\ud800-\udfff]/;

/** An array index as JavaScript orders it ("0", "17"; not "01", "-1" or 2^32 - 1). */
const ARRAY_INDEX = /^(?:0|[1-9]\d{0,9})$/;

interface ShapeNode {
  next: Map<string, ShapeNode>;
  /** The keys in canonical order, for objects whose own keys are exactly the path to this node. */
  order?: string[];
}

/** What JSON.stringify serialises in place of `value`: its toJSON(key), and a Number, String or Boolean object's primitive. */
function resolve(key: string, value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
    if (typeof value !== "object" || value === null) return value;
  }
  return value instanceof Number || value instanceof String || value instanceof Boolean ? value.valueOf() : value;
}

/** JSON leaves out undefined, functions and symbols (as a property), or writes null for them (in an array). */
function writable(value: unknown): boolean {
  return value !== undefined && typeof value !== "function" && typeof value !== "symbol";
}

class CanonicalWriter {
  /**
   * Pieces not yet handed on, joined once per chunk (concatenating each would allocate per piece). The
   * array keeps its CHUNK slots from chunk to chunk: one emptied and grown again a chunk at a time cost
   * more allocation than the text itself.
   */
  private readonly parts: string[] = new Array<string>(CHUNK);
  /** 1 where the piece is a string value written unescaped (it holds no quote; MAY_NEED_ESCAPE decides the rest). */
  private readonly unescaped = new Uint8Array(CHUNK);
  private count = 0;
  /** Objects being written (a cycle is a TypeError, as in JSON.stringify). */
  private readonly stack: object[] = [];
  private readonly shapes: ShapeNode = { next: new Map() };
  /**
   * Per key its six pieces: `"key":` first in its object, `,"key":` after a value, `","key":` after a string
   * value left open; then the same three followed by a string value's opening quote.
   */
  private readonly keyPieces = new Map<string, readonly string[]>();

  constructor(private readonly write: (chunk: string) => void) {}

  raw(text: string): void {
    this.push(text);
  }

  private push(text: string): void {
    this.unescaped[this.count] = 0;
    this.parts[this.count++] = text;
    if (this.count === CHUNK) this.handOn();
  }

  /** A string value's text between its quotes, as it is: the caller has found no quote in it. */
  private pushUnescaped(text: string): void {
    this.unescaped[this.count] = 1;
    this.parts[this.count++] = text;
    if (this.count === CHUNK) this.handOn();
  }

  /** Joins the pieces so far and hands them on, escaping the chunk's string values first if any needs it. */
  private handOn(): void {
    let text = this.parts.join("");
    if (MAY_NEED_ESCAPE.test(text)) {
      for (let i = 0; i < this.count; i++) {
        const part = this.parts[i] as string;
        if (this.unescaped[i] === 1 && MAY_NEED_ESCAPE.test(part)) this.parts[i] = JSON.stringify(part).slice(1, -1);
      }
      text = this.parts.join("");
    }
    this.write(text);
    this.count = 0;
  }

  /** Hands on what is left: the last, partial chunk (the array is done with after it). */
  flush(): void {
    if (this.count === 0) return;
    this.parts.length = this.count;
    this.handOn();
  }

  /** Writes `value` (the property `key` of its holder); false when JSON leaves it out (undefined, a function, a symbol). */
  value(key: string, value: unknown): boolean {
    const resolved = resolve(key, value);
    if (!writable(resolved)) return false;
    this.resolved(resolved);
    return true;
  }

  private resolved(value: unknown): void {
    switch (typeof value) {
      case "string":
        this.string(value);
        return;
      case "number":
        this.push(Number.isFinite(value) ? String(value) : "null");
        return;
      case "boolean":
        this.push(value ? "true" : "false");
        return;
      case "bigint":
        throw new TypeError("Do not know how to serialize a BigInt");
      default:
        if (value === null) {
          this.push("null");
          return;
        }
        this.enter(value as object);
        if (Array.isArray(value)) this.array(value);
        else this.object(value as Record<string, unknown>);
        this.stack.pop();
    }
  }

  private enter(value: object): void {
    if (this.stack.includes(value)) throw new TypeError("Converting circular structure to JSON");
    this.stack.push(value);
  }

  private array(items: readonly unknown[]): void {
    this.push("[");
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.push(",");
      const item = items[i];
      // toJSON is given the index as its key; the string is made only for a value that may have one.
      if (!this.value(typeof item === "object" && item !== null ? String(i) : "", item)) this.push("null");
    }
    this.push("]");
  }

  /**
   * A string property, the common case, is two pieces: its key with the value's opening quote (and the
   * previous string value's closing quote, and the comma, where they fall), then the value.
   */
  private object(record: Record<string, unknown>): void {
    this.push("{");
    // 0: first property; 1: after a value that is closed; 2: after a string value whose closing quote is still to come.
    let before: 0 | 1 | 2 = 0;
    for (const key of this.order(Object.keys(record))) {
      const own = record[key];
      const value = typeof own === "object" && own !== null ? resolve(key, own) : own;
      if (!writable(value)) continue;
      const pieces = this.keyPiecesOf(key);
      if (typeof value === "string" && !value.includes('"')) {
        this.push(pieces[before + 3] as string);
        this.pushUnescaped(value);
        before = 2;
      } else {
        this.push(pieces[before] as string);
        this.resolved(value);
        before = 1;
      }
    }
    this.push(before === 2 ? '"}' : "}");
  }

  /** The keys as an object built by inserting them in code-unit order enumerates them (sortedKeys does that). */
  private order(keys: string[]): string[] {
    let ordered = true;
    for (let i = 1; i < keys.length && ordered; i++) ordered = (keys[i - 1] as string) < (keys[i] as string);
    if (ordered) return keys;
    let node = this.shapes;
    for (const key of keys) {
      let next = node.next.get(key);
      if (next === undefined) {
        next = { next: new Map() };
        node.next.set(key, next);
      }
      node = next;
    }
    if (node.order === undefined) {
      // Object.keys lists array indices first, ascending; an object built in sorted order does too.
      let indices = 0;
      while (indices < keys.length && ARRAY_INDEX.test(keys[indices] as string) && Number(keys[indices]) < 2 ** 32 - 1) indices++;
      node.order = [...keys.slice(0, indices), ...keys.slice(indices).sort()];
    }
    return node.order;
  }

  /** A string without a quote is written between quotes as it is (handOn escapes it if need be); others as JSON.stringify escapes them. */
  private string(value: string): void {
    if (value.includes('"')) this.push(JSON.stringify(value));
    else {
      this.push('"');
      this.pushUnescaped(value);
      this.push('"');
    }
  }

  /** A key's pieces, made once per key (joined, so each is one flat string). */
  private keyPiecesOf(key: string): readonly string[] {
    let pieces = this.keyPieces.get(key);
    if (pieces === undefined) {
      const quoted = JSON.stringify(key);
      const piece = (lead: string, tail: string) => [lead, quoted, tail].join("");
      pieces = [piece("", ":"), piece(",", ":"), piece('",', ":"), piece("", ':"'), piece(",", ':"'), piece('",', ':"')];
      if (this.keyPieces.size < 10_000) this.keyPieces.set(key, pieces);
    }
    return pieces;
  }
}
