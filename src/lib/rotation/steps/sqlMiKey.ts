import type { ManagedInstanceBase } from "../../azure/sql.js";
import { sqlServerKeyName } from "../sqlServerKeyName.js";
import type { StepContext, StepHandler } from "./stepHandler.js";
import { requireTarget } from "./stepHandler.js";

interface State {
  instance: ManagedInstanceBase;
  serverKeyName: string;
  registered: boolean;
}

export function targetServerKeyName(ctx: StepContext): string {
  return sqlServerKeyName(ctx.step.key.hsmUri, ctx.step.key.name, requireTarget(ctx).version);
}

/** Adds the target version to the managed instance as a managed-instance key (long-running). */
export const sqlMiKey: StepHandler<State> = {
  read: async (ctx) => {
    const serverKeyName = targetServerKeyName(ctx);
    const [instance, registered] = await Promise.all([ctx.clients.sql.getManagedInstance(ctx.step.resource.id), ctx.clients.sql.hasKey(ctx.step.resource.id, serverKeyName)]);
    return { instance, serverKeyName, registered };
  },
  isDone: (s) => s.registered,
  apply: (s, ctx) => ctx.clients.sql.createKey(s.instance.resourceId, s.serverKeyName, requireTarget(ctx).url, ctx.write),
  describe: (s) => ({ registeredKey: s.registered ? s.serverKeyName : null }),
  consumer: (s) => ({ ...s.instance, encryptionProtector: null, keys: null }),
};
