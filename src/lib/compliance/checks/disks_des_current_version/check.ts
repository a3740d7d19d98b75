import { versionInUse } from "../../query.js";
import { isVersion, keyBinding, latestEvidence, latestNotKnown, latestVersion, notOnConfiguredKey, unreadListResults, type LatestVersion } from "../../query/consumers.js";
import { resultsFor, withMessage } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

const expectedFor = (latest?: LatestVersion) => ({ keyVersion: latestEvidence(latest), or: { rotationToLatestKeyVersionEnabled: true, autoKeyRotationError: null } });

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const desList = ctx.snapshot.consumers.diskEncryptionSets;

  return desList.map((des) => {
    const resource = { id: des.resourceId, name: des.name };
    const rotationError = des.autoKeyRotationError ? { code: des.autoKeyRotationError.code ?? null, message: des.autoKeyRotationError.message ?? null } : null;
    const observed = { keyVersion: des.activeKeyUrl ?? null, rotationToLatestKeyVersionEnabled: des.rotationToLatestKeyVersionEnabled ?? null, autoKeyRotationError: rotationError };
    const binding = keyBinding(ctx, des.keyReference, "diskEncryptionSet");
    if (binding.status !== "bound") return notOnConfiguredKey(r, { resource, observed, expected: expectedFor() }, binding, "disk");

    const latest = latestVersion(ctx, binding.pair);
    const subject = { resource, observed, expected: expectedFor(latest) };
    const keyName = binding.pair.keyPolicy.name;
    if (latest.status === "known" && isVersion(versionInUse(des), latest)) {
      return r.pass(withMessage(subject, `${des.name} is on the latest version of ${keyName}.`));
    }
    if (des.rotationToLatestKeyVersionEnabled === true && rotationError === null) {
      return r.pass(withMessage(subject, `${des.name} rotates to each new version of ${keyName} automatically (within an hour).`));
    }
    if (latest.status !== "known") return latestNotKnown(r, subject, latest, binding.pair);
    const why = rotationError
      ? `its automatic rotation is failing (${rotationError.code ?? rotationError.message ?? "autoKeyRotationError"}) and will not be retried until that is fixed`
      : "automatic rotation is off";
    return r.fail(withMessage(subject, `${des.name} is on an older version of ${keyName} and ${why}; its disks are not on ${latest.id}.`));
  }).concat(unreadListResults(ctx, r, "consumers.diskEncryptionSets", "disk encryption sets", expectedFor()));
}
