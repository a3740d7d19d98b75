import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { APP_SETTING_NAMES } from "../../src/lib/config/settings.js";
import { PERMISSIONS } from "../../src/lib/permissions.js";

const root = resolve(import.meta.dirname, "../..");
const doc = readFileSync(resolve(root, "docs/operations.md"), "utf8");
const readme = readFileSync(resolve(root, "README.md"), "utf8");
const tableRows = doc.split("\n").filter((line) => line.startsWith("|"));

/** GitHub's heading anchors: lower-case, punctuation dropped, spaces to hyphens. */
const anchor = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");

describe("docs/operations.md", () => {
  it("has a permission table row for every PERMISSIONS grant, by id and role name", () => {
    expect(PERMISSIONS.length).toBeGreaterThan(0);
    const missing = PERMISSIONS.filter((grant) => !tableRows.some((row) => row.includes(`| \`${grant.id}\` |`) && row.includes(grant.roleName)));
    expect(missing.map((g) => `${g.id} (${g.roleName})`)).toEqual([]);
  });

  it("has no permission row that PERMISSIONS does not define", () => {
    const ids = new Set(PERMISSIONS.map((p) => p.id));
    const documented = tableRows.map((row) => /^\| `([a-z0-9-]+)` \|/.exec(row)?.[1]).filter((id): id is string => id !== undefined);
    expect(documented.length).toBe(PERMISSIONS.length);
    expect(documented.filter((id) => !ids.has(id))).toEqual([]);
  });

  it("documents every app setting KeyWarden reads", () => {
    expect(APP_SETTING_NAMES.length).toBeGreaterThan(0);
    const missing = APP_SETTING_NAMES.filter((name) => !tableRows.some((row) => row.startsWith(`| \`${name}\` |`)));
    expect(missing).toEqual([]);
  });

  it("names no setting that does not exist", () => {
    const known = new Set<string>(APP_SETTING_NAMES);
    const named = [...new Set(doc.match(/KEYWARDEN_[A-Z_]*[A-Z]/g) ?? [])];
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((name) => !known.has(name))).toEqual([]);
  });

  it("links only README sections that exist", () => {
    const anchors = new Set(readme.split("\n").filter((l) => /^#{1,6} /.test(l)).map((l) => anchor(l.replace(/^#+ /, ""))));
    const linked = [...doc.matchAll(/\(\.\.\/README\.md#([^)]+)\)/g)].map((m) => m[1]!);
    expect(linked.length).toBeGreaterThan(0);
    expect(linked.filter((a) => !anchors.has(a))).toEqual([]);
  });

  it("is linked from the README's Deploy to Azure section", () => {
    const section = readme.split(/^## /m).find((s) => s.startsWith("Deploy to Azure"));
    expect(section).toBeDefined();
    expect(section).toContain("(docs/operations.md)");
  });
});
