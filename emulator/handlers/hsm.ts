/** Managed HSM data-plane handlers: parse the wire request, call the backend, serialise to the spec shapes. */
import { unixSeconds } from "../duration.js";
import { ServiceError, kvBadParameter, kvRoleAssignmentNotFound, kvRoleDefinitionNotFound } from "../errors.js";
import type { CreateKeyInput, RotationPolicyInput, UpdateKeyInput } from "../backend/keys.js";
import {
  DATA_ACTION,
  authorize,
  createKey,
  getKeyOrThrow,
  getVersionOrThrow,
  isValidScope,
  materialOf,
  normaliseScope,
  rotateKey,
  scopeContains,
  setRotationPolicy,
  updateKey,
} from "../backend/keys.js";
import { findBuiltInRole, putCustomRoleDefinition, type RoleDefinitionInput } from "../backend/roles.js";
import { getSettingOrThrow, listSettings, updateSetting } from "../backend/settings.js";
import type { Runtime } from "../backend/runtime.js";
import { hsmBaseUrl, keyId } from "../backend/runtime.js";
import type { HsmKey, HsmSetting, HsmState, KeyVersion, RoleAssignmentRecord, RotationPolicy } from "../backend/state.js";
import type { HandlerContext, HandlerResult } from "./context.js";
import { ok, page } from "./context.js";

/** Data-plane page size: `maxresults` (1–25, Key Vault's limit) or the emulator's pageSize. */
const DATA_PLANE_MAX_RESULTS = 25;

const hsmOf = (ctx: HandlerContext): HsmState => ctx.req.hsm!;
const principal = (ctx: HandlerContext): string => ctx.req.principalId!;

function pageSizeOf(ctx: HandlerContext): number {
  const m = ctx.req.query.get("maxresults");
  if (m === null) return ctx.rt.config.pageSize;
  const n = Number(m);
  if (!Number.isInteger(n) || n < 1 || n > DATA_PLANE_MAX_RESULTS) throw kvBadParameter(`maxresults must be an integer from 1 to ${DATA_PLANE_MAX_RESULTS}.`);
  return n;
}

function attributes(hsm: HsmState, key: HsmKey, v: KeyVersion): Record<string, unknown> {
  const a: Record<string, unknown> = { enabled: v.enabled };
  if (v.notBefore) a.nbf = unixSeconds(v.notBefore);
  if (v.expires) a.exp = unixSeconds(v.expires);
  a.created = unixSeconds(v.created);
  a.updated = unixSeconds(v.updated);
  a.recoverableDays = hsm.recoverableDays;
  a.recoveryLevel = hsm.recoveryLevel;
  a.exportable = key.exportable;
  return a;
}

async function keyBundle(rt: Runtime, hsm: HsmState, key: HsmKey, v: KeyVersion): Promise<Record<string, unknown>> {
  const material = await materialOf(key, v);
  return {
    key: { kid: keyId(rt, hsm, key.name, v.version), kty: key.kty, key_ops: v.keyOps, ...material },
    attributes: attributes(hsm, key, v),
    tags: v.tags,
  };
}

const keyItem = (rt: Runtime, hsm: HsmState, key: HsmKey, v: KeyVersion, versioned: boolean): Record<string, unknown> => ({
  kid: keyId(rt, hsm, key.name, versioned ? v.version : undefined),
  attributes: attributes(hsm, key, v),
  tags: v.tags,
});

function policyBody(rt: Runtime, hsm: HsmState, key: HsmKey, p: RotationPolicy | undefined): Record<string, unknown> {
  const id = `${keyId(rt, hsm, key.name)}/rotationpolicy`;
  // UNVERIFIED: what MHSM returns when no policy was ever set; we answer an empty policy (no lifetime actions).
  if (!p) return { id, lifetimeActions: [], attributes: {} };
  const attrs: Record<string, unknown> = {};
  if (p.expiryTime) attrs.expiryTime = p.expiryTime;
  attrs.created = unixSeconds(p.created);
  attrs.updated = unixSeconds(p.updated);
  return {
    id,
    lifetimeActions: p.lifetimeActions.map((a) => ({
      trigger: { ...(a.timeAfterCreate ? { timeAfterCreate: a.timeAfterCreate } : {}), ...(a.timeBeforeExpiry ? { timeBeforeExpiry: a.timeBeforeExpiry } : {}) },
      action: { type: a.action },
    })),
    attributes: attrs,
  };
}

