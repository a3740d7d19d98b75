import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli, EXIT_USAGE } from "../../src/cli/runCli.js";
import { ConfigError } from "../../src/lib/config/errors.js";
import { loadConfig, parsePolicyJson } from "../../src/lib/config/load.js";

const EXAMPLE = readFileSync(new URL("../../examples/contoso.policy.json", import.meta.url), "utf8");

function configError(action: () => unknown): ConfigError {
  let error: unknown;
  try {
    action();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

/** The example with `line` inserted after its `after`-th line (1-based). */
function insertLine(after: number, line: string): string {
  const lines = EXAMPLE.split("\n");
  lines.splice(after, 0, line);
  return lines.join("\n");
}

/** `keywarden validate` with the policy file holding `text`: the exit code and stderr. */
async function validate(text: string) {
  let stderr = "";
  const code = await runCli(["validate"], {
    stdout: () => undefined,
    stderr: (t) => void (stderr += t),
    env: { KEYWARDEN_POLICY_FILE: "policy.json" },
    readFile: async () => text,
    writeFile: async () => undefined,
  }, { collect: () => Promise.reject(new Error("validate does not collect")) });
  return { code, stderr };
}

describe("duplicate keys in a policy document", () => {
  // Line 23 is the DISK key's "minKeySize"; a second one below it would silently win.
  const duplicated = insertLine(23, '          "minKeySize": 2048,');

  it("are an error naming the key, where it is, and both places", () => {
    expect(EXAMPLE.split("\n")[22]).toBe('          "minKeySize": 3072,');
    const error = configError(() => parsePolicyJson(duplicated, "policy.json"));
    expect(error.issues).toEqual([{ path: "managedHsms[0].keys[1]", message: 'duplicate key "minKeySize" (line 23, column 11 and line 24, column 11)' }]);
    expect(error.message).toBe('Invalid policy document in policy.json (1 problem):\n  - managedHsms[0].keys[1]: duplicate key "minKeySize" (line 23, column 11 and line 24, column 11)');
  });

  it("compare keys as JSON reads them (escapes decoded), at the top level too", () => {
    const error = configError(() => parsePolicyJson('{"version": 1,\n "vers\\u0069on": 1}', "KEYWARDEN_POLICY_JSON"));
    expect(error.issues).toEqual([{ path: "", message: 'duplicate key "version" at the top level (line 1, column 2 and line 2, column 2)' }]);
  });

  it("in KEYWARDEN_POLICY_JSON are a ConfigError too", async () => {
    await expect(loadConfig({ env: { KEYWARDEN_POLICY_JSON: duplicated } })).rejects.toThrow(/Invalid policy document in KEYWARDEN_POLICY_JSON \(1 problem\):\n {2}- managedHsms\[0\]\.keys\[1\]: duplicate key "minKeySize"/);
  });

  it("make the CLI exit 2", async () => {
    const r = await validate(duplicated);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain('duplicate key "minKeySize" (line 23, column 11 and line 24, column 11)');
  });

  it("the same key in sibling objects is no duplicate", () => {
    expect(parsePolicyJson(EXAMPLE, "policy.json").managedHsms[0]?.keys.map((k) => k.minKeySize)).toEqual([3072, 3072, 3072]);
  });
});

describe("limits on a policy document", () => {
  const deep = "[".repeat(100_000) + "]".repeat(100_000);

  it.each([
    ["100,000 nested arrays", deep],
    ["100,000 unclosed arrays", "[".repeat(100_000)],
    ["100,000 nested objects under a key", `{"managedHsms": ${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}}`],
  ])("rejects %s with the depth limit, before parsing recursively", (_name, text) => {
    const error = configError(() => parsePolicyJson(text, "deep.json"));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.message).toMatch(/^nests deeper than the limit of 64 levels \(at line 1, column \d+\)$/);
  });

  it("accepts 64 levels and rejects 65", () => {
    const nested = (levels: number) => `{"version": 1, "x": ${"[".repeat(levels - 1)}${"]".repeat(levels - 1)}}`;
    expect(configError(() => parsePolicyJson(nested(64), "p.json")).issues.map((i) => i.message)).not.toContainEqual(expect.stringMatching(/deeper/));
    expect(configError(() => parsePolicyJson(nested(65), "p.json")).issues.map((i) => i.message)).toEqual(["nests deeper than the limit of 64 levels (at line 1, column 84)"]);
  });

  it("rejects a document over 1 MiB, naming the limit", () => {
    const oversize = EXAMPLE.replace('"version": 1,', `"version": 1,${" ".repeat(1024 * 1024)}`);
    const error = configError(() => parsePolicyJson(oversize, "big.json"));
    expect(error.issues).toEqual([{ path: "", message: `is ${Buffer.byteLength(oversize)} bytes; the limit is 1 MiB (1048576 bytes)` }]);
    // Just under the limit is fine.
    expect(parsePolicyJson(EXAMPLE.replace('"version": 1,', `"version": 1,${" ".repeat(1024 * 1024 - Buffer.byteLength(EXAMPLE))}`), "p.json").version).toBe(1);
  });

  it("make the CLI exit 2 with the limit in the message", async () => {
    const tooDeep = await validate(deep);
    expect(tooDeep.code).toBe(EXIT_USAGE);
    expect(tooDeep.stderr).toContain("nests deeper than the limit of 64 levels");
    const tooBig = await validate(" ".repeat(1024 * 1024 + 1));
    expect(tooBig.code).toBe(EXIT_USAGE);
    expect(tooBig.stderr).toContain("the limit is 1 MiB");
  });
});
