/**
 * The subset of KQL (Kusto) that KeyWarden's queries use, parsed and run over an in-memory table: a table name, then
 * `| where` (==, =~, !=, <, <=, >, >=, in (…), and, or, parentheses; literals: strings, numbers, ago(<timespan>)),
 * `| summarize <name> = count() | max(c) | min(c), … [by c, …]`, `| project c, …`, `| top N by c [asc|desc]`,
 * `| take N` / `| limit N`. Anything else is a syntax error, answered with Log Analytics' 400, so that a query KeyWarden
 * changes beyond this subset fails a test instead of being half-understood.
 */

export type KqlType = "string" | "datetime" | "real" | "long" | "int" | "bool" | "guid" | "dynamic";
export type KqlValue = string | number | boolean | Date | null;
export type KqlRow = Record<string, KqlValue>;

export interface KqlTable {
  /** Column name → type, in the table's column order. */
  columns: ReadonlyMap<string, KqlType>;
  rows: readonly KqlRow[];
}

export interface KqlResult {
  columns: { name: string; type: KqlType }[];
  rows: KqlValue[][];
}

/** A query outside the subset (`kind: "syntax"`) or naming what the table lacks (`kind: "semantic"`). */
export class KqlError extends Error {
  constructor(
    readonly kind: "syntax" | "semantic",
    message: string,
    readonly pos: number,
    readonly token: string,
  ) {
    super(message);
    this.name = "KqlError";
  }
}

// ---------------------------------------------------------------- tokens

type Token =
  | { t: "ident"; v: string; pos: number }
  | { t: "string"; v: string; pos: number }
  | { t: "number"; v: number; pos: number; text: string }
  | { t: "timespan"; ms: number; pos: number; text: string }
  | { t: "op"; v: string; pos: number }
  | { t: "end"; pos: number };

const TIMESPAN_UNITS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const OPERATORS = ["==", "=~", "!=", ">=", "<=", "|", "(", ")", ",", "=", ">", "<"];

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '"' || c === "'") {
      let v = "";
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === "\\" && i + 1 < text.length) {
          const n = text[i + 1]!;
          v += n === "n" ? "\n" : n === "t" ? "\t" : n;
          i += 2;
        } else v += text[i++];
      }
      if (i >= text.length) throw new KqlError("syntax", "Unterminated string literal", start, text.slice(start, start + 10));
      i++;
      out.push({ t: "string", v, pos: start });
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^(\d+(?:\.\d+)?)(ms|d|h|m|s)?(?![A-Za-z0-9_])/.exec(text.slice(i));
      if (!m) throw new KqlError("syntax", `Query could not be parsed at '${text.slice(i, i + 10)}'`, i, text.slice(i, i + 10));
      i += m[0].length;
      if (m[2]) out.push({ t: "timespan", ms: Number(m[1]) * TIMESPAN_UNITS[m[2]]!, pos: start, text: m[0] });
      else out.push({ t: "number", v: Number(m[1]), pos: start, text: m[0] });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      i += m[0].length;
      out.push({ t: "ident", v: m[0], pos: start });
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (!op) throw new KqlError("syntax", `Query could not be parsed at '${c}'`, i, c);
    i += op.length;
    out.push({ t: "op", v: op, pos: start });
  }
  out.push({ t: "end", pos: text.length });
  return out;
}

// ---------------------------------------------------------------- syntax tree

type Literal = { kind: "literal"; value: KqlValue } | { kind: "ago"; ms: number };
type Expr =
  | { kind: "and" | "or"; left: Expr; right: Expr }
  | { kind: "compare"; column: string; op: string; value: Literal; pos: number }
  | { kind: "in"; column: string; values: Literal[]; pos: number };

interface Aggregate {
  name: string;
  fn: "count" | "max" | "min";
  column?: string;
  pos: number;
}

type Operator =
  | { kind: "where"; expr: Expr }
  | { kind: "summarize"; aggregates: Aggregate[]; by: { name: string; pos: number }[] }
  | { kind: "project"; columns: { name: string; pos: number }[] }
  | { kind: "top"; count: number; column: string; pos: number; descending: boolean }
  | { kind: "take"; count: number };

export interface KqlQuery {
  table: string;
  tablePos: number;
  operators: Operator[];
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  private fail(token: Token = this.peek()): never {
    const text = token.t === "end" ? "<end of query>" : token.t === "string" ? `"${token.v}"` : token.t === "number" || token.t === "timespan" ? token.text : token.v;
    throw new KqlError("syntax", `Query could not be parsed at '${text}'`, token.pos, text);
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === "op" && t.v === v;
  }

  private isWord(v: string): boolean {
    const t = this.peek();
    return t.t === "ident" && t.v === v;
  }

  private expectOp(v: string): void {
    if (!this.isOp(v)) this.fail();
    this.i++;
  }

  private expectWord(v: string): void {
    if (!this.isWord(v)) this.fail();
    this.i++;
  }

