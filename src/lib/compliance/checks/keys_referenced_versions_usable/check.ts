import type { Consumer, KeySnapshot, KeyVersionSnapshot, SnapshotPart } from "../../../estate/snapshot.js";
import { consumerRef } from "../../../estate/partRef.js";
import { consumersOfKey, keyPairs, versionInUse, type KeyPair } from "../../query.js";
import { keyReadErrors, versionAttributes, versionUsabilityProblems, type Results } from "../../query/keys.js";
import { errorsFor, resultsFor } from "../../result.js";
import { unreadSubscriptions } from "../../query/unread.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

const expected = { enabled: true, expired: false, notBeforePassed: true };

export function check(ctx: CheckContext): ControlResult[] {
  const r = resultsFor(metadata, ctx);
  const unread = unreadSubscriptions(ctx, CONSUMER_LISTS);
  return keyPairs(ctx).flatMap((pair) => {
    const resource = pair.keyResource;
    const listsUnknown = unread.map(({ subscriptionId, errors }) =>
      r.unknown({ resource, message: `The consumers of subscription ${subscriptionId} could not all be listed (${[...new Set(errors.map((e) => e.part))].join(", ")}), so some consumers of key ${resource.name} may be missing.`, expected, errors }),
    );
    const versions: VersionCache = new Map();
    return [...listsUnknown, ...unreadProtectors(ctx, r, pair), ...consumersOfKey(ctx, pair.hsm, pair.keyPolicy.name).map((c) => judgeReference(ctx, r, pair, c, versions))];
  });
}

/** A key's versions as judged once (by lower-cased version) for the thousands of consumers that share them. */
type VersionCache = Map<string, { attributes: KeyVersionSnapshot | undefined; problems: readonly string[] }>;

function judgedVersion(ctx: CheckContext, key: KeySnapshot, version: string, versions: VersionCache) {
  const id = version.toLowerCase();
  let judged = versions.get(id);
  if (judged === undefined) {
    const attributes = versionAttributes(key, version);
    judged = { attributes, problems: attributes ? versionUsabilityProblems(attributes, ctx.now) : [] };
    versions.set(id, judged);
  }
  return judged;
}

function judgeReference(ctx: CheckContext, r: Results, pair: KeyPair, consumer: Consumer, versions: VersionCache): ControlResult {
  const keyName = pair.keyPolicy.name;
  const resource = { id: consumer.resourceId, name: `${consumer.name} -> ${keyName}` };
  if (pair.key === null) {
    return r.unknown({ resource, message: `Key ${keyName}, which ${consumer.name} uses, could not be read.`, expected, errors: keyReadErrors(ctx, pair) });
  }
  if (pair.key === undefined) {
    return r.fail({ resource, message: `${consumer.name} uses key ${keyName}, which does not exist in ${pair.policy.name}: recover the key before the consumer loses access.`, observed: "key does not exist", expected });
  }
  // A versionless reference (storage without a reported current version) follows the current version.
  const version = versionInUse(consumer) ?? pair.key.currentVersion;
  if (!version) {
    return r.unknown({ resource, message: `Neither ${consumer.name} nor key ${keyName} reported which version is in use.`, expected, errors: errorsFor(ctx, "key", pair.keyAbout) });
  }
  const { attributes, problems } = judgedVersion(ctx, pair.key, version, versions);
  if (!attributes) {
    return pair.key.versions === null
      ? r.unknown({ resource, message: `The versions of key ${keyName} could not be listed, so version ${version} used by ${consumer.name} cannot be checked.`, expected, errors: errorsFor(ctx, "key.versions", pair.keyAbout) })
      : r.fail({ resource, message: `${consumer.name} uses version ${version} of key ${keyName}, which does not exist in ${pair.policy.name}: repoint it to the current version.`, observed: { version, exists: false }, expected });
  }
  const observed = { keyVersionId: attributes.id, enabled: attributes.enabled ?? null, expiresOn: attributes.expiresOn ?? null, notBefore: attributes.notBefore ?? null };
  if (attributes.enabled === undefined) {
    return r.unknown({ resource, message: `Version ${version} of key ${keyName} did not report whether it is enabled.`, expected, observed, errors: errorsFor(ctx, "key.versions", pair.keyAbout) });
  }
  return problems.length === 0
    ? r.pass({ resource, message: `${consumer.name} uses version ${version} of key ${keyName}, which is enabled and unexpired.`, observed, expected })
    : r.fail({ resource, message: `${consumer.name} uses version ${version} of key ${keyName}, which ${problems.join(" and ")}: restore the version at once and move the consumer to the current version.`, observed, expected });
}

/** The consumer lists that could not be read: any of them may hold a reference to any key. */
const CONSUMER_LISTS: SnapshotPart[] = ["consumers.sqlManagedInstances", "consumers.diskEncryptionSets", "consumers.storageAccounts"];

/** SQL MIs whose TDE protector could not be read: UNKNOWN for each key configured for SQL MI. */
function unreadProtectors(ctx: CheckContext, r: Results, pair: KeyPair): ControlResult[] {
  if (!pair.keyPolicy.consumers.includes("sqlManagedInstance")) return [];
  return ctx.snapshot.consumers.sqlManagedInstances
    .filter((mi) => mi.encryptionProtector === null)
    .map((mi) =>
      r.unknown({
        resource: { id: mi.resourceId, name: `${mi.name} -> ${pair.keyPolicy.name}` },
        message: `The TDE protector of ${mi.name} could not be read, so whether it uses a usable version of key ${pair.keyPolicy.name} is unknown.`,
        expected,
        errors: errorsFor(ctx, "consumers.sqlManagedInstance.encryptionProtector", consumerRef(mi.resourceId)),
      }),
    );
}
