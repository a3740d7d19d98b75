import type { KeySnapshot } from "../../estate/snapshot.js";
import type { StepHandler } from "./stepHandler.js";
import { sameVersion } from "./stepHandler.js";

type KeyState = Omit<KeySnapshot, "versions" | "rotationPolicy"> & { hasRotationPolicy: boolean };

/**
 * Rotates the key once. "Done" means the key's current version is no longer the one the plan saw: this run,
 * an earlier run that died before journaling it, another KeyWarden, or a person rotated it. So a rerun never
 * rotates twice, whatever the journal holds.
 */
export const rotateKey: StepHandler<KeyState> = {
  read: async (ctx) => {
    const keys = ctx.clients.hsmKeys(ctx.step.key.hsmUri);
    const [key, policy] = await Promise.all([keys.getKey(ctx.step.key.name), keys.getRotationPolicy(ctx.step.key.name)]);
    return { ...key, hasRotationPolicy: policy.lifetimeActions.length > 0 || policy.expiresIn !== undefined };
  },
  isDone: (key, ctx) => !sameVersion(key.currentVersion, String(ctx.step.before.currentVersion ?? "")),
  precondition: async (key, ctx) => {
    if (key.enabled === false) return `key ${key.name} is disabled`;
    if (!key.hasRotationPolicy && !ctx.wouldChange.has("rotationPolicy")) return `key ${key.name} has no rotation policy, which Managed HSM requires before an on-demand rotation`;
    return undefined;
  },
  apply: async (_key, ctx) => {
    await ctx.clients.hsmKeys(ctx.step.key.hsmUri).rotateKey(ctx.step.key.name, ctx.write);
  },
  describe: (key) => ({ currentVersion: key.currentVersion ?? null, createdOn: key.createdOn ?? null, expiresOn: key.expiresOn ?? null }),
};
