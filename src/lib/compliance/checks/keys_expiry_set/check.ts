import { perConfiguredKey } from "../../query/keys.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  return perConfiguredKey(ctx, metadata, {
    expected: () => ({ expiresOn: "set" }),
    evaluate: ({ key, keyResource: resource }, r, expected) => {
      const observed = { currentVersion: key.currentVersion ?? null, expiresOn: key.expiresOn ?? null };
      return key.expiresOn
        ? r.pass({ resource, message: `The current version of key ${resource.name} expires on ${key.expiresOn}.`, observed, expected })
        : r.fail({ resource, message: `The current version of key ${resource.name} has no expiry date: set one and give the key a rotation policy with expiresIn.`, observed, expected });
    },
  });
}
