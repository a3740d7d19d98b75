import type { ManagedInstanceBase } from "../../azure/sql.js";
import type { SqlManagedInstanceConsumer } from "../../estate/snapshot.js";
import type { StepHandler } from "./stepHandler.js";
import { requireTarget, sameVersion } from "./stepHandler.js";
import { targetServerKeyName } from "./sqlMiKey.js";

interface State {
  instance: ManagedInstanceBase;
  protector: NonNullable<SqlManagedInstanceConsumer["encryptionProtector"]>;
}

/** Points the TDE protector at the target version's managed-instance key (long-running); failover partners hold it first. */
export const tdeProtector: StepHandler<State> = {
  read: async (ctx) => {
    const [instance, protector] = await Promise.all([ctx.clients.sql.getManagedInstance(ctx.step.resource.id), ctx.clients.sql.getEncryptionProtector(ctx.step.resource.id)]);
    return { instance, protector };
  },
  isDone: (s, ctx) => sameVersion(s.protector.keyReference?.version, requireTarget(ctx).version),
  precondition: async (s, ctx) => {
    const name = targetServerKeyName(ctx);
    for (const id of [s.instance.resourceId, ...(ctx.step.partners ?? [])]) {
      if (!(await ctx.clients.sql.hasKey(id, name))) return `managed instance ${id.split("/").pop()} does not hold the key ${name} yet`;
    }
    return undefined;
  },
  apply: (s, ctx) => ctx.clients.sql.setEncryptionProtector(s.instance.resourceId, targetServerKeyName(ctx), ctx.write),
  describe: (s) => ({ protectorUri: s.protector.uri ?? null, serverKeyName: s.protector.serverKeyName ?? null, autoRotationEnabled: s.protector.autoRotationEnabled ?? null }),
  consumer: (s) => ({ ...s.instance, encryptionProtector: s.protector, keys: null }),
};
