import { describe, expect, it } from "vitest";
import { escapeHtml } from "../../../src/lib/report/escapeHtml.js";
import { CONTENT_SECURITY_POLICY, renderHtml } from "../../../src/lib/report/html.js";
import { allResults, FORMULA_PAYLOADS, MARKDOWN_PAYLOADS, sampleReport, SCRIPT_PAYLOADS } from "./sampleReport.js";

/** The tags the renderer writes; anything else in the output came from data. */
const ALLOWED_TAGS = new Set(
  "html head meta title style body header h1 h2 h3 h4 h5 dl dt dd div main section p span strong article table thead tbody tr th td pre code ul li footer".split(" "),
);

/** Every start tag of the page with its attributes (values are constants, so a simple scan suffices). */
function startTags(html: string): { name: string; attributes: [string, string][] }[] {
  return [...html.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*>/g)].map((m) => ({
    name: (m[1] ?? "").toLowerCase(),
    attributes: [...(m[2] ?? "").matchAll(/([^\s=]+)(?:="([^"]*)")?/g)].map((a) => [a[1] ?? "", a[2] ?? ""] as [string, string]),
  }));
}

describe("escapeHtml", () => {
  it("escapes & < > \" ' and the backtick", () => {
    expect(escapeHtml(`<a href="x" title='y'>&\`</a>`)).toBe("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;");
    expect(escapeHtml("plain ünïcødé 🔑")).toBe("plain ünïcødé 🔑");
  });
});

describe("renderHtml", () => {
  const report = sampleReport();
  const html = renderHtml(report);

  it("is one self-contained page with a strict Content-Security-Policy", () => {
    expect(html.startsWith("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")).toBe(true);
    expect(CONTENT_SECURITY_POLICY).toBe("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'");
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CONTENT_SECURITY_POLICY)}">`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<a\s|url\(|@import/i);
  });

  it("writes only its own tags, with attributes from constants only", () => {
    const tags = startTags(html);
    expect(tags.length).toBeGreaterThan(200);
    for (const tag of tags) {
      expect(ALLOWED_TAGS.has(tag.name), tag.name).toBe(true);
      for (const [name, value] of tag.attributes) {
        expect(["class", "lang", "charset", "http-equiv", "content", "name"], `${tag.name} ${name}`).toContain(name);
        if (name === "class") expect(value).toMatch(/^[a-z-]+( [a-z-]+)*$/);
      }
    }
    // Every `<` in the page opens one of those tags, a closing tag or the doctype: data never adds markup.
    expect(html.match(/</g)?.length).toBe(tags.length + (html.match(/<\//g)?.length ?? 0) + 1);
  });

  it("shows the snapshot's time and hash in the header", () => {
    expect(html).toContain(`<dt>Snapshot collected</dt><dd>2025-06-01T08:00:00.000Z</dd>`);
    expect(html).toContain(`<dt>Snapshot SHA-256</dt><dd class="mono">${report.snapshot.sha256}</dd>`);
    expect(html).toContain("<title>KeyWarden compliance report · 2025-06-01T08:00:00.000Z</title>");
  });

  it("escapes every hostile value where it appears", () => {
    for (const value of [...Object.values(SCRIPT_PAYLOADS), ...Object.values(FORMULA_PAYLOADS), MARKDOWN_PAYLOADS.pipes]) {
      const appearsRaw = allResults(report).some((r) => r.resourceName === value);
      if (appearsRaw) expect(html, value).toContain(escapeHtml(value));
    }
    expect(html).toContain(escapeHtml(JSON.stringify({ enablePurgeProtection: false, enableSoftDelete: true, tags: { owner: SCRIPT_PAYLOADS.preBreakout, note: SCRIPT_PAYLOADS.titleBreakout } }, null, 2)));
  });

  it("groups findings by severity, with remediation and mappings", () => {
    const order = ["Critical", "High", "Medium", "Low"].map((s) => html.indexOf(`">${s}</span> `));
    expect(order.filter((index) => index < 0)).toEqual([]);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(html).not.toContain('">Info</span> '); // the only info result passes
    // each finding's own command; this HSM's id does not parse (its name holds a "/"), and the command says so
    expect(html).toContain(
      `<pre class="cli"><code>az keyvault update-hsm --hsm-name &lt;hsm-name: not known for this finding&gt; --resource-group &lt;resource-group: not known for this finding&gt; --enable-purge-protection true</code></pre>`,
    );
    expect(html).toContain('<span class="framework">Azure Policy</span> <span class="mono">c39ba22d-4428-4149-b981-70acb31fc383</span> · Azure Key Vault Managed HSM should have purge protection enabled');
  });
});
