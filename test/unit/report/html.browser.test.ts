/**
 * Opens the HTML report in a real headless Chromium and checks that nothing injected through
 * resource names, messages or evidence runs, loads or becomes markup, and that a person sees those
 * values as text. Uses Debian's Chromium (.ci/run installs it); locally the suite skips without it,
 * under CI it fails.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTENT_SECURITY_POLICY, renderHtml } from "../../../src/lib/report/html.js";
import { escapeHtml } from "../../../src/lib/report/escapeHtml.js";
import { neutraliseText } from "../../../src/lib/text/neutralise.js";
import { loadReportHistory } from "../../../src/lib/history/reportHistory.js";
import { findingFingerprint } from "../../../src/lib/history/findings.js";
import type { ReportHistory } from "../../../src/lib/report/reportHistory.js";
import type { EstateSnapshot } from "../../../src/lib/estate/snapshot.js";
import { recordEstateStory, type EstateStory } from "../../support/reportHistoryFixture.js";
import { contosoPolicy, loadSnapshot } from "../../support/snapshots.js";
import { allResults, FORMULA_PAYLOADS, MARKDOWN_PAYLOADS, sampleReport, SCRIPT_PAYLOADS, UNICODE_NAME } from "./sampleReport.js";

const CHROMIUM = "/usr/bin/chromium";
/** Kept among the test outputs (test-results/ is git-ignored; CI keeps it as an artifact). */
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "test-results");
const SCREENSHOT = join(RESULTS, "keywarden-report.png");
const PAYLOAD_SCREENSHOT = join(RESULTS, "keywarden-report-payloads.png");
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

/**
 * The hostile names also reach the SVG pictures: the Contoso estate with its HSM, a key, consumers and a region
 * renamed to payloads (references kept consistent, so they are drawn).
 */
function hostileSnapshot(): EstateSnapshot {
  const snapshot = loadSnapshot("contoso-drifted");
  const hsm = snapshot.managedHsms[0];
  const key = hsm?.keys?.find((k) => k.name === "Contoso-DISK-CMK");
  if (!hsm || !key) throw new Error("the Contoso fixture changed: no Contoso-DISK-CMK");
  hsm.name = SCRIPT_PAYLOADS.titleBreakout;
  key.name = SCRIPT_PAYLOADS.imgOnerror;
  const names = [SCRIPT_PAYLOADS.scriptTag, SCRIPT_PAYLOADS.styleBreakout, SCRIPT_PAYLOADS.details];
  snapshot.consumers.diskEncryptionSets.forEach((des, i) => {
    if (des.keyReference) des.keyReference.keyName = key.name;
    des.name = names[i % names.length] ?? des.name;
  });
  const account = snapshot.consumers.storageAccounts[0];
  if (account) account.location = SCRIPT_PAYLOADS.singleQuoteBreakout;
  return snapshot;
}

/** A history for the sample report: every open finding first seen a day apart, one scan. */
function sampleHistory(): ReportHistory {
  const open = allResults(sampleReport()).filter((r) => r.status !== "PASS");
  return {
    firstSeen: new Map(open.map((r, i) => [findingFingerprint(r.controlId, r.resourceId), new Date(Date.UTC(2025, 4, 1 + i)).toISOString()])),
    transitions: [],
    scans: [{ scanId: "20250601T080500000Z-000000000000", scannedAt: "2025-06-01T08:05:00.000Z" }],
  };
}

/** What the loaded page contains that could act: elements, event-handler attributes, its CSP. */
const ACTIVE_CONTENT = `({
  active: document.querySelectorAll("script, img, iframe, object, embed, link, a, form, base, details, meta[http-equiv=refresh], foreignObject, use, image, animate, set, animateMotion, animateTransform, feImage").length,
  svgOutsidePictures: [...document.querySelectorAll("svg")].filter((e) => !e.closest("section.pictures figure")).length,
  handlerAttributes: [...document.querySelectorAll("*")].flatMap((e) => [...e.attributes].map((a) => a.name)).filter((name) => name.startsWith("on")).length,
  csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute("content") ?? null,
})`;

