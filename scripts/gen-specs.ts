/**
 * Writes the committed extractions of the official REST spec packs (test/fixtures/azure-specs/): only the operations
 * the validator uses and the schemas they reach, without prose. Reads the packs beside the checkout
 * (KEYWARDEN_AZURE_SPECS_DIR / KEYWARDEN_AZURE_SPECS_MORE_DIR override them); a missing pack is skipped with a note.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ROUTES } from "../emulator/routes.js";
import { EVENT_SCHEMA_DEFINITIONS } from "../test/support/eventSchemas.js";
import { deploymentOperationKeys } from "../test/infra/deploymentTypes.js";
import { templateShape } from "../test/support/fidelity.js";
import {
  buildExtraction,
  extractionFile,
  renderExtraction,
  SpecExtractionError,
  specPackDir,
  specPackPresent,
  type OperationRef,
  type SpecExtraction,
  type SpecPackName,
} from "../test/support/specExtraction.js";

/**
 * The first pack: every operation the emulator serves from a spec (what the fidelity suite validates), in every
 * api-version the pack holds of it, so that the validator's nearest-version choice sees what it sees in the pack.
 */
function servedSelection(): (op: OperationRef) => boolean {
  const served = ROUTES.filter((r) => r.specFile !== undefined);
  const wanted = new Set(served.map((r) => `${r.operationId} ${r.method} ${templateShape(r.template)}`));
  // the emulator serves `/keys/{key-name}` for the spec's `/keys/{key-name}/{key-version}` with an empty version
  return (op) => {
    const shape = templateShape(op.pathKey);
    const parent = shape.replace(/\/\{\}$/, "");
    return wanted.has(`${op.operationId} ${op.method} ${shape}`) || (parent !== shape && wanted.has(`${op.operationId} ${op.method} ${parent}`));
  };
}

/** Rows of an INDEX.md operations table: "| n | operationId … | `METHOD /path` | api-version | `spec file` …". */
function indexRows(dir: string): { operationId: string; method: string; template: string; specFile: string }[] {
  const row = /^\|\s*\d+\s*\|\s*(\S+)[^|]*\|\s*`(\w+) ([^`]+)`\s*\|\s*([^|\s]+)\s*\|\s*`([^`]+)`/;
  const out: { operationId: string; method: string; template: string; specFile: string }[] = [];
  for (const line of fs.readFileSync(path.join(dir, "INDEX.md"), "utf8").split("\n")) {
    const m = row.exec(line);
    if (m) out.push({ operationId: m[1] as string, method: (m[2] as string).toUpperCase(), template: (m[3] as string).toLowerCase(), specFile: m[5] as string });
  }
  return out;
}

/** The second pack holds the operations its INDEX.md lists (the fidelity suite validates the served ones against it). */
function indexSelection(dir: string): (op: OperationRef) => boolean {
  const rows = new Set(indexRows(dir).map((r) => `${r.specFile} ${r.method} ${r.template}`));
  return (op) => rows.has(`${op.specFile} ${op.method} ${op.pathKey.toLowerCase()}`);
}

export const SPEC_PACKS: readonly SpecPackName[] = ["azure-specs", "azure-specs-more"];

/** Builds a pack's extraction in memory (the pack must be present). */
export function generateExtraction(pack: SpecPackName, dir = specPackDir(pack)): SpecExtraction {
  if (!specPackPresent(dir)) throw new SpecExtractionError(`${dir}: spec pack ${pack} is absent (no INDEX.md or specification/)`);
  const base = pack === "azure-specs" ? servedSelection() : indexSelection(dir);
  // The PUT operations of the resource types the ARM templates declare (test/infra/deploymentTypes.ts), with their
  // request bodies: the template tests validate each resource against them.
  const deployment = deploymentOperationKeys(pack);
  const isDeployment = (op: OperationRef): boolean => deployment.has(`${op.specFile} ${op.operationId}`);
  const select = (op: OperationRef): boolean => base(op) || isDeployment(op);
  // The event schemas KeyWarden's published events are checked against (test/support/eventSchemas.ts).
  const definitions = pack === "azure-specs" ? Object.values(EVENT_SCHEMA_DEFINITIONS) : [];
  const x = buildExtraction(dir, pack, select, definitions, isDeployment);
  assertDeploymentCovered(x, pack);
  assertServedCovered(x, dir);
  return x;
}

/** Every deployment type's PUT operation must be in its pack, with its body: a typo in deploymentTypes.ts fails here. */
function assertDeploymentCovered(x: SpecExtraction, pack: SpecPackName): void {
  const found = new Set<string>();
  for (const [file, doc] of Object.entries(x.specs)) {
    for (const section of ["paths", "x-ms-paths"]) {
      for (const item of Object.values((doc[section] as Record<string, Record<string, { operationId?: string; parameters?: { in?: string }[] }>> | undefined) ?? {})) {
        const put = item.put;
        if (put?.operationId && put.parameters?.some((p) => p.in === "body")) found.add(`${file} ${put.operationId}`);
      }
    }
  }
  const missing = [...deploymentOperationKeys(pack)].filter((k) => !found.has(k));
  if (missing.length > 0) throw new SpecExtractionError(`deployment operations not found (with a body) in ${pack}: ${missing.join("; ")}`);
}

/**
 * Every served spec route whose spec file is in this pack must find its operation there: a typo in routes.ts should
 * fail here, loudly. (A route whose file is in neither pack fails the fidelity suite's "exists in the spec pack".)
 */
function assertServedCovered(x: SpecExtraction, dir: string): void {
  const missing: string[] = [];
  for (const r of ROUTES) {
    if (!r.specFile || !fs.existsSync(path.join(dir, r.specFile))) continue;
    const paths = { ...((x.specs[r.specFile]?.paths as Record<string, Record<string, unknown>> | undefined) ?? {}) };
    const shape = templateShape(r.template);
    const found = Object.entries(paths).some(
      ([k, item]) => (templateShape(k) === shape || templateShape(k) === `${shape}/{}`) && (item[r.method.toLowerCase()] as { operationId?: string } | undefined)?.operationId === r.operationId,
    );
    if (!found) missing.push(`${r.operationId} ${r.method} ${r.template} (${r.specFile})`);
  }
  if (missing.length > 0) throw new SpecExtractionError(`served operations not found in their spec files: ${missing.join("; ")}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const pack of SPEC_PACKS) {
    const dir = specPackDir(pack);
    const file = extractionFile(pack);
    if (!specPackPresent(dir)) {
      console.log(`skipped ${pack}: no pack at ${dir}; ${path.relative(process.cwd(), file)} left as it is`);
      continue;
    }
    const text = renderExtraction(generateExtraction(pack, dir));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    console.log(`wrote ${path.relative(process.cwd(), file)} from ${dir} (${Buffer.byteLength(text)} bytes)`);
  }
}
