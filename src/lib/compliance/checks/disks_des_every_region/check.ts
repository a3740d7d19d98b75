import { sameRegion } from "../../query.js";
import { configuredKeysFor, keyBinding } from "../../query/consumers.js";
import { resultsFor, withMessage, withErrors } from "../../result.js";
import { unreadSubscriptions } from "../../query/unread.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

/** One result per configured disk key and required region (the HSM's primary and extended regions). */
export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const desList = ctx.snapshot.consumers.diskEncryptionSets;
  // A DES bound to the key may be in a subscription whose list could not be read.
  const unread = unreadSubscriptions(ctx, "consumers.diskEncryptionSets");

  return configuredKeysFor(ctx, "diskEncryptionSet").flatMap((pair) => {
    const { primary, extended } = pair.policy.regions;
    const regions = [primary, ...extended].filter((region, i, all) => all.findIndex((other) => sameRegion(other, region)) === i);
    return regions.map((region) => {
      // A region is not an ARM resource of its own: the result is about the key in that region.
      const resource = { id: `${pair.keyResource.id}#${region}`, name: `${pair.keyPolicy.name} in ${region}` };
      const expected = { region, diskEncryptionSetBoundTo: pair.keyResource.id };
      const inRegion = desList.filter((des) => sameRegion(des.location, region));
      const bindings = inRegion.map((des) => ({ des, binding: keyBinding(ctx, des.keyReference, "diskEncryptionSet") }));
      const bound = bindings.filter(({ binding }) => binding.status === "bound" && binding.pair.keyResource.id === pair.keyResource.id);
      const observed = { region, diskEncryptionSets: inRegion.map((des) => ({ name: des.name, key: des.activeKeyUrl ?? null })) };
      const subject = { resource, observed, expected };
      if (bound.length > 0) {
        return r.pass(withMessage(subject, `${region} has ${bound.map(({ des }) => des.name).join(", ")} bound to ${pair.keyPolicy.name}.`));
      }
      if (unread.length > 0) {
        const subscriptions = unread.map((u) => u.subscriptionId).join(", ");
        return r.unknown(withErrors(subject, `No readable subscription has a DES in ${region} bound to ${pair.keyPolicy.name}, and the disk encryption sets of ${subscriptions} could not be listed.`, unread.flatMap((u) => u.errors)));
      }
      if (bindings.some(({ binding }) => binding.status === "unknown")) {
        const errors = bindings.flatMap(({ binding }) => (binding.status === "unknown" ? binding.errors : []));
        return r.unknown(withErrors(subject, `The DES in ${region} could not be matched to ${pair.keyPolicy.name}: the configured HSM was not read.`, errors));
      }
      return r.fail(withMessage(subject, `No disk encryption set bound to ${pair.keyPolicy.name} exists in ${region}; create one there before disks in that region need it.`));
    });
  });
}
