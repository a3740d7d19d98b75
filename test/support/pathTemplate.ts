/**
 * Swagger path-template matching for Azure specs.
 *
 * - literal segments compare case-insensitively (after percent-decoding),
 * - `{param}` matches exactly one segment (which may be empty: `/keys/cmk1/` gives key-version ""),
 * - a parameter flagged `x-ms-skip-url-encoding` (e.g. `{scope}`, `{resourceUri}`) matches zero or
 *   more whole segments, so `/providers/Microsoft.Authorization/roleAssignments` matches
 *   `/{scope}/providers/...` with scope "/".
 */

export type TemplateSegment =
  | { kind: "literal"; text: string }
  | { kind: "param"; name: string; multi: boolean }
  | { kind: "mixed"; regex: RegExp; names: string[] };

export interface CompiledTemplate {
  template: string;
  segments: TemplateSegment[];
  /** template with parameter names erased, lowercased: identifies "the same operation" across versions */
  shape: string;
}

export function compileTemplate(template: string, multiSegmentParams: ReadonlySet<string>): CompiledTemplate {
  const parts = template.replace(/^\//, "").split("/");
  const segments: TemplateSegment[] = parts.map((p) => {
    const whole = /^\{([^}]+)\}$/.exec(p);
    if (whole?.[1] !== undefined) return { kind: "param", name: whole[1], multi: multiSegmentParams.has(whole[1]) };
    if (!p.includes("{")) return { kind: "literal", text: p.toLowerCase() };
    const names: string[] = [];
    const src = p
      .split(/(\{[^}]+\})/)
      .map((chunk) => {
        const m = /^\{([^}]+)\}$/.exec(chunk);
        if (m?.[1] !== undefined) {
          names.push(m[1]);
          return "(.*?)";
        }
        return chunk.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      })
      .join("");
    return { kind: "mixed", regex: new RegExp(`^${src}$`, "i"), names };
  });
  const shape =
    "/" +
    segments
      .map((s) => (s.kind === "literal" ? s.text : s.kind === "param" ? (s.multi ? "{*}" : "{}") : s.regex.source.toLowerCase()))
      .join("/");
  return { template, segments, shape };
}

export interface PathMatch {
  params: Record<string, string>;
  /** literal segments matched: more is more specific */
  literals: number;
  /** request segments swallowed by multi-segment params: fewer is more specific */
  swallowed: number;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Splits a request path (query string removed) into decoded segments. */
export function splitPath(requestPath: string): string[] {
  const p = requestPath.split("?")[0] ?? "";
  return p.replace(/^\//, "").split("/").map(decode);
}

export function matchTemplate(t: CompiledTemplate, reqSegments: string[]): PathMatch | undefined {
  let best: PathMatch | undefined;
  const walk = (ti: number, ri: number, params: Record<string, string>, literals: number, swallowed: number): void => {
    if (ti === t.segments.length) {
      if (ri !== reqSegments.length) return;
      if (!best || literals > best.literals || (literals === best.literals && swallowed < best.swallowed)) {
        best = { params: { ...params }, literals, swallowed };
      }
      return;
    }
    const seg = t.segments[ti] as TemplateSegment;
    if (seg.kind === "param" && seg.multi) {
      for (let n = 0; ri + n <= reqSegments.length; n++) {
        const value = reqSegments.slice(ri, ri + n).join("/");
        walk(ti + 1, ri + n, { ...params, [seg.name]: value === "" ? "/" : `/${value}` }, literals, swallowed + n);
      }
      return;
    }
    const r = reqSegments[ri];
    if (r === undefined) return;
    if (seg.kind === "literal") {
      if (r.toLowerCase() === seg.text) walk(ti + 1, ri + 1, params, literals + 1, swallowed);
    } else if (seg.kind === "param") {
      walk(ti + 1, ri + 1, { ...params, [seg.name]: r }, literals, swallowed);
    } else {
      const m = seg.regex.exec(r);
      if (m) {
        const p = { ...params };
        seg.names.forEach((n, i) => (p[n] = m[i + 1] ?? ""));
        walk(ti + 1, ri + 1, p, literals, swallowed);
      }
    }
  };
  walk(0, 0, {}, 0, 0);
  return best;
}

/**
 * Orders api-versions: numeric ones (Key Vault "7.5") come before date-based ones
 * ("2025-07-01"); a "-preview" sorts just before the same date's stable version.
 */
export function compareApiVersions(a: string, b: string): number {
  const k = (v: string): [number, string, number] => {
    const date = /^(\d{4}-\d{2}-\d{2})(.*)$/.exec(v);
    if (date) return [1, date[1] ?? "", date[2] ? 0 : 1];
    const num = v.split(".").map((x) => x.padStart(6, "0")).join(".");
    return [0, num, 1];
  };
  const [a0, a1, a2] = k(a);
  const [b0, b1, b2] = k(b);
  return a0 - b0 || (a1 < b1 ? -1 : a1 > b1 ? 1 : 0) || a2 - b2;
}
