import { html, raw, type Html } from "../markup.js";

/** How a consumer's key version stands against the key's current version. */
export type VersionState = "current" | "stale" | "following" | "unknown";

/** Said in words on every edge, so the map does not rely on colour alone. */
export const STATE_LABEL: Record<VersionState, string> = {
  current: "current version",
  stale: "STALE: not the current version",
  following: "versionless: follows the latest",
  unknown: "version unknown",
};

export const STATE_CLASS: Record<VersionState, Html> = {
  current: raw("vs-current"),
  stale: raw("vs-stale"),
  following: raw("vs-following"),
  unknown: raw("vs-unknown"),
};

/**
 * A text element at (x, y), cut to `maxChars` with an ellipsis; the whole text stays in its <title> (a tooltip,
 * and what a screen reader reads). The class is a constant; the text is escaped by `html`.
 */
export function svgText(x: number, y: number, text: string, className: string, maxChars: number, anchor: "start" | "middle" | "end" = "start"): Html {
  const chars = [...text];
  const shown = chars.length > maxChars ? `${chars.slice(0, maxChars - 1).join("")}…` : text;
  return html`<text x="${round(x)}" y="${round(y)}" class="${raw(className)}" text-anchor="${raw(anchor)}">${chars.length > maxChars ? html`<title>${text}</title>` : html``}${shown}</text>`;
}

export function round(n: number): number {
  return Math.round(n * 10) / 10;
}
