/**
 * Opens the HTML report in a real headless Chromium and checks that nothing injected through
 * resource names, messages or evidence runs, loads or becomes markup, and that a person sees those
 * values as text. Uses Debian's Chromium (.ci/run installs it); locally the suite skips without it,
 * under CI it fails.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTENT_SECURITY_POLICY, renderHtml } from "../../../src/lib/report/html.js";
import { escapeHtml } from "../../../src/lib/report/escapeHtml.js";
import { FORMULA_PAYLOADS, MARKDOWN_PAYLOADS, sampleReport, SCRIPT_PAYLOADS, UNICODE_NAME } from "./sampleReport.js";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = "/tmp/keywarden-report.png";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const available = existsSync(CHROMIUM);
const inCi = process.env.CI === "true";
if (!available && !inCi) console.warn(`Skipping the HTML browser tests: no Chromium at ${CHROMIUM} (apt-get install -y chromium).`);

interface Observed {
  dialogs: string[];
  console: string[];
  pageErrors: string[];
  requests: string[];
  hookCalls: number;
}

/** Loads `html` with every channel a payload could use watched: dialogs, console, errors, network, a hook. */
async function open(browser: Browser, html: string): Promise<{ page: Page; observed: Observed }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const observed: Observed = { dialogs: [], console: [], pageErrors: [], requests: [], hookCalls: 0 };
  page.on("dialog", (dialog) => {
    observed.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on("console", (message) => observed.console.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => observed.pageErrors.push(error.message));
  page.on("request", (request) => observed.requests.push(request.url()));
  await page.route("**/*", (route) => route.abort());
  await page.exposeFunction("__pwnedHook", () => {
    observed.hookCalls++;
  });
  await page.setContent(html, { waitUntil: "load" });
  // Error handlers of broken images and the like fire after load.
  await page.waitForTimeout(250);
  return { page, observed };
}

// Page-side code is passed as strings: this project compiles without the DOM library.
async function pwned(page: Page): Promise<unknown> {
  return page.evaluate("window.__pwned");
}

/** What the loaded page contains that could act: elements, event-handler attributes, its CSP. */
const ACTIVE_CONTENT = `({
  active: document.querySelectorAll("script, img, svg, iframe, object, embed, link, a, form, base, details, meta[http-equiv=refresh]").length,
  handlerAttributes: [...document.querySelectorAll("*")].flatMap((e) => [...e.attributes].map((a) => a.name)).filter((name) => name.startsWith("on")).length,
  csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute("content") ?? null,
})`;

describe.skipIf(!available && !inCi)("HTML report in headless Chromium", () => {
  let browser: Browser;
  const html = renderHtml(sampleReport());

  beforeAll(async () => {
    if (!available) throw new Error(`CI=true but Chromium is missing at ${CHROMIUM}: .ci/run should have installed it.`);
    const started = performance.now();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    console.info(`chromium ${browser.version()} launched in ${Math.round(performance.now() - started)} ms`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("notices a payload that does run (the detectors work)", async () => {
    const unsafe = `<!DOCTYPE html><title>unsafe</title><p>${SCRIPT_PAYLOADS.imgOnerror}<script>window.__pwnedHook();alert("x")</script>`;
    const { page, observed } = await open(browser, unsafe);
    expect(await pwned(page)).toBe(1);
    expect(observed.dialogs).toEqual(["alert: x"]);
    expect(observed.hookCalls).toBe(1);
    await page.close();
  });

  it("runs nothing, loads nothing and shows the hostile names as text", async () => {
    const started = performance.now();
    const { page, observed } = await open(browser, html);
    expect(await pwned(page)).toBeUndefined();
    expect(observed).toEqual({ dialogs: [], console: [], pageErrors: [], requests: [], hookCalls: 0 });

    expect(await page.evaluate(ACTIVE_CONTENT)).toEqual({ active: 0, handlerAttributes: 0, csp: CONTENT_SECURITY_POLICY });

    const text = (await page.locator("body").innerText()).replace(/\s+/g, " ");
    const names = [
      SCRIPT_PAYLOADS.scriptTag,
      SCRIPT_PAYLOADS.imgOnerror,
      SCRIPT_PAYLOADS.javascriptUrl,
      FORMULA_PAYLOADS.hyperlink,
      FORMULA_PAYLOADS.plusCmd,
      MARKDOWN_PAYLOADS.pipes,
      MARKDOWN_PAYLOADS.backticks,
      `${UNICODE_NAME}-storage`,
    ];
    for (const name of names) expect(text, name).toContain(name.replace(/\s+/g, " "));
    expect(await page.getByText(SCRIPT_PAYLOADS.imgOnerror, { exact: true }).first().isVisible()).toBe(true);
    expect(await page.title()).toBe("KeyWarden compliance report · 2025-06-01T08:00:00.000Z");

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.info(`report loaded, checked and captured to ${SCREENSHOT} in ${Math.round(performance.now() - started)} ms`);
    await page.close();
  });

  it("runs nothing even without its Content-Security-Policy (escaping holds on its own)", async () => {
    const csp = `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CONTENT_SECURITY_POLICY)}">\n`;
    expect(html).toContain(csp);
    const { page, observed } = await open(browser, html.replace(csp, ""));
    expect(await page.evaluate(ACTIVE_CONTENT)).toEqual({ active: 0, handlerAttributes: 0, csp: null });
    expect(await pwned(page)).toBeUndefined();
    expect(observed).toEqual({ dialogs: [], console: [], pageErrors: [], requests: [], hookCalls: 0 });
    await page.close();
  });
});
