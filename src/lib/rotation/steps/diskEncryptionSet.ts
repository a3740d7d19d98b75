import type { DiskEncryptionSetConsumer } from "../../estate/snapshot.js";
import type { StepHandler } from "./stepHandler.js";
import { requireTarget, sameVersion } from "./stepHandler.js";

/** Moves a disk encryption set (one per region) to the target version: a long-running PATCH of activeKey.keyUrl. */
export const diskEncryptionSet: StepHandler<DiskEncryptionSetConsumer> = {
  read: (ctx) => ctx.clients.compute.getDiskEncryptionSet(ctx.step.resource.id),
  isDone: (des, ctx) => sameVersion(des.keyReference?.version, requireTarget(ctx).version),
  apply: (des, ctx) => ctx.clients.compute.setActiveKey(des.resourceId, requireTarget(ctx).url, ctx.write),
  describe: (des) => ({ activeKeyUrl: des.activeKeyUrl ?? null, rotationToLatestKeyVersionEnabled: des.rotationToLatestKeyVersionEnabled ?? null, autoKeyRotationError: des.autoKeyRotationError?.code ?? null }),
  consumer: (des) => des,
};
