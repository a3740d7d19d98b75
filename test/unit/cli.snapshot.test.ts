import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EXIT_FINDINGS, EXIT_USAGE, runCli } from "../../src/cli/runCli.js";
import { fixedClock } from "../../src/lib/clock.js";

const POLICY = readFileSync(new URL("../../examples/contoso.policy.json", import.meta.url), "utf8");
const DRIFTED = readFileSync(new URL("../fixtures/snapshots/contoso-drifted.json", import.meta.url), "utf8");
const COLLECTED_AT = (JSON.parse(DRIFTED) as { collectedAt: string }).collectedAt;

/** `keywarden scan --snapshot <file>`: files are served from `files`; collecting from Azure is an error. */
function scan(files: Record<string, string>, ...argv: string[]) {
  const out = { stdout: "", stderr: "" };
  const exit = runCli(
    ["scan", ...argv],
    {
      stdout: (t) => void (out.stdout += t),
      stderr: (t) => void (out.stderr += t),
      env: { KEYWARDEN_POLICY_FILE: "policy.json" },
      readFile: async (path) => {
        const text = { "policy.json": POLICY, ...files }[path];
        if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
        return text;
      },
      writeFile: async () => undefined,
    },
    { collect: () => Promise.reject(new Error("scan --snapshot must not collect")), clock: fixedClock(COLLECTED_AT) },
  );
  return exit.then((code) => ({ code, ...out }));
}

describe("keywarden scan --snapshot", () => {
  it("judges a saved snapshot without collecting", async () => {
    const r = await scan({ "estate.json": DRIFTED }, "--snapshot", "estate.json", "--fail-on", "high");
    expect(r.code).toBe(EXIT_FINDINGS);
    expect(r.stderr).toMatch(/9 failed, 0 unknown, \d+ passed/);
  });

  it("refuses a file that is not a valid snapshot, naming the file and the field, with exit 2", async () => {
    const broken = JSON.parse(DRIFTED) as { managedHsms: { keys: unknown }[] };
    broken.managedHsms[0]!.keys = "none";
    const r = await scan({ "estate.json": JSON.stringify(broken) }, "--snapshot", "estate.json");
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toMatch(/estate\.json: not a valid estate snapshot .*managedHsms\.0\.keys/);
    const missing = await scan({}, "--snapshot", "nowhere.json");
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.stderr).toMatch(/cannot read the snapshot "nowhere\.json"/);
  });
});
