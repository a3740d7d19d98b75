import { ensureError } from "../errors.js";
import { migrateV1 } from "./migrate.js";
import { estateSnapshotSchema } from "./schema.js";
import { SNAPSHOT_SCHEMA_VERSION, type EstateSnapshot } from "./snapshot.js";

/** A snapshot that cannot be used: not JSON, an unknown schema version, or not what its version says. */
export class SnapshotError extends Error {
  override readonly name = "SnapshotError";
}

const MIGRATIONS: Record<number, (snapshot: Record<string, unknown>) => Record<string, unknown>> = { 1: migrateV1 };

/**
 * Reads a snapshot back from JSON text (a file, a store): migrates older schema versions to the
 * current one, then checks it against the schema. `source` names it in errors.
 */
export function readSnapshot(text: string, source: string): EstateSnapshot {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (thrown) {
    throw new SnapshotError(`${source}: not JSON (${ensureError(thrown).message})`);
  }
  return parseSnapshot(value, source);
}

export function parseSnapshot(value: unknown, source: string): EstateSnapshot {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new SnapshotError(`${source}: an estate snapshot is a JSON object`);
  let current = value as Record<string, unknown>;
  const version = current.schemaVersion;
  if (typeof version !== "number" || !Number.isInteger(version) || version < 1 || version > SNAPSHOT_SCHEMA_VERSION) {
    throw new SnapshotError(`${source}: schemaVersion ${JSON.stringify(version)} is not one this KeyWarden reads (1 to ${SNAPSHOT_SCHEMA_VERSION})`);
  }
  for (let v = version; v < SNAPSHOT_SCHEMA_VERSION; v++) current = (MIGRATIONS[v] as (s: Record<string, unknown>) => Record<string, unknown>)(current);
  const parsed = estateSnapshotSchema.safeParse(current);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`);
    const more = parsed.error.issues.length > 5 ? ` (and ${parsed.error.issues.length - 5} more)` : "";
    throw new SnapshotError(`${source}: not a valid estate snapshot (schema ${SNAPSHOT_SCHEMA_VERSION}): ${issues.join("; ")}${more}`);
  }
  return parsed.data;
}