const bodyObject = <T>(ctx: HandlerContext): T => {
  const b = ctx.req.body;
  if (b === undefined) return {} as T;
  if (!b || typeof b !== "object" || Array.isArray(b)) throw kvBadParameter("The request body must be a JSON object.");
  return b as T;
};

// ---------------------------------------------------------------- keys

export function getKeys(ctx: HandlerContext): HandlerResult {
  const hsm = hsmOf(ctx);
  authorize(hsm, principal(ctx), DATA_ACTION.keysRead, "/keys");
  const items = [...hsm.keys.values()].sort((a, b) => a.name.localeCompare(b.name)).map((k) => keyItem(ctx.rt, hsm, k, k.versions[k.versions.length - 1]!, false));
  return ok(page(ctx, items, hsmBaseUrl(ctx.rt, hsm), pageSizeOf(ctx)));
}

export function getKeyVersions(ctx: HandlerContext): HandlerResult {
  const hsm = hsmOf(ctx);
  const name = ctx.params["key-name"]!;
  authorize(hsm, principal(ctx), DATA_ACTION.keysRead, `/keys/${name}`);
  const key = getKeyOrThrow(hsm, name);
  return ok(page(ctx, key.versions.map((v) => keyItem(ctx.rt, hsm, key, v, true)), hsmBaseUrl(ctx.rt, hsm), pageSizeOf(ctx)));
}

export async function getKey(ctx: HandlerContext): Promise<HandlerResult> {
  const hsm = hsmOf(ctx);
  const name = ctx.params["key-name"]!;
  authorize(hsm, principal(ctx), DATA_ACTION.keysRead, `/keys/${name}`);
  const { key, version } = getVersionOrThrow(hsm, name, ctx.params["key-version"] || undefined);
  return ok(await keyBundle(ctx.rt, hsm, key, version));
}

export async function createKeyHandler(ctx: HandlerContext): Promise<HandlerResult> {
  const hsm = hsmOf(ctx);
  const name = ctx.params["key-name"]!;
  authorize(hsm, principal(ctx), DATA_ACTION.keysCreate, `/keys/${name}`);
  const { key, version } = createKey(ctx.rt, hsm, name, bodyObject<CreateKeyInput>(ctx));
  return ok(await keyBundle(ctx.rt, hsm, key, version));
}

export async function updateKeyHandler(ctx: HandlerContext): Promise<HandlerResult> {
  const hsm = hsmOf(ctx);
  const name = ctx.params["key-name"]!;
  authorize(hsm, principal(ctx), DATA_ACTION.keysWrite, `/keys/${name}`);
  const { key, version } = updateKey(ctx.rt, hsm, name, ctx.params["key-version"] || undefined, bodyObject<UpdateKeyInput>(ctx));
  return ok(await keyBundle(ctx.rt, hsm, key, version));
}

export async function rotateKeyHandler(ctx: HandlerContext): Promise<HandlerResult> {
  const hsm = hsmOf(ctx);
  const name = ctx.params["key-name"]!;
  authorize(hsm, principal(ctx), DATA_ACTION.keysRotate, `/keys/${name}`);
  const { key, version } = rotateKey(ctx.rt, hsm, name);
  return ok(await keyBundle(ctx.rt, hsm, key, version));
}

export function getRotationPolicy(ctx: HandlerContext): HandlerResult {
  const hsm = hsmOf(ctx);
  const name = ctx.params["key-name"]!;
  authorize(hsm, principal(ctx), DATA_ACTION.keysRead, `/keys/${name}`);
  const key = getKeyOrThrow(hsm, name);
  return ok(policyBody(ctx.rt, hsm, key, key.rotationPolicy));
}

export function updateRotationPolicy(ctx: HandlerContext): HandlerResult {
  const hsm = hsmOf(ctx);
  const name = ctx.params["key-name"]!;
  // UNVERIFIED which data action MHSM checks for the policy; keys/write/action is the closest documented one.
  authorize(hsm, principal(ctx), DATA_ACTION.keysWrite, `/keys/${name}`);
  const { key, policy } = setRotationPolicy(ctx.rt, hsm, name, bodyObject<RotationPolicyInput>(ctx));
  return ok(policyBody(ctx.rt, hsm, key, policy));
}

