/** ARM handlers: one generic get/list over the resource store, plus the few validated writes and LRO monitors. */
import { armResourceGroupNotFound, armResourceNotFound, armSubscriptionNotFound, ServiceError } from "../errors.js";
import {
  pollOperation,
  prepareDiskEncryptionSetUpdate,
  prepareEncryptionProtector,
  prepareManagedInstanceKey,
  presentResource,
  startOperation,
  updateStorageAccount,
} from "../backend/consumers.js";
import { settle } from "../backend/settle.js";
import type { ArmResource } from "../backend/state.js";
import { armId, getResource, listChildren, listResources } from "../backend/state.js";
import type { Handler, HandlerContext, HandlerResult } from "./context.js";
import { ok, page } from "./context.js";

function checkScope(ctx: HandlerContext): { sub: string; rg?: string } {
  const sub = ctx.params.subscriptionId!;
  if (sub.toLowerCase() !== ctx.rt.state.subscriptionId.toLowerCase()) throw armSubscriptionNotFound(sub);
  const rgParam = ctx.params.resourceGroupName;
  if (rgParam === undefined) return { sub: ctx.rt.state.subscriptionId };
  const rg = ctx.rt.state.resourceGroups.get(rgParam.toLowerCase());
  if (!rg) throw armResourceGroupNotFound(rgParam);
  return { sub: ctx.rt.state.subscriptionId, rg };
}

/** `type` like "Microsoft.Compute/diskEncryptionSets"; `nameParams` are the route params naming the resource path. */
function findOrThrow(ctx: HandlerContext, type: string, nameParams: string[]): ArmResource {
  const { sub, rg } = checkScope(ctx);
  const [provider = "", ...typeParts] = type.split("/");
  const segs: string[] = [];
  nameParams.forEach((p, i) => {
    if (i > 0) segs.push(typeParts[i]!);
    segs.push(ctx.params[p]!);
  });
  const id = armId(sub, rg!, provider, typeParts[0]!, ...segs);
  const r = getResource(ctx.rt.state, id);
  if (!r || r.type.toLowerCase() !== type.toLowerCase()) throw armResourceNotFound(type, nameParams.map((p) => ctx.params[p]).join("/"), rg);
  return r;
}

export const getArm =
  (type: string, ...nameParams: string[]): Handler =>
  (ctx) =>
    ok(presentResource(ctx.rt, findOrThrow(ctx, type, nameParams)));

export const listArm =
  (type: string): Handler =>
  (ctx) => {
    const { rg } = checkScope(ctx);
    const items = listResources(ctx.rt.state, type, rg)
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((r) => presentResource(ctx.rt, r));
    return ok(page(ctx, items, ctx.rt.endpoint, ctx.rt.config.pageSize));
  };

/** Children of a parent resource, e.g. MI keys of an instance. */
export const listArmChildren =
  (parentType: string, parentNameParam: string, childType: string): Handler =>
  (ctx) => {
    const parent = findOrThrow(ctx, parentType, [parentNameParam]);
    const items = listChildren(ctx.rt.state, parent.id, childType)
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((r) => presentResource(ctx.rt, r));
    return ok(page(ctx, items, ctx.rt.endpoint, ctx.rt.config.pageSize));
  };

export const listHsmRegions: Handler = (ctx) => {
  const hsm = findOrThrow(ctx, "Microsoft.KeyVault/managedHSMs", ["name"]);
  const regions = ((hsm.body.properties as { regions?: unknown[] }).regions ?? []).map((r) => structuredClone(r));
  return ok(page(ctx, regions, ctx.rt.endpoint, ctx.rt.config.pageSize));
};

/** DiagnosticSettings_List: not paged, `{ value: [...] }`. */
export const listDiagnosticSettings: Handler = (ctx) => {
  const uri = "/" + ctx.params.resourceUri!.replace(/^\/+/, "");
  const target = getResource(ctx.rt.state, uri);
  if (!target) {
    const m = /\/providers\/([^/]+\/[^/]+)\/([^/]+)$/i.exec(uri);
    throw armResourceNotFound(m?.[1] ?? "resource", m?.[2] ?? uri);
  }
  const value = listChildren(ctx.rt.state, target.id, "Microsoft.Insights/diagnosticSettings").map((r) => presentResource(ctx.rt, r));
  return ok({ value });
};

// ---------------------------------------------------------------- writes and LROs

/** `Retry-After` on LRO 202s (seconds; config `lroRetryAfterSeconds`, default 1 — the SDK ignores 0). */
const retryAfter = (ctx: HandlerContext): string => String(ctx.rt.config.lroRetryAfterSeconds ?? 1);

