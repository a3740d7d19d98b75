import { configuredKeyEvidence, keyBinding, unreadListResults } from "../../query/consumers.js";
import { resultsFor, withMessage, withErrors } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const expected = { keySource: "Microsoft.Keyvault", key: configuredKeyEvidence(ctx, "storageAccount") };
  const accounts = ctx.snapshot.consumers.storageAccounts;

  return accounts.map((account) => {
    const resource = { id: account.resourceId, name: account.name };
    const subject = { resource, observed: { keySource: account.keySource ?? null, key: account.keyReference?.url ?? null }, expected };
    const binding = keyBinding(ctx, account.keyReference, "storageAccount");
    if (binding.status === "unknown") {
      return r.unknown(withErrors(subject, `The key of ${account.name} could not be matched: the configured HSM was not read.`, binding.errors));
    }
    if (account.keySource?.toLowerCase() !== "microsoft.keyvault") {
      return r.fail(withMessage(subject, `${account.name} is encrypted with ${account.keySource ?? "no reported key source"}, not the configured HSM key.`));
    }
    return binding.status === "bound"
      ? r.pass(withMessage(subject, `${account.name} is encrypted with the configured HSM key ${binding.pair.keyPolicy.name}.`))
      : r.fail(withMessage(subject, `${account.name} is encrypted with ${account.keyReference?.url ?? "an unparsable key"}, not the configured HSM key for storage.`));
  }).concat(unreadListResults(ctx, r, "consumers.storageAccounts", "storage accounts", expected));
}
