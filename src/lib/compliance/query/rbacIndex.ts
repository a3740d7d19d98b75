import type { RoleAssignmentSnapshot, RoleDefinitionSnapshot } from "../../estate/snapshot.js";
import { roleDefinitionGuid } from "../../rbac/builtinRoles.js";

/**
 * An HSM's role assignments by principal and its role definitions by GUID, built once per list and
 * asked once or more per consumer: the controls judge every consumer's identity against the same few
 * assignments, and a `filter`/`find` over them per consumer made RBAC a tenth of an evaluation
 * (measured with npm run bench). Keyed on the lists themselves, like grantedDataActions' cache: a
 * snapshot's lists are not changed once read, and a list of another length is indexed anew.
 */
export interface AssignmentIndex {
  /** Lower-cased principal id → its assignments, in the list's order. */
  byPrincipal: Map<string, RoleAssignmentSnapshot[]>;
  /** What callers computed from this list, by their own key (e.g. wrap access per principal and scope). */
  memo: Map<string, unknown>;
}

export interface DefinitionIndex {
  /** Lower-cased GUID (a definition's name, or the last segment of its id) → the first definition named so. */
  byGuid: Map<string, RoleDefinitionSnapshot>;
  /** roleDefinitionId as an assignment spells it → its definition (undefined: none), resolved once per spelling. */
  byAssignmentRef: Map<string, RoleDefinitionSnapshot | undefined>;
}

const assignmentIndexes = new WeakMap<readonly RoleAssignmentSnapshot[], { length: number; index: AssignmentIndex }>();
const definitionIndexes = new WeakMap<readonly RoleDefinitionSnapshot[], { length: number; index: DefinitionIndex }>();

export function assignmentIndex(assignments: readonly RoleAssignmentSnapshot[]): AssignmentIndex {
  const cached = assignmentIndexes.get(assignments);
  if (cached && cached.length === assignments.length) return cached.index;
  const byPrincipal = new Map<string, RoleAssignmentSnapshot[]>();
  for (const a of assignments) {
    const key = a.principalId.toLowerCase();
    const list = byPrincipal.get(key);
    if (list) list.push(a);
    else byPrincipal.set(key, [a]);
  }
  const index = { byPrincipal, memo: new Map<string, unknown>() };
  assignmentIndexes.set(assignments, { length: assignments.length, index });
  return index;
}

export function definitionIndex(definitions: readonly RoleDefinitionSnapshot[]): DefinitionIndex {
  const cached = definitionIndexes.get(definitions);
  if (cached && cached.length === definitions.length) return cached.index;
  const byGuid = new Map<string, RoleDefinitionSnapshot>();
  // The first definition named by either its name or its id's GUID wins, as a find over the list did.
  for (const d of definitions) {
    for (const key of [d.name.toLowerCase(), roleDefinitionGuid(d.id)]) if (!byGuid.has(key)) byGuid.set(key, d);
  }
  const index = { byGuid, byAssignmentRef: new Map<string, RoleDefinitionSnapshot | undefined>() };
  definitionIndexes.set(definitions, { length: definitions.length, index });
  return index;
}

/** The definition an assignment's roleDefinitionId names (by its GUID), if the list has it. */
export function definitionNamed(definitions: readonly RoleDefinitionSnapshot[], roleDefinitionId: string): RoleDefinitionSnapshot | undefined {
  const index = definitionIndex(definitions);
  if (index.byAssignmentRef.has(roleDefinitionId)) return index.byAssignmentRef.get(roleDefinitionId);
  const found = index.byGuid.get(roleDefinitionGuid(roleDefinitionId));
  index.byAssignmentRef.set(roleDefinitionId, found);
  return found;
}
