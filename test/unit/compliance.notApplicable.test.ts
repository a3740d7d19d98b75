import { describe, expect, it } from "vitest";
import { REGISTERED_CONTROLS } from "../../src/lib/compliance/checks/index.js";
import { evaluate } from "../../src/lib/compliance/evaluate.js";
import { loadControls } from "../../src/lib/compliance/registry.js";
import { findingsOf } from "../../src/lib/history/findings.js";
import { renderReport } from "../../src/lib/report/formats.js";
import { escapeMarkdown } from "../../src/lib/report/markdownText.js";
import { contosoHsm, contosoPolicy, loadSnapshot } from "../support/snapshots.js";

const controls = loadControls(REGISTERED_CONTROLS);
const STORAGE_CONTROLS = ["storage_current_version_caught_up", "storage_key_source_hsm", "storage_key_version_current"];

const STORAGE_IDENTITY = "b2000000-0000-4000-8000-000000000004";

/**
 * The reference estate gives every control at least one result; the same estate without its storage account
 * (nor the policy's expectation of it, nor its identity's grant) leaves the storage controls nothing to judge.
 */
function withoutStorage() {
  const snapshot = loadSnapshot();
  snapshot.consumers.storageAccounts = [];
  const hsm = contosoHsm(snapshot);
  hsm.roleAssignments = hsm.roleAssignments!.filter((a) => a.principalId !== STORAGE_IDENTITY);
  const policy = contosoPolicy();
  for (const key of policy.managedHsms[0]!.keys) key.expectedConsumers = key.expectedConsumers.filter((id) => !/\/storageAccounts\//i.test(id));
  return evaluate(snapshot, policy, controls, { now: new Date(snapshot.collectedAt) });
}

describe("a control with no results", () => {
  it("every control has a result on the reference estate", () => {
    const snapshot = loadSnapshot();
    const report = evaluate(snapshot, contosoPolicy(), controls, { now: new Date(snapshot.collectedAt) });
    expect(report.controls.filter((c) => c.results.length === 0).map((c) => c.metadata.id)).toEqual([]);
    expect(report.summary.controls.NOT_APPLICABLE).toBe(0);
  });

  it("is not applicable, never passing, and counted apart", () => {
    const report = withoutStorage();
    const empty = report.controls.filter((c) => c.results.length === 0);
    expect(empty.map((c) => [c.metadata.id, c.status])).toEqual(STORAGE_CONTROLS.map((id) => [id, "NOT_APPLICABLE"]));
    expect(report.summary.controls).toEqual({ FAIL: 0, UNKNOWN: 0, PASS: controls.length - 3, NOT_APPLICABLE: 3 });
    expect(report.summary.results.FAIL + report.summary.results.UNKNOWN).toBe(0);
    expect(findingsOf(report, undefined, report.generatedAt)).toEqual([]);
  });

  it("is shown as not applicable in every format", () => {
    const report = withoutStorage();
    const json = JSON.parse(renderReport(report, "json").body) as { controls: { metadata: { id: string }; status: string }[] };
    expect(json.controls.filter((c) => c.status === "NOT_APPLICABLE").map((c) => c.metadata.id)).toEqual(STORAGE_CONTROLS);

    const md = renderReport(report, "md").body;
    expect(md).toContain("## Not applicable controls");
    expect(md).toMatch(/3 not applicable/);
    for (const id of STORAGE_CONTROLS) expect(md.split("\n").filter((line) => line.startsWith(`| ${escapeMarkdown(id)} |`))).toEqual([expect.stringMatching(/\| not applicable \|$/)]);

    const html = renderReport(report, "html").body;
    expect(html).toContain("<h2>Not applicable controls</h2>");
    for (const id of STORAGE_CONTROLS) expect(html).toMatch(new RegExp(`<td class="mono">${id}</td>.*<td>not applicable</td>`));
    expect(html.slice(html.indexOf("<h2>Passing controls</h2>"), html.indexOf("<h2>Not applicable controls</h2>"))).not.toContain("storage_key_source_hsm");

    const sarif = JSON.parse(renderReport(report, "sarif").body) as { runs: { results: { ruleId: string }[]; properties: { notApplicableControls: string[] } }[] };
    expect(sarif.runs[0]?.properties.notApplicableControls).toEqual(STORAGE_CONTROLS);
    expect(sarif.runs[0]?.results).toEqual([]);

    const csvRows = renderReport(report, "csv").body.split("\r\n").filter((line) => line.includes(",NOT_APPLICABLE,"));
    expect(csvRows.map((line) => line.split(",")[0])).toEqual(STORAGE_CONTROLS);
    for (const line of csvRows) expect(line).toContain("not applicable");
  });
});
