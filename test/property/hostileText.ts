import fc from "fast-check";

/**
 * Text an attacker who can name an Azure resource (or word an error message) might choose: markup, quotes,
 * backticks, pipes, line breaks, control characters (C0, C1, DEL), bidirectional overrides, isolates and marks,
 * formula starters, autolink and mention triggers, astral Unicode, and arbitrary strings between them.
 */
export const HOSTILE_PIECES = [
  "<script>alert(1)</script>",
  "</pre><script>x</script>",
  "</style>",
  "<!--",
  `"><img src=x onerror=alert(1)>`,
  "'",
  '"',
  "`",
  "```",
  "|",
  "\\|",
  "\\",
  "&amp;",
  "&lt;",
  "&#96;",
  "#",
  " #",
  "*",
  "_",
  "[x](javascript:alert(1))",
  "![i](x)",
  "http://evil.example",
  "www.evil.example",
  "@octocat",
  "=HYPERLINK(\"http://evil.example\")",
  "=",
  "+",
  "-",
  "@",
  ",",
  "\t",
  "\n",
  "\r",
  "\r\n",
  "\u0000",
  "\u0007",
  "\u001b[31m",
  "\u007f",
  "\u0085",
  "\u009b",
  "\u2028",
  "\u2029",
  "\u200e",
  "\u200f",
  "\u061c",
  "\u202a",
  "\u202b",
  "\u202c",
  "\u202d",
  "\u202e",
  "\u2066",
  "\u2067",
  "\u2068",
  "\u2069",
  "🔑",
  "𝕏",
  "数据库",
  "прод",
  "é",
  " ",
] as const;

/** The characters a report must never pass through raw (an oracle written apart from src/lib/report/neutralise.ts). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const RAW_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

const piece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_PIECES) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 4 }) },
);

/** A hostile string: mostly a few pieces, sometimes one piece repeated into a very long string. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.array(piece, { minLength: 1, maxLength: 8 }).map((parts) => parts.join("")) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...HOSTILE_PIECES), fc.integer({ min: 200, max: 2_000 })).map(([p, n]) => p.repeat(n)) },
);
