import { cleanCell, renderTable } from "../text/table.js";
import type { StepOutcome } from "./executor.js";
import type { JournalRecord } from "./journal.js";
import type { PlanStep, RotationPlan } from "./plan.js";
import type { Verification } from "./verify.js";

/** Text for a person: the plan, key by key, then its steps in order with their risks. */
export function renderPlan(plan: RotationPlan): string {
  const lines: string[] = [`Rotation plan ${plan.id.slice(0, 12)} (made ${plan.createdAt} from the snapshot collected ${plan.snapshotCollectedAt})`, ""];
  lines.push(
    renderTable(
      ["Key", "Status", "Current version", "Why"],
      plan.keys.map((k) => [k.keyName, k.status, k.currentVersion ?? "-", k.reasons.join(" ")]),
      "  ",
    ),
    "",
  );
  const active = plan.steps.filter((s) => s.action !== "blocked");
  const blocked = plan.steps.filter((s) => s.action === "blocked");
  if (plan.steps.length === 0) lines.push("Nothing to do: every managed key is within its rotation period and every consumer uses its current version.");
  else {
    lines.push(`${plan.steps.length} step(s): ${active.filter((s) => s.action === "change").length} change(s), ${active.filter((s) => s.action === "verify").length} to verify, ${blocked.length} blocked.`, "");
    plan.steps.forEach((step, index) => lines.push(...renderStep(step, index + 1)));
  }
  for (const gap of plan.gaps) lines.push(`Not in this plan: ${cleanCell(gap.message)}`);
  return `${lines.join("\n").trimEnd()}\n`;
}

function renderStep(step: PlanStep, n: number): string[] {
  const verb = step.action === "blocked" ? "BLOCKED" : step.action === "verify" ? "verify" : "change";
  const lines = [`${String(n).padStart(3)}. [${verb}] ${STEP_LABELS[step.kind]} ${cleanCell(step.resource.name)}  (key ${cleanCell(step.key.name)})`];
  lines.push(`       ${cleanCell(step.reason)}`);
  const states = Object.keys({ ...step.before, ...step.after });
  for (const field of states) {
    const from = step.before[field];
    const to = step.after[field];
    if (to === undefined) continue;
    lines.push(`       ${field}: ${cleanCell(String(from ?? "-"))} -> ${cleanCell(String(to))}`);
  }
  for (const risk of step.risks) lines.push(`       risk (${risk.code}): ${cleanCell(risk.message)}`);
  if (step.dependsOn.length > 0) lines.push(`       after: ${step.dependsOn.join(", ")}`);
  lines.push(`       id: ${step.id}`);
  return lines;
}

const STEP_LABELS: Record<PlanStep["kind"], string> = {
  rotationPolicy: "set the rotation policy of",
  rotateKey: "rotate key",
  sqlMiKey: "add the new key version to SQL MI",
  tdeProtector: "move the TDE protector of SQL MI",
  diskEncryptionSet: "move disk encryption set",
  storageAccount: "move storage account",
};

/** One line per step as it ends: status, elapsed time, what happened. */
export function renderOutcome(outcome: StepOutcome): string {
  return `${outcome.status.padEnd(19)} ${formatElapsed(outcome.elapsedMs).padStart(7)}  ${cleanCell(outcome.resource.name)}: ${cleanCell(outcome.message)}`;
}

function formatElapsed(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function renderVerification(v: Verification): string {
  const rows = v.consumers.map((c) => [c.keyName, c.resource.name, c.verdict + (c.pastDeadline ? " (past deadline)" : ""), c.versionInUse ?? "-", c.deadline ?? "", c.reason + (c.error ? ` ${c.error.code ?? ""} ${c.error.message}` : "")]);
  const lines = [`Verification at ${v.checkedAt}`, "", rows.length > 0 ? renderTable(["Key", "Consumer", "Verdict", "Version in use", "Deadline", "Detail"], rows, "  ") : "  No consumer uses a managed key."];
  for (const gap of v.gaps) lines.push(`Not verified: ${cleanCell(gap.message)}`);
  return `${lines.join("\n")}\n`;
}

/** The journal of one run, a line per record. */
export function renderRun(records: readonly JournalRecord[]): string {
  if (records.length === 0) return "No such run.\n";
  const first = records[0] as JournalRecord;
  const lines = [`Run ${first.runId} (plan ${first.planId.slice(0, 12)})`];
  for (const r of records) {
    const what = r.stepId ? ` ${cleanCell(r.stepId)}` : "";
    const detail = [r.outcome, r.message, r.error ? `${r.error.code ?? ""} ${r.error.message}` : "", r.requestIds?.length ? `requests ${r.requestIds.join(",")}` : "", r.details ? JSON.stringify(r.details) : ""].filter(Boolean).join(" | ");
    lines.push(`  ${String(r.seq).padStart(4)} ${r.at} ${r.type}${what}${detail ? `  ${cleanCell(detail)}` : ""}`);
  }
  return `${lines.join("\n")}\n`;
}
