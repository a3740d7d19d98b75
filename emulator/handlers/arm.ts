/** ARM handlers: one generic get/list over the resource store, plus the few validated writes and LRO monitors. */
import { armResourceNotFound, ServiceError } from "../errors.js";
import {
  pollOperation,
  prepareDiskEncryptionSetUpdate,
  prepareEncryptionProtector,
  prepareManagedInstanceKey,
  presentResource,
  startOperation,
  updateStorageAccount,
} from "../backend/consumers.js";
import { INSTANCE_FAILOVER_GROUP } from "../backend/materialise.js";
import { settle } from "../backend/settle.js";
import type { ArmResource } from "../backend/state.js";
import { getResource, listChildren, listResources } from "../backend/state.js";
import type { ResolvedScope } from "../backend/scope.js";
import { findResource, resolveScope } from "../backend/scope.js";
import type { Handler, HandlerContext, HandlerResult } from "./context.js";
import { ok, page } from "./context.js";

function checkScope(ctx: HandlerContext): ResolvedScope {
  return resolveScope(ctx.rt.state, ctx.params.subscriptionId!, ctx.params.resourceGroupName);
}

/** `type` like "Microsoft.Compute/diskEncryptionSets"; `nameParams` are the route params naming the resource path. */
function findOrThrow(ctx: HandlerContext, type: string, nameParams: string[]): ArmResource {
  return findResource(ctx.rt.state, ctx.params.subscriptionId!, ctx.params.resourceGroupName!, type, nameParams.map((p) => ctx.params[p]!));
}

/** One page of `items`; only the page is presented (a deep copy per item), never the whole list. */
const presentPage = (ctx: HandlerContext, items: readonly ArmResource[]): HandlerResult => {
  const p = page(ctx, items, ctx.rt.endpoint, ctx.rt.config.pageSize);
  return ok({ ...p, value: p.value.map((r) => presentResource(ctx.rt, r)) });
};

export const getArm =
  (type: string, ...nameParams: string[]): Handler =>
  (ctx) =>
    ok(presentResource(ctx.rt, findOrThrow(ctx, type, nameParams)));

export const listArm =
  (type: string): Handler =>
  (ctx) => {
    const { subscriptionId, resourceGroup } = checkScope(ctx);
    return presentPage(ctx, listResources(ctx.rt.state, type, { subscriptionId, resourceGroup }));
  };

/** Children of a parent resource, e.g. MI keys of an instance. */
export const listArmChildren =
  (parentType: string, parentNameParam: string, childType: string): Handler =>
  (ctx) => {
    const parent = findOrThrow(ctx, parentType, [parentNameParam]);
    return presentPage(ctx, listChildren(ctx.rt.state, parent.id, childType));
  };

/** VirtualMachines_ListAll: as ARM does, a listed VM's `resources` (its extensions) carry only their ids; GET has them whole. */
export const listVirtualMachines: Handler = (ctx) => {
  const { subscriptionId } = checkScope(ctx);
  const p = page(ctx, listResources(ctx.rt.state, "Microsoft.Compute/virtualMachines", { subscriptionId }), ctx.rt.endpoint, ctx.rt.config.pageSize);
  return ok({
    ...p,
    value: p.value.map((r) => {
      const body = presentResource(ctx.rt, r);
      if (Array.isArray(body.resources)) body.resources = body.resources.map((e) => ({ id: (e as { id?: unknown }).id }));
      return body;
    }),
  });
};

/** InstanceFailoverGroups_ListByLocation: the groups listed in one resource group and region (ARM region names, spaces ignored). */
export const listInstanceFailoverGroups: Handler = (ctx) => {
  const { subscriptionId, resourceGroup } = checkScope(ctx);
  const location = ctx.params.locationName!.replace(/\s+/g, "");
  const parent = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Sql/locations/${location}`;
  return presentPage(ctx, listChildren(ctx.rt.state, parent, INSTANCE_FAILOVER_GROUP));
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
  // The monitor lives in the request's own subscription, so its polls draw on that subscription's read budget.
  const base = `${ctx.rt.endpoint}/subscriptions/${ctx.params.subscriptionId ?? ctx.rt.state.subscriptionId}/providers/Microsoft.Emulator/locations/local`;
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
