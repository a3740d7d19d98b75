/**
 * Characters a report must never pass through raw from the estate: C0 controls, DEL, C1 controls, the line and
 * paragraph separators, and every bidirectional formatting character (embeddings and overrides U+202A–U+202E,
 * isolates U+2066–U+2069, the marks U+200E/U+200F and the Arabic letter mark U+061C). Raw, they can hide text,
 * forge lines or reorder what a reader sees ("Trojan Source"): a key named `cmk\u202Eexe.txt` reads as another name.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** UNSAFE less C0: JSON.stringify escapes C0 in strings itself, and its own layout (LF, spaces) is outside them. */
const UNSAFE_BEYOND_C0 = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Tab, LF and CR: whitespace that text nodes, code blocks and quoted CSV cells render as layout, nothing more. */
const LAYOUT = new Set(["\t", "\n", "\r"]);

export interface NeutraliseOptions {
  /** Keep tab, LF and CR raw (multi-line blocks: evidence, commands, quoted CSV cells). Default: escape them too. */
  keepLayout?: boolean;
}

/**
 * The one way untrusted text is made safe to show: every unsafe character becomes a visible escape, `\u{202e}`,
 * so a reader sees that it was there and what it was, and it acts on nothing.
 */
export function neutraliseText(text: string, options: NeutraliseOptions = {}): string {
  return text.replace(UNSAFE, (character) => (options.keepLayout === true && LAYOUT.has(character) ? character : visibleEscape(character)));
}

/**
 * For JSON documents (the JSON report, SARIF's data properties): the same characters as JSON `\uXXXX` escapes, so
 * the bytes carry none of them raw while a parser still reads the exact value back. JSON.stringify escapes C0
 * itself; DEL, C1, the separators and the bidi characters it leaves raw, and those only occur inside strings.
 */
export function escapeUnsafeInJson(json: string): string {
  return json.replace(UNSAFE_BEYOND_C0, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function visibleEscape(character: string): string {
  return `\\u{${(character.codePointAt(0) ?? 0).toString(16)}}`;
}
