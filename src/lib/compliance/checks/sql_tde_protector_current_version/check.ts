import { versionInUse } from "../../query.js";
import { consumerRef } from "../../../estate/partRef.js";
import { isVersion, keyBinding, latestEvidence, latestNotKnown, latestVersion, notOnConfiguredKey, unreadListResults } from "../../query/consumers.js";
import { errorsFor, resultsFor, withMessage } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const expectedFor = (latest?: Parameters<typeof latestEvidence>[0]) => ({ keyVersion: latestEvidence(latest), or: { autoRotationEnabled: true } });
  const instances = ctx.snapshot.consumers.sqlManagedInstances;

  return instances.map((mi) => {
    const resource = { id: mi.resourceId, name: mi.name };
    const protector = mi.encryptionProtector;
    if (protector === null) {
      const errors = errorsFor(ctx, "consumers.sqlManagedInstance.encryptionProtector", consumerRef(mi.resourceId));
      return r.unknown({ resource, message: `The TDE protector of ${mi.name} could not be read.`, expected: expectedFor(), errors });
    }
    const observed = { keyVersion: protector.uri ?? null, autoRotationEnabled: protector.autoRotationEnabled ?? null };
    const binding = keyBinding(ctx, protector.keyReference, "sqlManagedInstance");
    if (binding.status !== "bound") return notOnConfiguredKey(r, { resource, observed, expected: expectedFor() }, binding, "SQL");

    const latest = latestVersion(ctx, binding.pair);
    const subject = { resource, observed, expected: expectedFor(latest) };
    const keyName = binding.pair.keyPolicy.name;
    if (latest.status === "known" && isVersion(versionInUse(mi), latest)) {
      return r.pass(withMessage(subject, `${mi.name}'s TDE protector is on the latest version of ${keyName}.`));
    }
    if (protector.autoRotationEnabled === true) {
      return r.pass(withMessage(subject, `${mi.name} has TDE protector auto-rotation on, so it moves to each new version of ${keyName} within an hour.`));
    }
    if (latest.status !== "known") return latestNotKnown(r, subject, latest, binding.pair);
    return r.fail(withMessage(subject, `${mi.name}'s TDE protector is pinned to an older version of ${keyName} and auto-rotation is off; set the protector to ${latest.id} or turn auto-rotation on.`));
  }).concat(unreadListResults(ctx, r, "consumers.sqlManagedInstances", "SQL managed instances", expectedFor()));
}
