import { escapeHtml } from "./escapeHtml.js";

/** Markup that is already safe: built by `html` from constants and escaped values. */
export class Html {
  constructor(readonly value: string) {}
}

export type Interpolation = string | number | Html | readonly Interpolation[];

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0] ?? "";
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? "");
  });
  return new Html(out);
}

function render(value: Interpolation): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/** Only for constants: the stylesheet, class names chosen from enums. */
export function raw(constant: string): Html {
  return new Html(constant);
}