// ---------------------------------------------------------------- RBAC

function scopeParam(ctx: HandlerContext): string {
  const scope = normaliseScope(ctx.params.scope ?? "/");
  if (!isValidScope(scope)) throw kvBadParameter(`The scope '${scope}' is invalid; use /, /keys or /keys/<key name>.`);
  return scope;
}

const assignmentId = (ra: RoleAssignmentRecord): string =>
  `${ra.scope === "/" ? "" : ra.scope}/providers/Microsoft.Authorization/roleAssignments/${ra.name}`;

const assignmentBody = (ra: RoleAssignmentRecord): Record<string, unknown> => ({
  id: assignmentId(ra),
  name: ra.name,
  type: "Microsoft.Authorization/roleAssignments",
  properties: { scope: ra.scope, roleDefinitionId: ra.roleDefinitionId, principalId: ra.principalId },
});

/**
 * At scope S: assignments at S, its ancestors and its descendants (ARM semantics – UNVERIFIED for MHSM);
 * `$filter=atScope()` → S and ancestors; `$filter=principalId eq '<id>'` → that principal.
 */
export function listRoleAssignments(ctx: HandlerContext): HandlerResult {
  const hsm = hsmOf(ctx);
  const scope = scopeParam(ctx);
  authorize(hsm, principal(ctx), DATA_ACTION.roleAssignmentsRead, scope);
  const filter = (ctx.req.query.get("$filter") ?? "").trim();
  let atScopeOnly = false;
  let principalFilter: string | undefined;
  if (filter) {
    const m = /^principalId\s+eq\s+'([^']+)'$/i.exec(filter);
    if (/^atScope\(\)$/i.test(filter)) atScopeOnly = true;
    else if (m) principalFilter = m[1]!.toLowerCase();
    else throw kvBadParameter(`Unsupported $filter '${filter}'; use atScope() or principalId eq '<id>'.`);
  }
  const items = hsm.roleAssignments
    .filter((ra) => scopeContains(ra.scope, scope) || (!atScopeOnly && scopeContains(scope, ra.scope)))
    .filter((ra) => principalFilter === undefined || ra.principalId.toLowerCase() === principalFilter)
    .map(assignmentBody);
  return ok(page(ctx, items, hsmBaseUrl(ctx.rt, hsm), ctx.rt.config.pageSize));
}

function findAssignment(hsm: HsmState, scope: string, name: string): RoleAssignmentRecord {
  const ra = hsm.roleAssignments.find((r) => r.name.toLowerCase() === name.toLowerCase() && normaliseScope(r.scope).toLowerCase() === scope.toLowerCase());
  if (!ra) throw kvRoleAssignmentNotFound(name);
  return ra;
}

export function getRoleAssignment(ctx: HandlerContext): HandlerResult {
  const hsm = hsmOf(ctx);
  const scope = scopeParam(ctx);
  authorize(hsm, principal(ctx), DATA_ACTION.roleAssignmentsRead, scope);
  return ok(assignmentBody(findAssignment(hsm, scope, ctx.params.roleAssignmentName!)));
}

export function createRoleAssignment(ctx: HandlerContext): HandlerResult {
  const hsm = hsmOf(ctx);
  const scope = scopeParam(ctx);
  authorize(hsm, principal(ctx), DATA_ACTION.roleAssignmentsWrite, scope);
  const name = ctx.params.roleAssignmentName!;
  const props = (ctx.req.body as { properties?: { roleDefinitionId?: unknown; principalId?: unknown } } | undefined)?.properties;
  if (typeof props?.roleDefinitionId !== "string" || typeof props.principalId !== "string") {
    throw kvBadParameter("properties.roleDefinitionId and properties.principalId are required.");
  }
  const guid = props.roleDefinitionId.split("/").pop()!.toLowerCase();
  const def = hsm.roleDefinitions.find((d) => d.name.toLowerCase() === guid) ?? findBuiltInRole(guid);
  if (!def) throw kvBadParameter(`The role definition '${props.roleDefinitionId}' does not exist.`);
  if (hsm.roleAssignments.some((r) => r.name.toLowerCase() === name.toLowerCase())) {
    // UNVERIFIED: ARM answers 409 RoleAssignmentExists; we assume MHSM does the same.
    throw new ServiceError(409, "RoleAssignmentExists", `A role assignment named '${name}' already exists.`);
  }
  const ra: RoleAssignmentRecord = { name, scope, principalId: props.principalId, roleDefinitionId: `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${def.name}` };
  hsm.roleAssignments.push(ra);
  return ok(assignmentBody(ra), 201);
}