  private ident(): { name: string; pos: number } {
    const t = this.next();
    if (t.t !== "ident") this.fail(t);
    return { name: t.v, pos: t.pos };
  }

  private count(): number {
    const t = this.next();
    if (t.t !== "number" || !Number.isInteger(t.v)) this.fail(t);
    return t.v;
  }

  query(): KqlQuery {
    const table = this.ident();
    const operators: Operator[] = [];
    while (this.isOp("|")) {
      this.i++;
      operators.push(this.operator());
    }
    if (this.peek().t !== "end") this.fail();
    return { table: table.name, tablePos: table.pos, operators };
  }

  private operator(): Operator {
    const word = this.next();
    if (word.t !== "ident") this.fail(word);
    switch (word.v) {
      case "where":
        return { kind: "where", expr: this.or() };
      case "summarize":
        return this.summarize();
      case "project": {
        const columns = [this.ident()];
        while (this.isOp(",")) {
          this.i++;
          columns.push(this.ident());
        }
        return { kind: "project", columns };
      }
      case "top": {
        const count = this.count();
        this.expectWord("by");
        const column = this.ident();
        let descending = true;
        if (this.isWord("asc") || this.isWord("desc")) descending = (this.next() as { v: string }).v === "desc";
        return { kind: "top", count, column: column.name, pos: column.pos, descending };
      }
      case "take":
      case "limit":
        return { kind: "take", count: this.count() };
      default:
        return this.fail(word);
    }
  }

  private summarize(): Operator {
    const aggregates = [this.aggregate()];
    while (this.isOp(",")) {
      this.i++;
      aggregates.push(this.aggregate());
    }
    const by: { name: string; pos: number }[] = [];
    if (this.isWord("by")) {
      this.i++;
      by.push(this.ident());
      while (this.isOp(",")) {
        this.i++;
        by.push(this.ident());
      }
    }
    return { kind: "summarize", aggregates, by };
  }

  private aggregate(): Aggregate {
    const first = this.ident();
    let name: string | undefined;
    let fn = first;
    if (this.isOp("=")) {
      this.i++;
      name = first.name;
      fn = this.ident();
    }
    this.expectOp("(");
    if (fn.name === "count") {
      this.expectOp(")");
      return { name: name ?? "count_", fn: "count", pos: fn.pos };
    }
    if (fn.name !== "max" && fn.name !== "min") this.fail(this.tokens[this.i - 2]);
    const column = this.ident();
    this.expectOp(")");
    return { name: name ?? `${fn.name}_${column.name}`, fn: fn.name, column: column.name, pos: column.pos };
  }

  private or(): Expr {
    let left = this.and();
    while (this.isWord("or")) {
      this.i++;
      left = { kind: "or", left, right: this.and() };
    }
    return left;
  }

  private and(): Expr {
    let left = this.comparison();
    while (this.isWord("and")) {
      this.i++;
      left = { kind: "and", left, right: this.comparison() };
    }
    return left;
  }

  private comparison(): Expr {
    if (this.isOp("(")) {
      this.i++;
      const inner = this.or();
      this.expectOp(")");
      return inner;
    }
    const column = this.ident();
    if (this.isWord("in")) {
      this.i++;
      this.expectOp("(");
      const values = [this.literal()];
      while (this.isOp(",")) {
        this.i++;
        values.push(this.literal());
      }
      this.expectOp(")");
      return { kind: "in", column: column.name, values, pos: column.pos };
    }
    const op = this.next();
    if (op.t !== "op" || !["==", "=~", "!=", ">=", "<=", ">", "<"].includes(op.v)) this.fail(op);
    return { kind: "compare", column: column.name, op: op.v, value: this.literal(), pos: column.pos };
  }

  private literal(): Literal {
    const t = this.next();
    if (t.t === "string") return { kind: "literal", value: t.v };
    if (t.t === "number") return { kind: "literal", value: t.v };
    if (t.t === "ident" && (t.v === "true" || t.v === "false")) return { kind: "literal", value: t.v === "true" };
    if (t.t === "ident" && t.v === "ago") {
      this.expectOp("(");
      const span = this.next();
      if (span.t !== "timespan") this.fail(span);
      this.expectOp(")");
      return { kind: "ago", ms: span.ms };
    }
    return this.fail(t);
  }
}

export function parseKql(text: string): KqlQuery {
  return new Parser(tokenize(text)).query();
}

// ---------------------------------------------------------------- evaluation

const semantic = (operator: string, name: string, pos: number): KqlError =>
  new KqlError("semantic", `'${operator}' operator: Failed to resolve scalar expression named '${name}'`, pos, name);

function comparable(v: KqlValue): number | string | boolean | null {
  if (v instanceof Date) return v.getTime();
  return v;
}

function literalValue(l: Literal, now: Date): KqlValue {
  return l.kind === "ago" ? new Date(now.getTime() - l.ms) : l.value;
}

