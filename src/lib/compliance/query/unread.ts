import type { CollectionError, SnapshotPart } from "../../estate/snapshot.js";
import { errorsFor } from "../result.js";
import type { CheckContext } from "../types.js";

/** A subscription some of whose consumer lists could not be read, with the errors that say why. */
export interface UnreadSubscription {
  subscriptionId: string;
  errors: CollectionError[];
}

/**
 * The subscriptions whose `parts` (consumer lists) could not be read. Their consumers are missing from
 * the snapshot's lists, so a control reports each of them UNKNOWN; the other subscriptions are known.
 */
export function unreadSubscriptions(ctx: CheckContext, parts: SnapshotPart | SnapshotPart[]): UnreadSubscription[] {
  const bySubscription = new Map<string, UnreadSubscription>();
  for (const error of errorsFor(ctx, parts)) {
    if (error.about.kind !== "subscription") continue;
    const key = error.about.subscription.toLowerCase();
    const entry = bySubscription.get(key) ?? { subscriptionId: error.about.subscription, errors: [] };
    entry.errors.push(error);
    bySubscription.set(key, entry);
  }
  return [...bySubscription.values()];
}

/** The errors that left the `parts` of subscription `subscriptionId` unread (none when it was read). */
export function unreadErrorsOf(ctx: CheckContext, parts: SnapshotPart | SnapshotPart[], subscriptionId: string): CollectionError[] {
  const id = subscriptionId.toLowerCase();
  return errorsFor(ctx, parts).filter((e) => e.about.kind === "subscription" && e.about.subscription.toLowerCase() === id);
}