function lroAccepted(ctx: HandlerContext, operationId: string, resourceId: string, apply: () => void, body?: unknown): HandlerResult {
  const op = startOperation(ctx.rt, operationId, resourceId, apply);
  const base = `${ctx.rt.endpoint}/subscriptions/${ctx.rt.state.subscriptionId}/providers/Microsoft.Emulator/locations/local`;
  const v = encodeURIComponent(ctx.apiVersion ?? "");
  return {
    status: 202,
    body,
    headers: {
      "azure-asyncoperation": `${base}/operationStatuses/${op.id}?api-version=${v}`,
      location: `${base}/operationResults/${op.id}?api-version=${v}`,
      "retry-after": retryAfter(ctx),
    },
  };
}

function operationOrThrow(ctx: HandlerContext): ReturnType<typeof pollOperation> {
  const op = ctx.rt.lros.get(ctx.params.operationId!);
  if (!op) throw new ServiceError(404, "OperationNotFound", `The operation '${ctx.params.operationId}' was not found.`);
  return pollOperation(ctx.rt, op);
}

/** ARM's status monitor: `{ name, status, startTime, endTime?, error? }`; a Failed operation carries `error { code, message }`. */
export const operationStatus: Handler = (ctx) => {
  const op = operationOrThrow(ctx);
  const body: Record<string, unknown> = { name: op.id, status: op.status, startTime: op.startTime.toISOString() };
  if (op.endTime) body.endTime = op.endTime.toISOString();
  if (op.status === "Failed" && op.error) body.error = { ...op.error };
  return ok(body);
};

/** Location URL: 202 while running, then the resource itself (the SDK's final GET for PATCH), or the error once Failed. */
export const operationResult: Handler = (ctx) => {
  const op = operationOrThrow(ctx);
  if (op.status === "InProgress") return { status: 202, headers: { location: `${ctx.rt.endpoint}${ctx.req.path}?${ctx.req.query.toString()}`, "retry-after": retryAfter(ctx) } };
  // UNVERIFIED status: ARM answers a failed operation's Location with the failure's own status; we answer 400.
  if (op.status === "Failed") throw new ServiceError(400, op.error?.code ?? "OperationFailed", op.error?.message ?? `The operation '${op.id}' failed.`);
  settle(ctx.rt);
  const r = getResource(ctx.rt.state, op.resourceId);
  if (!r) throw armResourceNotFound("resource", op.resourceId);
  return ok(presentResource(ctx.rt, r));
};

export const updateDiskEncryptionSet: Handler = (ctx) => {
  const des = findOrThrow(ctx, "Microsoft.Compute/diskEncryptionSets", ["diskEncryptionSetName"]);
  const apply = prepareDiskEncryptionSetUpdate(ctx.rt, des, ctx.req.body);
  return lroAccepted(ctx, "DiskEncryptionSets_Update", des.id, apply, presentResource(ctx.rt, des));
};

export const updateStorage: Handler = (ctx) => {
  const sa = findOrThrow(ctx, "Microsoft.Storage/storageAccounts", ["accountName"]);
  updateStorageAccount(ctx.rt, sa, ctx.req.body);
  settle(ctx.rt);
  return ok(presentResource(ctx.rt, sa));
};

export const putManagedInstanceKey: Handler = (ctx) => {
  const mi = findOrThrow(ctx, "Microsoft.Sql/managedInstances", ["managedInstanceName"]);
  const keyName = ctx.params.keyName!;
  const apply = prepareManagedInstanceKey(ctx.rt, mi, keyName, ctx.req.body);
  return lroAccepted(ctx, "ManagedInstanceKeys_CreateOrUpdate", `${mi.id}/keys/${keyName}`, apply);
};

export const putEncryptionProtector: Handler = (ctx) => {
  const mi = findOrThrow(ctx, "Microsoft.Sql/managedInstances", ["managedInstanceName"]);
  if (ctx.params.encryptionProtectorName!.toLowerCase() !== "current") {
    throw armResourceNotFound("Microsoft.Sql/managedInstances/encryptionProtector", `${mi.name}/${ctx.params.encryptionProtectorName}`);
  }
  const apply = prepareEncryptionProtector(ctx.rt, mi, ctx.req.body);
  return lroAccepted(ctx, "ManagedInstanceEncryptionProtectors_CreateOrUpdate", `${mi.id}/encryptionProtector/current`, apply);
};