function compare(a: KqlValue, op: string, b: KqlValue): boolean {
  if (a === null || b === null) return op === "!=" ? a !== b : false;
  if (op === "=~") return typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();
  const x = comparable(a);
  const y = b instanceof Date || !(a instanceof Date) ? comparable(b) : typeof b === "string" ? Date.parse(b) : b;
  switch (op) {
    case "==":
      return x === y;
    case "!=":
      return x !== y;
    case ">=":
      return x! >= y!;
    case "<=":
      return x! <= y!;
    case ">":
      return x! > y!;
    case "<":
      return x! < y!;
  }
  return false;
}

function matches(expr: Expr, row: KqlRow, now: Date): boolean {
  switch (expr.kind) {
    case "and":
      return matches(expr.left, row, now) && matches(expr.right, row, now);
    case "or":
      return matches(expr.left, row, now) || matches(expr.right, row, now);
    case "compare":
      return compare(row[expr.column] ?? null, expr.op, literalValue(expr.value, now));
    case "in":
      return expr.values.some((v) => compare(row[expr.column] ?? null, "==", literalValue(v, now)));
  }
}

function columnsOf(expr: Expr): { name: string; pos: number }[] {
  switch (expr.kind) {
    case "and":
    case "or":
      return [...columnsOf(expr.left), ...columnsOf(expr.right)];
    case "compare":
    case "in":
      return [{ name: expr.column, pos: expr.pos }];
  }
}

const order = (a: KqlValue, b: KqlValue): number => {
  if (a === null) return b === null ? 0 : 1;
  if (b === null) return -1;
  const x = comparable(a)!;
  const y = comparable(b)!;
  return x < y ? -1 : x > y ? 1 : 0;
};

/** `top`: by value in the direction asked, nulls last either way. */
function topOrder(a: KqlValue, b: KqlValue, descending: boolean): number {
  if (a === null || b === null) return order(a, b);
  return descending ? order(b, a) : order(a, b);
}

/** Runs a parsed query over `table`; `now` is what ago() counts back from. */
export function runKql(query: KqlQuery, tableName: string, table: KqlTable, now: Date): KqlResult {
  if (query.table !== tableName) throw new KqlError("semantic", `Failed to resolve table or column expression named '${query.table}'`, query.tablePos, query.table);
  let columns = new Map(table.columns);
  let rows: KqlRow[] = [...table.rows];
  const need = (operator: string, c: { name: string; pos: number }): KqlType => {
    const type = columns.get(c.name);
    if (type === undefined) throw semantic(operator, c.name, c.pos);
    return type;
  };
  for (const op of query.operators) {
    switch (op.kind) {
      case "where":
        for (const c of columnsOf(op.expr)) need("where", c);
        rows = rows.filter((r) => matches(op.expr, r, now));
        break;
      case "summarize": {
        const byTypes = op.by.map((c) => need("summarize", c));
        const aggTypes = op.aggregates.map((a): KqlType => (a.fn === "count" ? "long" : need("summarize", { name: a.column!, pos: a.pos })));
        const groups = new Map<string, KqlRow[]>();
        for (const r of rows) {
          const key = JSON.stringify(op.by.map((c) => comparable(r[c.name] ?? null)));
          const g = groups.get(key);
          if (g) g.push(r);
          else groups.set(key, [r]);
        }
        // Without `by`, summarize over no rows still answers one row (count 0, max null), as Kusto does.
        if (op.by.length === 0 && groups.size === 0) groups.set("[]", []);
        const out: KqlRow[] = [];
        for (const g of groups.values()) {
          const row: KqlRow = {};
          op.by.forEach((c) => (row[c.name] = g[0]?.[c.name] ?? null));
          for (const a of op.aggregates) {
            if (a.fn === "count") row[a.name] = g.length;
            else {
              const values = g.map((r) => r[a.column!] ?? null).filter((v) => v !== null);
              row[a.name] = values.length === 0 ? null : values.reduce((best, v) => ((a.fn === "max" ? order(v, best) > 0 : order(v, best) < 0) ? v : best));
            }
          }
          out.push(row);
        }
        columns = new Map([...op.by.map((c, i): [string, KqlType] => [c.name, byTypes[i]!]), ...op.aggregates.map((a, i): [string, KqlType] => [a.name, aggTypes[i]!])]);
        rows = out;
        break;
      }
      case "project": {
        const picked = op.columns.map((c): [string, KqlType] => [c.name, need("project", c)]);
        columns = new Map(picked);
        rows = rows.map((r) => Object.fromEntries(picked.map(([name]) => [name, r[name] ?? null])));
        break;
      }
      case "top":
        need("top", { name: op.column, pos: op.pos });
        rows = [...rows].sort((a, b) => topOrder(a[op.column] ?? null, b[op.column] ?? null, op.descending)).slice(0, op.count);
        break;
      case "take":
        rows = rows.slice(0, op.count);
        break;
    }
  }
  const names = [...columns.keys()];
  return { columns: names.map((name) => ({ name, type: columns.get(name)! })), rows: rows.map((r) => names.map((n) => r[n] ?? null)) };
}
