/**
 * Where JSON text first goes wrong, as an offset into it. Node 20's JSON.parse does not always say (it
 * reports "Unexpected token '}', ..."x": [}" is not valid JSON"), and an operator editing a policy file needs a
 * line and column. Call only after JSON.parse has failed.
 */
export function jsonErrorOffset(text: string): number | undefined {
  const scanner = new Scanner(text);
  try {
    scanner.value();
    scanner.whitespace();
    if (scanner.index < text.length) return scanner.index;
    return undefined;
  } catch (error) {
    if (error instanceof ScanError) return error.offset;
    throw error;
  }
}

/** 1-based line and column of an offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lastNewline = before.lastIndexOf("\n");
  return { line: before.split("\n").length, column: offset - lastNewline };
}

class ScanError extends Error {
  constructor(readonly offset: number) {
    super(`invalid JSON at offset ${offset}`);
  }
}

class Scanner {
  index = 0;

  constructor(private readonly text: string) {}

  whitespace(): void {
    while (this.index < this.text.length && " \t\n\r".includes(this.text[this.index] ?? "")) this.index++;
  }

  private fail(): never {
    throw new ScanError(this.index);
  }

  private expect(character: string): void {
    if (this.text[this.index] !== character) this.fail();
    this.index++;
  }

  value(): void {
    this.whitespace();
    const character = this.text[this.index];
    if (character === "{") this.object();
    else if (character === "[") this.array();
    else if (character === '"') this.string();
    else if (character === "-" || (character !== undefined && character >= "0" && character <= "9")) this.number();
    else if (this.text.startsWith("true", this.index)) this.index += 4;
    else if (this.text.startsWith("false", this.index)) this.index += 5;
    else if (this.text.startsWith("null", this.index)) this.index += 4;
    else this.fail();
  }

  private object(): void {
    this.expect("{");
    this.whitespace();
    if (this.text[this.index] === "}") {
      this.index++;
      return;
    }
    for (;;) {
      this.whitespace();
      this.string();
      this.whitespace();
      this.expect(":");
      this.value();
      this.whitespace();
      if (this.text[this.index] === ",") {
        this.index++;
        continue;
      }
      this.expect("}");
      return;
    }
  }

  private array(): void {
    this.expect("[");
    this.whitespace();
    if (this.text[this.index] === "]") {
      this.index++;
      return;
    }
    for (;;) {
      this.value();
      this.whitespace();
      if (this.text[this.index] === ",") {
        this.index++;
        continue;
      }
      this.expect("]");
      return;
    }
  }

  private string(): void {
    this.expect('"');
    for (;;) {
      const character = this.text[this.index];
      if (character === undefined || character < " ") this.fail();
      if (character === '"') {
        this.index++;
        return;
      }
      if (character === "\\") {
        this.index++;
        const escape = this.text[this.index];
        if (escape === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.index + 1, this.index + 5))) this.fail();
          this.index += 5;
        } else if (escape !== undefined && '"\\/bfnrt'.includes(escape)) {
          this.index++;
        } else {
          this.fail();
        }
        continue;
      }
      this.index++;
    }
  }

  private number(): void {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.index));
    if (match === null) this.fail();
    this.index += match[0].length;
  }
}
