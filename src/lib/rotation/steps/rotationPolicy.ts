import type { RotationPolicySnapshot } from "../../estate/snapshot.js";
import { rotationPolicyProblems } from "../../compliance/query/rotationPolicy.js";
import { desiredRotationPolicy } from "../desiredRotationPolicy.js";
import type { StepHandler } from "./stepHandler.js";

/** Sets or repairs the key's rotation policy from the policy document. */
export const rotationPolicy: StepHandler<RotationPolicySnapshot> = {
  read: (ctx) => ctx.clients.hsmKeys(ctx.step.key.hsmUri).getRotationPolicy(ctx.step.key.name),
  isDone: (policy, ctx) => rotationPolicyProblems(policy, ctx.keyPolicy.rotation).length === 0,
  apply: async (_policy, ctx) => {
    await ctx.clients.hsmKeys(ctx.step.key.hsmUri).setRotationPolicy(ctx.step.key.name, desiredRotationPolicy(ctx.keyPolicy.rotation), ctx.write);
  },
  describe: (policy) => {
    const rotate = policy.lifetimeActions.find((a) => a.action === "Rotate");
    return { expiresIn: policy.expiresIn ?? null, rotateTimeAfterCreate: rotate?.timeAfterCreate ?? null, rotateTimeBeforeExpiry: rotate?.timeBeforeExpiry ?? null };
  },
};
