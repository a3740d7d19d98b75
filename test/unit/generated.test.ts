import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { controlFolders, renderChecksIndex } from "../../scripts/gen-checks-index.js";
import { renderOperations } from "../../scripts/gen-operations.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

/** Generated files are committed; these fail when one is stale (regenerate with the named script). */
describe("generated files are current", () => {
  it("emulator/OPERATIONS.md (npm run gen:operations)", () => {
    expect(read("emulator/OPERATIONS.md")).toBe(renderOperations());
  });

  it("src/lib/compliance/checks/index.ts (npm run gen:checks)", () => {
    expect(read("src/lib/compliance/checks/index.ts")).toBe(renderChecksIndex(controlFolders()));
  });
});
