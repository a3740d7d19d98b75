import "./seed.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpRequest, InvocationContext, type HttpResponseInit } from "@azure/functions";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { complianceReportHandler } from "../../src/functions/complianceReport.js";
import { SEVERITIES } from "../../src/lib/compliance/types.js";
import { REPORT_FORMATS } from "../../src/lib/report/formats.js";
import { createRuntime, setRuntime } from "../../src/lib/runtime.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { hostileText } from "./hostileText.js";

/**
 * GET /api/compliance/report over random, malformed and repeated query parameters, against a real runtime (the
 * emulator, a state store holding a scan): a 400 naming a parameter that is wrong, a 404 for an `at` before every
 * scan, or a valid report in the format asked for — never a 500, never a setting's value, and nosniff and
 * no-store on every response.
 */

const KNOWN = ["format", "minSeverity", "at", "refresh", "code"] as const;
const CONTENT_TYPES: Readonly<Record<string, RegExp>> = {
  json: /^application\/json/,
  md: /^text\/markdown/,
  html: /^text\/html/,
  sarif: /^application\/sarif\+json/,
  csv: /^text\/csv/,
};

type Pair = [string, string];

const name: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...KNOWN) },
  { weight: 1, arbitrary: fc.constantFrom("Format", "FORMAT", "minseverity", "min_severity", "refresh ", " at", "", "__proto__", "constructor", "format[]") },
  { weight: 1, arbitrary: fc.oneof(hostileText, fc.string({ unit: "binary", maxLength: 8 })) },
);
const value: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...REPORT_FORMATS, ...SEVERITIES, "true", "false") },
  {
    weight: 2,
    arbitrary: fc.constantFrom("2026-11-30", "2099-01-01", "1970-01-01", "2026-02-30", "0000-01-01", "2026-11-30T18:00:00Z", "2026-11-30T18:00:00+05:30", "2026-11-30T18:00:00", "2026-13-01T00:00:00Z", "2026-11-30T18:00:00+99:99", "now", "-1", "1e309"),
  },
  { weight: 1, arbitrary: fc.constantFrom("", "JSON", "Html", "True", "TRUE", "1", "yes", "critical,high", "json ", " json", "%zz", "null", "undefined", "toString") },
  { weight: 2, arbitrary: fc.oneof(hostileText, fc.string({ unit: "binary", maxLength: 20 }), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())) },
);
/** A query as a list of parameters, repeats allowed; `refresh=true` (a scan of the emulator) kept rare for time. */
const pairs: fc.Arbitrary<Pair[]> = fc
  .tuple(fc.array(fc.tuple(name, value), { maxLength: 5 }), fc.integer({ min: 0, max: 9 }))
  .map(([ps, dice]) => ps.map(([n, v]): Pair => (n === "refresh" && v === "true" && dice !== 0 ? [n, "false"] : [n, v])));

/** What is wrong with a query, worked out apart from the handler: every parameter that must be refused. */
function refusedNames(query: URLSearchParams): { sure: Set<string>; maybeAt: boolean } {
  const sure = new Set<string>();
  const names = [...new Set(query.keys())];
  for (const n of names) {
    if (query.getAll(n).length > 1) sure.add(n);
    if (!(KNOWN as readonly string[]).includes(n)) sure.add(n);
  }
  const one = (n: string) => (query.getAll(n).length === 1 ? query.get(n) : null);
  const format = one("format");
  if (format !== null && !(REPORT_FORMATS as readonly string[]).includes(format)) sure.add("format");
  const severity = one("minSeverity");
  if (severity !== null && !(SEVERITIES as readonly string[]).includes(severity)) sure.add("minSeverity");
  const refresh = one("refresh");
  if (refresh !== null && refresh !== "true" && refresh !== "false") sure.add("refresh");
  if (refresh === "true" && query.has("at")) sure.add("at");
  // Whether an `at` value is a valid time is the parser's to say (its own tests pin it); here: refused or served.
  return { sure, maybeAt: query.has("at") };
}

