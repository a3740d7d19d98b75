import { HttpRequest, InvocationContext } from "@azure/functions";
import { afterEach, describe, expect, it } from "vitest";
import { complianceReportHandler } from "../../src/functions/complianceReport.js";
import { createRuntime, setRuntime } from "../../src/lib/runtime.js";

const INVOCATION_ID = "6f1c0c3e-2b1a-4d8e-9f00-0000000000c1";
const MARKER = "SECRET-MARKER-7f3a";

/** Calls the handler as the host does, with the runtime built from `env` (no Azure call is reached). */
async function get(query: string, env?: NodeJS.ProcessEnv) {
  const logs: { level: string; text: string }[] = [];
  if (env) {
    const runtime = createRuntime({ env });
    runtime.catch(() => undefined); // awaited by the handler; this only keeps the rejection from counting as unhandled
    setRuntime(runtime);
  }
  const context = new InvocationContext({ invocationId: INVOCATION_ID, functionName: "complianceReport", logHandler: (level, ...args) => logs.push({ level, text: args.map(String).join(" ") }) });
  const response = await complianceReportHandler(new HttpRequest({ method: "GET", url: `http://localhost:7071/api/compliance/report${query}` }), context);
  return { response, logs, headers: new Headers(response.headers as Record<string, string>), body: JSON.stringify(response.jsonBody ?? response.body ?? null) };
}

afterEach(() => setRuntime(undefined));

/** [case, app settings, what the body must not hold, what the log must hold] */
const badPolicies: [string, NodeJS.ProcessEnv, string, string][] = [
  // A bad value beside the marker: the schema's message quotes the document.
  ["a policy setting with a bad value", { KEYWARDEN_POLICY_JSON: JSON.stringify({ version: 1, subscriptions: [MARKER], managedHsms: `${MARKER} not a list` }) }, MARKER, MARKER],
  ["a policy setting that is not JSON", { KEYWARDEN_POLICY_JSON: `{"version": 1, "note": "${MARKER}" oops}` }, MARKER, "not valid JSON at line 1, column 45"],
  ["a policy file that cannot be read", { KEYWARDEN_POLICY_FILE: "/srv/keywarden-secret-dir/policy.json" }, "/srv/keywarden-secret-dir", "/srv/keywarden-secret-dir/policy.json"],
];

describe("complianceReport error responses", () => {
  it.each(badPolicies)("misconfigured (%s): logs the problem, returns only a correlation id", async (_name, env, leak, reason) => {
    const { response, logs, headers, body } = await get("?format=json", env);
    expect(response.status).toBe(500);
    expect(body).not.toContain(leak);
    expect(body).not.toMatch(/\/srv\/|[A-Za-z]:\\\\|\/home\/|\/work\//);
    expect(response.jsonBody).toEqual({ error: { code: "Misconfigured", message: `KeyWarden is misconfigured; the function log has the details under correlation id ${INVOCATION_ID}.`, correlationId: INVOCATION_ID } });
    expect(headers.get("x-correlation-id")).toBe(INVOCATION_ID);
    // The operator finds the full reason in the log, under the same id.
    const logged = logs.filter((l) => l.level === "error");
    expect(logged).toHaveLength(1);
    expect(logged[0]?.text).toContain(reason);
    expect(logged[0]?.text).toContain(INVOCATION_ID);
  });

  it.each([
    ["a 400", "?format=xml", undefined],
    ["a 500", "?format=json", badPolicies[0]![1]],
  ] as const)("%s carries nosniff and no-store", async (_name, query, env) => {
    const { response, headers } = await get(query, env);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(headers.get("x-content-type-options")).toBe("nosniff");
    expect(headers.get("cache-control")).toBe("no-store");
    expect(headers.get("content-type")).toMatch(/^application\/json/);
  });

  it.each([
    ["?format=json&format=html", 'Query parameter "format" is repeated; give it once.'],
    ["?minSeverity=high&format=json&minSeverity=low", 'Query parameter "minSeverity" is repeated; give it once.'],
  ])("answers a repeated parameter (%s) with 400 naming it", async (query, message) => {
    const { response } = await get(query);
    expect(response.status).toBe(400);
    expect(response.jsonBody).toEqual({ error: { code: "BadRequest", message } });
  });
});
