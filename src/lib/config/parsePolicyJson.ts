import { ConfigError, type ConfigIssue } from "./errors.js";
import { formatPath } from "./formatPath.js";
import { jsonErrorOffset, lineAndColumn } from "./jsonErrorOffset.js";
import { scanJsonStructure, type JsonStructureProblem } from "./jsonStructure.js";

/** Far above any real estate's policy (the Contoso example is 3 KiB); bounds what a setting can make us parse. */
export const POLICY_MAX_BYTES = 1024 * 1024;
/** The policy document nests 6 levels; 64 leaves room and keeps every recursive walk far from the stack's end. */
export const POLICY_MAX_DEPTH = 64;

/**
 * Parses policy JSON text: within the size and depth limits, without duplicate keys, and valid JSON.
 * Throws ConfigError naming the source and, for each problem, where it is (line and column). Returns the
 * parsed value, not yet validated against the policy schema.
 */
export function parsePolicyJsonText(text: string, source: string): unknown {
  // Editors on Windows like to save a byte-order mark, which JSON.parse rejects.
  const json = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const invalid = (issues: ConfigIssue[]): ConfigError => new ConfigError(`Invalid policy document in ${source}`, issues);

  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes > POLICY_MAX_BYTES) throw invalid([{ path: "", message: `is ${bytes} bytes; the limit is 1 MiB (${POLICY_MAX_BYTES} bytes)` }]);

  const structure = scanJsonStructure(json, POLICY_MAX_DEPTH);
  if (!structure.syntaxError && structure.problems.length > 0) throw invalid(structure.problems.map((p) => structureIssue(json, p)));

  try {
    return JSON.parse(json);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalid([{ path: "", message: `not valid JSON${jsonErrorLocation(json)}: ${reason}` }]);
  }
}

function structureIssue(text: string, problem: JsonStructureProblem): ConfigIssue {
  const at = (offset: number): string => {
    const { line, column } = lineAndColumn(text, offset);
    return `line ${line}, column ${column}`;
  };
  if (problem.kind === "tooDeep") return { path: "", message: `nests deeper than the limit of ${POLICY_MAX_DEPTH} levels (at ${at(problem.offset)})` };
  const path = formatPath(problem.path);
  const where = path === "" ? " at the top level" : "";
  return { path, message: `duplicate key ${JSON.stringify(problem.key)}${where} (${at(problem.firstOffset)} and ${at(problem.secondOffset)})` };
}

/** Called only once the structure scan has bounded the depth, so the recursive offset finder is safe. */
function jsonErrorLocation(text: string): string {
  const offset = jsonErrorOffset(text);
  if (offset === undefined) return "";
  const { line, column } = lineAndColumn(text, offset);
  return ` at line ${line}, column ${column}`;
}
