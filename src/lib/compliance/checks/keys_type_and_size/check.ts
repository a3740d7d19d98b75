import { missingAttribute, perConfiguredKey } from "../../query/keys.js";
import type { CheckContext, ControlResult } from "../../types.js";
import { metadata } from "./metadata.js";

export function check(ctx: CheckContext): ControlResult[] {
  return perConfiguredKey(ctx, metadata, {
    expected: ({ keyPolicy }) => ({ keyType: keyPolicy.keyType, minKeySize: keyPolicy.minKeySize }),
    evaluate: (pair, r, expected) => {
      const { key, keyPolicy, keyResource: resource } = pair;
      if (key.keyType === undefined) return missingAttribute(ctx, pair, r, "key type", expected);
      if (key.keySize === undefined) return missingAttribute(ctx, pair, r, "key size", expected);
      const observed = { keyType: key.keyType, keySize: key.keySize };
      const problems = [
        ...(key.keyType === keyPolicy.keyType ? [] : [`its type is ${key.keyType}, not ${keyPolicy.keyType}`]),
        ...(key.keySize >= keyPolicy.minKeySize ? [] : [`its size is ${key.keySize} bits, below ${keyPolicy.minKeySize}`]),
      ];
      return problems.length === 0
        ? r.pass({ resource, message: `Key ${resource.name} is ${key.keyType} with ${key.keySize} bits.`, observed, expected })
        : r.fail({ resource, message: `Key ${resource.name} does not meet policy: ${problems.join(" and ")}; rotate to a compliant key and move its consumers.`, observed, expected });
    },
  });
}