export function deleteRoleAssignment(ctx: HandlerContext): HandlerResult {
  const hsm = hsmOf(ctx);
  const scope = scopeParam(ctx);
  authorize(hsm, principal(ctx), DATA_ACTION.roleAssignmentsDelete, scope);
  const ra = findAssignment(hsm, scope, ctx.params.roleAssignmentName!);
  hsm.roleAssignments.splice(hsm.roleAssignments.indexOf(ra), 1);
  return ok(assignmentBody(ra));
}

const definitionBody = (d: HsmState["roleDefinitions"][number]): Record<string, unknown> => ({
  id: `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${d.name}`,
  name: d.name,
  type: "Microsoft.Authorization/roleDefinitions",
  properties: { roleName: d.roleName, description: d.description, type: d.type, permissions: d.permissions, assignableScopes: d.assignableScopes },
});

export function listRoleDefinitions(ctx: HandlerContext): HandlerResult {
  const hsm = hsmOf(ctx);
  const scope = scopeParam(ctx);
  authorize(hsm, principal(ctx), DATA_ACTION.roleDefinitionsRead, scope);
  return ok(page(ctx, hsm.roleDefinitions.map(definitionBody), hsmBaseUrl(ctx.rt, hsm), ctx.rt.config.pageSize));
}

export function getRoleDefinition(ctx: HandlerContext): HandlerResult {
  const hsm = hsmOf(ctx);
  const scope = scopeParam(ctx);
  authorize(hsm, principal(ctx), DATA_ACTION.roleDefinitionsRead, scope);
  const name = ctx.params.roleDefinitionName!.toLowerCase();
  const d = hsm.roleDefinitions.find((x) => x.name.toLowerCase() === name);
  if (!d) throw kvRoleDefinitionNotFound(ctx.params.roleDefinitionName!);
  return ok(definitionBody(d));
}

/** Managed HSM keeps role definitions at "/" only (rbac.json: "Managed HSM only supports '/'"); Azure answers 201 to a create and to an update. */
export function putRoleDefinition(ctx: HandlerContext): HandlerResult {
  const hsm = hsmOf(ctx);
  const scope = scopeParam(ctx);
  if (scope !== "/") throw kvBadParameter(`Role definitions are created at scope '/' only (got '${scope}').`);
  authorize(hsm, principal(ctx), DATA_ACTION.roleDefinitionsWrite, scope);
  const d = putCustomRoleDefinition(hsm.roleDefinitions, ctx.params.roleDefinitionName!, bodyObject<RoleDefinitionInput>(ctx), kvBadParameter);
  return ok(definitionBody(d), 201);
}

// ---------------------------------------------------------------- account settings (settings.json)

const settingBody = (s: HsmSetting): Record<string, unknown> => ({ name: s.name, value: s.value, type: s.type });

/** Settings are HSM-wide: read and written at scope "/" (the Administrator role holds both data actions). */
export function getSettings(ctx: HandlerContext): HandlerResult {
  const hsm = hsmOf(ctx);
  authorize(hsm, principal(ctx), DATA_ACTION.settingsRead, "/");
  return ok({ settings: listSettings(hsm).map(settingBody) });
}

export function getSetting(ctx: HandlerContext): HandlerResult {
  const hsm = hsmOf(ctx);
  authorize(hsm, principal(ctx), DATA_ACTION.settingsRead, "/");
  return ok(settingBody(getSettingOrThrow(hsm, ctx.params["setting-name"]!)));
}

export function updateSettingHandler(ctx: HandlerContext): HandlerResult {
  const hsm = hsmOf(ctx);
  authorize(hsm, principal(ctx), DATA_ACTION.settingsWrite, "/");
  const body = bodyObject<{ value?: unknown }>(ctx);
  return ok(settingBody(updateSetting(hsm, ctx.params["setting-name"]!, body.value)));
}
