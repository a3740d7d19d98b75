import { isVersion, keyBinding, latestEvidence, latestNotKnown, latestVersion, notOnConfiguredKey, unreadListResults, type LatestVersion } from "../../query/consumers.js";
import { resultsFor, withMessage } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

const expectedFor = (latest?: LatestVersion) => ({ keyVersion: "versionless (empty)", or: latestEvidence(latest) });

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const accounts = ctx.snapshot.consumers.storageAccounts;

  return accounts.map((account) => {
    const resource = { id: account.resourceId, name: account.name };
    const pinned = account.keyVersion || account.keyReference?.version || null;
    const observed = { keyVersion: pinned, key: account.keyReference?.url ?? null };
    const binding = keyBinding(ctx, account.keyReference, "storageAccount");
    if (binding.status !== "bound") return notOnConfiguredKey(r, { resource, observed, expected: expectedFor() }, binding, "storage");

    const keyName = binding.pair.keyPolicy.name;
    if (pinned === null) {
      return r.pass({ resource, observed, expected: expectedFor(), message: `${account.name} uses ${keyName} versionless, so it follows each rotation.` });
    }
    const latest = latestVersion(ctx, binding.pair);
    const subject = { resource, observed, expected: expectedFor(latest) };
    if (latest.status !== "known") return latestNotKnown(r, subject, latest, binding.pair);
    return isVersion(pinned, latest)
      ? r.pass(withMessage(subject, `${account.name} is pinned to the latest version of ${keyName}; clear the version so it follows the next rotation.`))
      : r.fail(withMessage(subject, `${account.name} is pinned to an older version of ${keyName} (${pinned}); clear the key version so it uses ${latest.version} and follows rotations.`));
  }).concat(unreadListResults(ctx, r, "consumers.storageAccounts", "storage accounts", expectedFor()));
}
