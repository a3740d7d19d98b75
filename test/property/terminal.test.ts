import "./seed.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EstateSnapshot } from "../../src/lib/estate/snapshot.js";
import { renderInventory } from "../../src/lib/inventory/render.js";
import { planRotation } from "../../src/lib/rotation/planner.js";
import { renderPlan } from "../../src/lib/rotation/render.js";
import { renderFields, renderTable } from "../../src/lib/text/table.js";
import { contosoPolicy, loadSnapshot } from "../support/snapshots.js";
import { hostileText, RAW_UNSAFE } from "./hostileText.js";

/**
 * What the CLI prints on a terminal (inventory tables, the rotation plan, setup-roles' table) over hostile names:
 * no control character, line separator or bidirectional override reaches the terminal raw, so a consumer named
 * `sql\u202Eexe` cannot reorder a line and an error message cannot send escape sequences or forge a line.
 */
const NOW = new Date("2026-11-28T00:00:00.000Z");

/** Every line of `text` free of the characters a report must never pass raw (the newlines between lines are ours). */
const unsafeLines = (text: string): string[] => text.split("\n").filter((line) => RAW_UNSAFE.test(line));

function renamed(snapshot: EstateSnapshot, name: string): EstateSnapshot {
  const copy = structuredClone(snapshot);
  const { sqlManagedInstances, diskEncryptionSets, storageAccounts } = copy.consumers;
  for (const c of [...sqlManagedInstances, ...diskEncryptionSets, ...storageAccounts]) c.name = `${name}${c.name}`;
  for (const e of copy.errors) e.message = `${name}${e.message}`;
  return copy;
}

describe("terminal output over hostile names", () => {
  const base = loadSnapshot();

  it("tables and fields pass no unsafe character raw, and show each one as a visible escape", () => {
    fc.assert(
      fc.property(fc.array(fc.array(hostileText, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 4 }), (rows) => {
        const table = renderTable(["A", "B", "C"], rows);
        const fields = renderFields(rows.map((r) => [r[0]!, r[1]!] as const));
        expect(unsafeLines(table)).toEqual([]);
        expect(unsafeLines(fields)).toEqual([]);
        // A header, a rule and one line per row: no cell broke a line.
        expect(table.split("\n")).toHaveLength(rows.length + 2);
      }),
    );
    expect(renderTable(["NAME"], [["sql\u202Eexe.txt"]])).toContain("sql\\u{202e}exe.txt");
  });

  it("the inventory and the rotation plan pass no unsafe character raw", () => {
    const consumers = base.consumers.sqlManagedInstances.length + base.consumers.diskEncryptionSets.length + base.consumers.storageAccounts.length;
    expect(consumers).toBeGreaterThan(0);
    fc.assert(
      fc.property(hostileText, (name) => {
        const snapshot = renamed(base, name);
        expect(unsafeLines(renderInventory(snapshot))).toEqual([]);
        expect(unsafeLines(renderPlan(planRotation(snapshot, contosoPolicy(), NOW)))).toEqual([]);
      }),
      { numRuns: 30 },
    );
  });
});
