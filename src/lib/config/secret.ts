import { inspect } from "node:util";

/**
 * A secret setting's value (a connection string). It prints, serialises and interpolates as "[secret]",
 * so settings can be logged or put in an error without leaking it; only reveal() gives the text.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return "[secret]";
  }

  toJSON(): string {
    return "[secret]";
  }

  [inspect.custom](): string {
    return "[secret]";
  }
}
