import { afterAll, expect } from "vitest";
import type { CheckFunction, Status } from "../../src/lib/compliance/types.js";

interface TaskLike {
  mode?: string;
  result?: { state?: string };
  tasks?: TaskLike[];
}

/**
 * A control's check as its tests call it: every result it produces is recorded, and when the file's tests
 * have run, the file fails unless the check produced a PASS, a FAIL and an UNKNOWN result.
 *
 * Judged per file, in the file's own process: vitest runs each test file in a forked worker (pool: "forks"),
 * so nothing recorded here reaches another file. A globalSetup teardown could gather what the workers
 * wrote, but it could not tell a run of one file from a control without tests, and its failures read as
 * hook errors. test/unit/compliance.unknown.test.ts checks that every registered control's tests come here.
 */
export function coveredCheck(controlId: string, check: CheckFunction): CheckFunction {
  const produced = new Map<string, Set<Status>>();
  // vitest hands the file to the hook's second argument, and insists the first be a destructuring pattern.
  // eslint-disable-next-line no-empty-pattern
  afterAll(({}, file) => {
    // A filtered (-t) or failing run has not run every case: judging coverage then would only add noise.
    if (!everyTestPassed(file as TaskLike)) return;
    expect([...produced.keys()], "the results came from this control").toEqual([controlId]);
    expect([...(produced.get(controlId) ?? [])].sort(), `${controlId}'s tests produced these statuses`).toEqual(["FAIL", "PASS", "UNKNOWN"]);
  });
  return (ctx) => {
    const results = check(ctx);
    for (const r of results) {
      const statuses = produced.get(r.controlId) ?? new Set<Status>();
      statuses.add(r.status);
      produced.set(r.controlId, statuses);
    }
    return results;
  };
}

function everyTestPassed(task: TaskLike): boolean {
  if (task.tasks) return task.tasks.every(everyTestPassed);
  return task.mode === "run" && task.result?.state === "pass";
}