describe.skipIf(!available && !inCi)("HTML report in headless Chromium", () => {
  let browser: Browser;
  const html = renderHtml(sampleReport(), { snapshot: hostileSnapshot(), history: sampleHistory() });
  let story: EstateStory | undefined;

  beforeAll(async () => {
    if (!available) throw new Error(`CI=true but Chromium is missing at ${CHROMIUM}: .ci/run should have installed it.`);
    const started = performance.now();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    console.info(`chromium ${browser.version()} launched in ${Math.round(performance.now() - started)} ms`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    story?.close();
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

    expect(await page.evaluate(ACTIVE_CONTENT)).toEqual({ active: 0, svgOutsidePictures: 0, handlerAttributes: 0, csp: CONTENT_SECURITY_POLICY });
    // the payloads are drawn, as text, in the pictures too
    const map = (await page.locator('svg[aria-label="Key to consumers map"]').textContent()) ?? "";
    for (const name of [SCRIPT_PAYLOADS.imgOnerror, SCRIPT_PAYLOADS.titleBreakout, SCRIPT_PAYLOADS.scriptTag, SCRIPT_PAYLOADS.singleQuoteBreakout]) expect(map, name).toContain(name);
    const versions = (await page.locator('svg[aria-label="Key versions timeline"]').textContent()) ?? "";
    expect(versions).toContain(SCRIPT_PAYLOADS.imgOnerror);

    const text = (await page.locator("body").innerText()).replace(/\s+/g, " ");
    const names = [
      SCRIPT_PAYLOADS.scriptTag,
      SCRIPT_PAYLOADS.imgOnerror,
      SCRIPT_PAYLOADS.javascriptUrl,
      FORMULA_PAYLOADS.hyperlink,
      FORMULA_PAYLOADS.plusCmd,
      MARKDOWN_PAYLOADS.pipes,
      MARKDOWN_PAYLOADS.backticks,
      // Shown with its right-to-left override as a visible escape, never obeyed.
      `${neutraliseText(UNICODE_NAME)}-storage`,
    ];
    for (const name of names) expect(text, name).toContain(name.replace(/\s+/g, " "));
    expect(await page.locator(".resource-name").getByText(SCRIPT_PAYLOADS.imgOnerror, { exact: true }).first().isVisible()).toBe(true);
    expect(await page.title()).toBe("KeyWarden compliance report · 2025-06-01T08:00:00.000Z");

    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: PAYLOAD_SCREENSHOT, fullPage: true });
    console.info(`report loaded, checked and captured to ${PAYLOAD_SCREENSHOT} in ${Math.round(performance.now() - started)} ms`);
    await page.close();
  });

  it("runs nothing even without its Content-Security-Policy (escaping holds on its own)", async () => {
    const csp = `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CONTENT_SECURITY_POLICY)}">\n`;
    expect(html).toContain(csp);
    const { page, observed } = await open(browser, html.replace(csp, ""));
    expect(await page.evaluate(ACTIVE_CONTENT)).toEqual({ active: 0, svgOutsidePictures: 0, handlerAttributes: 0, csp: null });
    expect(await pwned(page)).toBeUndefined();
    expect(observed).toEqual({ dialogs: [], console: [], pageErrors: [], requests: [], hookCalls: 0 });
    await page.close();
  });

  it("shows the consumer map and the timelines of a real estate's history, and keeps a screenshot", async () => {
    story = await recordEstateStory();
    const shown = story.scans.at(-1)?.scan.scanId ?? "";
    const history = await loadReportHistory(story.store, shown);
    const { page, observed } = await open(browser, renderHtml(story.report, { history, snapshot: story.snapshot, policy: contosoPolicy() }));
    expect(observed).toEqual({ dialogs: [], console: [], pageErrors: [], requests: [], hookCalls: 0 });
    expect(await page.evaluate(ACTIVE_CONTENT)).toEqual({ active: 0, svgOutsidePictures: 0, handlerAttributes: 0, csp: CONTENT_SECURITY_POLICY });

    const picture = (label: string) => page.getByRole("img", { name: label, exact: true });
    for (const label of ["Findings timeline", "Key to consumers map", "Key versions timeline"]) expect(await picture(label).isVisible(), label).toBe(true);

    const timeline = (await picture("Findings timeline").textContent()) ?? "";
    expect(timeline).toContain("4 scans · 10 opened · 1 resolved");
    expect(timeline).toContain("+9");
    expect(timeline).toContain("2026-11-07");

    const map = (await picture("Key to consumers map").textContent()) ?? "";
    for (const text of ["Contoso-DISK-CMK", "Contoso-SQLMI-CMK", "Contoso-STORAGE-CMK", "des-contoso-centralindia", "contoso-sqlmi-01", "STALE: not the current version", "southindia · 1 consumer · current version"]) {
      expect(map, text).toContain(text);
    }
    const versions = (await picture("Key versions timeline").textContent()) ?? "";
    expect(versions).toContain("rotation due 2027-05-07");
    expect(versions).toContain("(current): created 2026-11-08");
    expect(versions).toContain("policy rotateAfter P180D");

    // every finding says when it was first seen, and its command is filled in
    const firstSeen = await page.locator("dd.first-seen").allTextContents();
    expect(firstSeen.length).toBe(history.firstSeen.size);
    expect(firstSeen).toContain(story.scans[1]?.scan.scannedAt);
    expect(await page.locator("pre.cli code").first().textContent()).not.toContain("<hsm-name>");

    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(50_000);
    console.info(`estate report captured to ${SCREENSHOT}`);
    await page.close();
  });
});
