/** One problem found in the configuration. */
export interface ConfigIssue {
  /**
   * What is wrong, in the words the operator wrote it: an app setting name (`KEYWARDEN_CLOUD`) or a
   * path in the policy document (`managedHsms[0].keys[1].rotation.rotateAfter`).
   */
  path: string;
  /** Why it is wrong. Never contains a secret or a PEM. */
  message: string;
}

/**
 * The configuration cannot be used. Carries every problem found, not just the first, so that an
 * operator fixes them in one pass. The CLI maps it to exit code 2; the Functions host refuses to start.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly issues: readonly ConfigIssue[];

  /** @param summary what was being validated, e.g. "Invalid app settings" */
  constructor(summary: string, issues: readonly ConfigIssue[]) {
    super(formatConfigErrorMessage(summary, issues));
    this.issues = Object.freeze(issues.map((issue) => Object.freeze({ ...issue })));
  }
}

function formatConfigErrorMessage(summary: string, issues: readonly ConfigIssue[]): string {
  if (issues.length === 0) return summary;
  const noun = issues.length === 1 ? "problem" : "problems";
  const lines = issues.map((issue) => (issue.path === "" ? `  - ${issue.message}` : `  - ${issue.path}: ${issue.message}`));
  return `${summary} (${issues.length} ${noun}):\n${lines.join("\n")}`;
}
