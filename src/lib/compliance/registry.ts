import { AREAS, SEVERITIES, type CheckFunction, type Control, type ControlMetadata } from "./types.js";
import { AZURE_POLICY, CIS_AZURE, PCI_DSS_V4 } from "./frameworks.js";

export interface RegisteredControl {
  folder: string;
  metadata: ControlMetadata;
  check: CheckFunction;
}

export class ControlRegistryError extends Error {
  override readonly name = "ControlRegistryError";
}

const ID_PATTERN = /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/;

/** Problems with a set of registered controls; empty when every control is sound. */
export function registryProblems(registered: readonly RegisteredControl[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const { folder, metadata: m } of registered) {
    const where = `control folder "${folder}"`;
    if (m.id !== folder) problems.push(`${where}: id "${m.id}" differs from its folder name`);
    if (!ID_PATTERN.test(m.id)) problems.push(`${where}: id "${m.id}" is not snake_case`);
    if (!m.id.startsWith(`${m.area}_`)) problems.push(`${where}: id "${m.id}" is not prefixed by its area "${m.area}_"`);
    if (seen.has(m.id)) problems.push(`${where}: id "${m.id}" is used twice`);
    seen.add(m.id);
    if (!AREAS.includes(m.area)) problems.push(`${where}: unknown area "${m.area}"`);
    if (!SEVERITIES.includes(m.severity)) problems.push(`${where}: unknown severity "${m.severity}"`);
    for (const field of ["title", "risk"] as const) if (!m[field]?.trim()) problems.push(`${where}: ${field} is empty`);
    if (!m.remediation.summary.trim() || !m.remediation.cli.trim()) problems.push(`${where}: remediation needs a summary and an az CLI command`);
    for (const ref of m.mappings.pciDss) if (!(ref in PCI_DSS_V4)) problems.push(`${where}: PCI DSS mapping "${ref}" is not a known requirement`);
    for (const ref of m.mappings.cis) if (!(ref in CIS_AZURE)) problems.push(`${where}: CIS mapping "${ref}" is not a known recommendation`);
    for (const ref of m.mappings.azurePolicy) if (!(ref in AZURE_POLICY)) problems.push(`${where}: Azure Policy mapping "${ref}" is not a known built-in`);
  }
  return problems;
}

/** Refuses a control set with any problem (an id that differs from its folder, a dangling mapping…). */
export function loadControls(registered: readonly RegisteredControl[]): Control[] {
  const problems = registryProblems(registered);
  if (problems.length > 0) throw new ControlRegistryError(`The control catalogue is invalid:\n- ${problems.join("\n- ")}`);
  return registered.map(({ metadata, check }) => ({ metadata, check }));
}
