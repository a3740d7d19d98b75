import { versionInUse } from "../../query.js";
import { consumerRef } from "../../../estate/partRef.js";
import { hoursSince, isVersion, keyBinding, latestEvidence, latestNotKnown, latestVersion, notOnConfiguredKey, unreadListResults, type LatestVersion } from "../../query/consumers.js";
import { errorsFor, resultsFor, withMessage, withErrors } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

/** Storage resolves a versionless key once a day (azure-facts H5), so a lag shorter than the threshold is expected. */
export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const catchUpHours = ctx.policy.thresholds.storageCatchUpHours;
  const expectedFor = (latest?: LatestVersion) => ({ currentVersionedKeyIdentifier: latestEvidence(latest), orLatestCreatedWithinHours: catchUpHours });
  const accounts = ctx.snapshot.consumers.storageAccounts;

  return accounts.map((account) => {
    const resource = { id: account.resourceId, name: account.name };
    const observed = { currentVersionedKeyIdentifier: account.currentVersionedKeyIdentifier ?? null, lastKeyRotationTimestamp: account.lastKeyRotationTimestamp ?? null };
    const binding = keyBinding(ctx, account.keyReference, "storageAccount");
    if (binding.status !== "bound") return notOnConfiguredKey(r, { resource, observed, expected: expectedFor() }, binding, "storage");

    const latest = latestVersion(ctx, binding.pair);
    const subject = { resource, observed, expected: expectedFor(latest) };
    if (latest.status !== "known") return latestNotKnown(r, subject, latest, binding.pair);
    const keyName = binding.pair.keyPolicy.name;
    const inUse = versionInUse(account);
    if (inUse === null) {
      return r.unknown(withErrors(subject, `${account.name} did not report the key version it uses (currentVersionedKeyIdentifier).`, errorsFor(ctx, "consumers.storageAccounts", consumerRef(account.resourceId))));
    }
    if (isVersion(inUse, latest)) return r.pass(withMessage(subject, `${account.name} uses the latest version of ${keyName}.`));
    if (!latest.createdOn) {
      return r.unknown(withErrors(subject, `When the latest version of ${keyName} was created is unknown, so whether ${account.name} is late to pick it up is unknown.`, errorsFor(ctx, ["key", "key.versions"], binding.pair.keyAbout)));
    }
    const age = hoursSince(latest.createdOn, ctx.now);
    const lag = `${Math.floor(age)} h`;
    return age < catchUpHours
      ? r.pass(withMessage(subject, `${account.name} still uses an older version of ${keyName}, but the latest was created ${lag} ago, within the ${catchUpHours} h catch-up window.`))
      : r.fail(withMessage(subject, `${account.name} still uses version ${inUse} of ${keyName}, ${lag} after ${latest.version} was created (window ${catchUpHours} h)${account.keyVersion ? "; it is pinned, clear its key version" : "; check its identity's access to the key"}.`));
  }).concat(unreadListResults(ctx, r, "consumers.storageAccounts", "storage accounts", expectedFor()));
}
