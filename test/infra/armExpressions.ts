/**
 * A parser of ARM template expressions (the "[...]" strings of a JSON template): function calls, string and number
 * literals, property access and indexing. Enough to check what an expression refers to, not to evaluate it.
 * learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions
 */

export type Expr =
  | { kind: "string"; value: string }
  | { kind: "number"; value: number }
  | { kind: "call"; name: string; args: Expr[] }
  | { kind: "property"; target: Expr; name: string }
  | { kind: "index"; target: Expr; index: Expr };

export class ExpressionSyntaxError extends Error {
  override readonly name = "ExpressionSyntaxError";
}

/** A JSON string is an expression when it is "[...]" and does not start with "[[" (an escaped literal). */
export function isExpression(s: string): boolean {
  return s.length >= 2 && s.startsWith("[") && s.endsWith("]") && !s.startsWith("[[");
}

/** Parses the inside of "[...]"; throws ExpressionSyntaxError naming the expression and the position. */
export function parseExpression(source: string): Expr {
  if (!isExpression(source)) throw new ExpressionSyntaxError(`${source}: not a template expression ("[...]")`);
  const text = source.slice(1, -1);
  let i = 0;
  const fail = (why: string): never => {
    throw new ExpressionSyntaxError(`${source}: ${why} at position ${i + 1}`);
  };
  const space = (): void => {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
  };
  const primary = (): Expr => {
    space();
    const c = text[i];
    if (c === "'") {
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length) fail("unterminated string");
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i];
        i++;
      }
      return { kind: "string", value };
    }
    const num = /^-?\d+(\.\d+)?/.exec(text.slice(i));
    if (num) {
      i += num[0].length;
      return { kind: "number", value: Number(num[0]) };
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i));
    if (!ident) return fail(`unexpected ${c === undefined ? "end" : `'${c}'`}`);
    const name = ident[0];
    i += name.length;
    space();
    if (text[i] !== "(") return fail(`'${name}' is not followed by '(' (only function calls and literals are expressions)`);
    i++;
    const args: Expr[] = [];
    space();
    if (text[i] === ")") i++;
    else {
      for (;;) {
        args.push(postfix());
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === ")") {
          i++;
          break;
        }
        fail("expected ',' or ')'");
      }
    }
    return { kind: "call", name, args };
  };
  const postfix = (): Expr => {
    let e = primary();
    for (;;) {
      space();
      if (text[i] === ".") {
        i++;
        const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(text.slice(i));
        if (!m) fail("expected a property name after '.'");
        const name = (m as RegExpExecArray)[0];
        i += name.length;
        e = { kind: "property", target: e, name };
      } else if (text[i] === "[") {
        i++;
        const index = postfix();
        space();
        if (text[i] !== "]") fail("expected ']'");
        i++;
        e = { kind: "index", target: e, index };
      } else return e;
    }
  };
  const e = postfix();
  space();
  if (i < text.length) fail("unexpected text after the expression");
  return e;
}

/** Every function call in an expression, outermost first. */
export function calls(e: Expr): Extract<Expr, { kind: "call" }>[] {
  const out: Extract<Expr, { kind: "call" }>[] = [];
  const walk = (x: Expr): void => {
    if (x.kind === "call") {
      out.push(x);
      x.args.forEach(walk);
    } else if (x.kind === "property") walk(x.target);
    else if (x.kind === "index") {
      walk(x.target);
      walk(x.index);
    }
  };
  walk(e);
  return out;
}

/** A canonical text of an expression (no spaces, function names lower-cased), to compare two. */
export function print(e: Expr): string {
  switch (e.kind) {
    case "string":
      return `'${e.value.replace(/'/g, "''")}'`;
    case "number":
      return String(e.value);
    case "call":
      return `${e.name.toLowerCase()}(${e.args.map(print).join(",")})`;
    case "property":
      return `${print(e.target)}.${e.name}`;
    case "index":
      return `${print(e.target)}[${print(e.index)}]`;
  }
}

/** The literal string argument `n` of a call, or undefined when it is not a literal. */
export function literalArg(call: Extract<Expr, { kind: "call" }>, n: number): string | undefined {
  const a = call.args[n];
  return a?.kind === "string" ? a.value : undefined;
}