describe("the compliance report's query parameters", () => {
  let t: TestEmulator;
  let stateDir: string;
  let settingValues: string[];
  const seen = new Map<number, number>();

  async function get(url: string): Promise<{ response: HttpResponseInit; errors: string[] }> {
    const errors: string[] = [];
    const context = new InvocationContext({ invocationId: "6f1c0c3e-2b1a-4d8e-9f00-0000000000c2", functionName: "complianceReport", logHandler: (level, ...args) => (level === "error" ? errors.push(args.map(String).join(" ")) : undefined) });
    const response = await complianceReportHandler(new HttpRequest({ method: "GET", url }), context);
    const status = response.status ?? 200;
    seen.set(status, (seen.get(status) ?? 0) + 1);
    return { response, errors };
  }

  /** Holds for every response, whatever the query. */
  function expectSafe(response: HttpResponseInit, errors: string[]): string {
    const headers = new Headers(response.headers as Record<string, string>);
    expect(headers.get("x-content-type-options")).toBe("nosniff");
    expect(headers.get("cache-control")).toBe("no-store");
    expect(response.status).not.toBe(500);
    expect(errors).toEqual([]);
    const body = typeof response.body === "string" ? response.body : JSON.stringify(response.jsonBody ?? null);
    const whole = `${body}\n${[...headers].map(([k, v]) => `${k}: ${v}`).join("\n")}`;
    expect(settingValues.filter((v) => whole.includes(v))).toEqual([]);
    return body;
  }

  beforeAll(async () => {
    t = await startTestEmulator("contoso-drifted");
    stateDir = mkdtempSync(join(tmpdir(), "kw-http-props-"));
    const env = t.env({ KEYWARDEN_STATE_DIR: stateDir });
    setRuntime(await createRuntime({ env }));
    // The settings a response must never carry: the CA (a line of it), the endpoint, the state directory, the policy file.
    const pemLine = (env.KEYWARDEN_EMULATOR_CA_PEM ?? "").split("\n").find((l) => l.length > 40);
    settingValues = [pemLine, env.KEYWARDEN_EMULATOR_ENDPOINT, stateDir, env.KEYWARDEN_POLICY_FILE].filter((v): v is string => typeof v === "string" && v.length > 8);
    expect(settingValues).toHaveLength(4);
    // One stored scan, as the timer leaves it.
    const first = await get("http://localhost/api/compliance/report?refresh=true&format=json");
    expect(first.response.status).toBe(200);
  });
  afterAll(async () => {
    setRuntime(undefined);
    await t.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("random, malformed and repeated parameters: 400 naming one that is wrong, 404 for an at before every scan, or the report", async () => {
    await fc.assert(
      fc.asyncProperty(pairs, async (ps) => {
        const query = new URLSearchParams(ps);
        const { response, errors } = await get(`http://localhost/api/compliance/report?${query.toString()}`);
        const body = expectSafe(response, errors);
        const { sure, maybeAt } = refusedNames(query);
        if (sure.size > 0) expect(response.status, `refused ${[...sure].join(", ")}`).toBe(400);
        if (response.status === 400) {
          const error = (response.jsonBody as { error: { code: string; message: string } }).error;
          expect(error.code).toBe("BadRequest");
          const named = [...sure, ...(maybeAt ? ["at"] : [])].filter((n) => error.message.includes(`"${n}"`) || error.message.startsWith(`Invalid ${n} `) || error.message.startsWith(`Invalid ${n}:`));
          expect(named.length, `${error.message} names none of ${JSON.stringify([...sure])}`).toBeGreaterThan(0);
          return;
        }
        if (response.status === 404) {
          expect(maybeAt).toBe(true);
          expect((response.jsonBody as { error: { code: string } }).error.code).toBe("NotFound");
          return;
        }
        expect(response.status).toBe(200);
        const format = query.get("format") ?? "json";
        const headers = new Headers(response.headers as Record<string, string>);
        expect(headers.get("content-type")).toMatch(CONTENT_TYPES[format]!);
        expect(headers.get("x-keywarden-scan-id")).toBeTruthy();
        expect(["stored", "fresh"]).toContain(headers.get("x-keywarden-report-source"));
        expect(body.length).toBeGreaterThan(100);
        if (format === "json" || format === "sarif") expect(() => JSON.parse(body) as unknown).not.toThrow();
      }),
      { numRuns: 80 },
    );
    // The property must have seen each kind of answer, or it says little.
    expect(seen.get(400) ?? 0).toBeGreaterThan(10);
    expect(seen.get(200) ?? 0).toBeGreaterThan(5);
  });

  it("a raw query string of any bytes: the same guarantees", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: "binary", maxLength: 60 }), fc.array(fc.constantFrom("format=", "json", "&", "=", "%", "%2", "%zz", "%00", "+", "#", "?", ";", "minSeverity", "at", "%E2%80%AE", "&&", "==", "[]"), { maxLength: 12 }).map((p) => p.join(""))), async (raw) => {
        let url: string;
        try {
          url = new URL(`http://localhost/api/compliance/report?${raw}`).toString();
        } catch {
          return; // not a URL the host could receive
        }
        const { response, errors } = await get(url);
        expectSafe(response, errors);
        expect([200, 400, 404]).toContain(response.status ?? 200);
      }),
      { numRuns: 60 },
    );
  });
});
