import { configuredKeyEvidence, keyBinding, unreadListResults } from "../../query/consumers.js";
import { consumerRef } from "../../../estate/partRef.js";
import { errorsFor, resultsFor, withMessage, withErrors } from "../../result.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const expected = { serverKeyType: "AzureKeyVault", key: configuredKeyEvidence(ctx, "sqlManagedInstance") };
  const instances = ctx.snapshot.consumers.sqlManagedInstances;

  return instances.map((mi) => {
    const resource = { id: mi.resourceId, name: mi.name };
    const protector = mi.encryptionProtector;
    if (protector === null) {
      const errors = errorsFor(ctx, "consumers.sqlManagedInstance.encryptionProtector", consumerRef(mi.resourceId));
      return r.unknown({ resource, message: `The TDE protector of ${mi.name} could not be read.`, expected, errors });
    }
    const observed = { serverKeyType: protector.serverKeyType ?? null, key: protector.uri ?? null };
    const subject = { resource, observed, expected };
    const binding = keyBinding(ctx, protector.keyReference, "sqlManagedInstance");
    if (binding.status === "unknown") {
      return r.unknown(withErrors(subject, `The HSM of ${mi.name}'s TDE protector could not be matched: the configured HSM was not read.`, binding.errors));
    }
    if (protector.serverKeyType?.toLowerCase() !== "azurekeyvault") {
      return r.fail(withMessage(subject, `${mi.name}'s TDE protector is ${protector.serverKeyType ?? "of no reported type"}, not the configured HSM key.`));
    }
    return binding.status === "bound"
      ? r.pass(withMessage(subject, `${mi.name}'s TDE protector is the configured HSM key ${binding.pair.keyPolicy.name}.`))
      : r.fail(withMessage(subject, `${mi.name}'s TDE protector is ${protector.uri ?? "an unparsable key"}, not the configured HSM key for SQL.`));
  }).concat(unreadListResults(ctx, r, "consumers.sqlManagedInstances", "SQL managed instances", expected));
}
