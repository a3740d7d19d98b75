import { z } from "zod";
import { describeDuration, ISO_DURATION_PATTERN, parseIsoDuration } from "./durations.js";
import { closestName } from "./suggest.js";
import type {
  ComplianceThresholds,
  ConsumerKind,
  IsoDuration,
  KeyPolicy,
  ManagedHsmPolicy,
  PolicyDocument,
  PrincipalRef,
} from "./types.js";

/**
 * The policy document (JSON, `version: 1`): which Managed HSMs KeyWarden looks after, the keys each must
 * hold and how they rotate, who may hold which role, and the compliance thresholds.
 *
 * Objects are strict: an unknown property is an error, so a typo is never silently ignored. Rules reject
 * what Azure itself would reject (a rotation more often than every 28 days, a key size a consumer cannot
 * use) and what contradicts itself (a version that expires before it is rotated); advice that is merely
 * unwise is reported by policyWarnings() instead.
 */

/** Managed HSM refuses rotation policies that rotate, or expire versions, sooner than this. */
export const MIN_ROTATION_DAYS = 28;
const MIN_ROTATION_ISO = "P28D";
/**
 * No cryptoperiod is longer than a century; past it the dates a policy implies (a key's due date, the day it
 * reaches the version cap) leave the range a Date can hold, and the scan would stop on a RangeError.
 */
export const MAX_ROTATION_DAYS = 36_500;
const MAX_ROTATION_ISO = "P100Y";

export const CONSUMER_KINDS = ["sqlManagedInstance", "diskEncryptionSet", "storageAccount"] as const satisfies readonly ConsumerKind[];
export const KEY_TYPES = ["RSA-HSM", "EC-HSM", "oct-HSM"] as const satisfies readonly KeyPolicy["keyType"][];
export const RSA_KEY_SIZES = [2048, 3072, 4096] as const;
/** Bits of the P-256/P-256K, P-384 and P-521 curves. */
const EC_KEY_SIZES = [256, 384, 521] as const;
const OCT_KEY_SIZES = [128, 192, 256] as const;
/** SQL TDE protectors accept only these RSA sizes (DES and Storage also take 4096). */
const SQL_TDE_RSA_KEY_SIZES: readonly number[] = [2048, 3072];

/** Values of a disk's or DES's `encryption.type` (Microsoft.Compute). */
export const DISK_ENCRYPTION_TYPES = [
  "EncryptionAtRestWithCustomerKey",
  "EncryptionAtRestWithPlatformAndCustomerKeys",
  "EncryptionAtRestWithPlatformKey",
  "ConfidentialVmEncryptedWithCustomerKey",
] as const;

export const DEFAULT_THRESHOLDS: Readonly<ComplianceThresholds> = Object.freeze({
  softDeleteRetentionMinDays: 90,
  keyExpiryWarningDays: 30,
  keyExpiryCriticalDays: 7,
  // The reference architecture creates 2048-bit keys; raise it in the policy to demand more.
  minRsaKeySize: 2048,
  maxKeyVersions: 100,
  keyVersionHeadroom: 10,
  storageCatchUpHours: 24,
  allowedDiskEncryptionTypes: Object.freeze(["EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys"]) as string[],
  // KeyWarden's own hourly scan reads the HSM, so a day without an AuditEvent means the logs stopped arriving.
  auditEventMaxAgeHours: 24,
  signalsWindowHours: 24,
  // Managed HSM's SLA is 99.9 % (UNVERIFIED here for the current SLA text); latency: its own calls take tens of ms.
  availabilityMinPercent: 99.9,
  serviceApiLatencyMaxMs: 500,
  versionCapForecastDays: 365,
});

export const DEFAULT_NOTIFY_BEFORE = "P30D";

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const KEY_NAME = /^[0-9a-zA-Z-]{1,127}$/;
const REGION = /^[a-z][a-z0-9]*$/;
/** ARM id of a Managed HSM; provider and type segments are case-insensitive, as ARM treats them. */
/** ARM resource types of the consumers a policy may name, by consumer kind. */
const CONSUMER_RESOURCE_TYPES: Readonly<Record<ConsumerKind, string>> = {
  sqlManagedInstance: "Microsoft.Sql/managedInstances",
  diskEncryptionSet: "Microsoft.Compute/diskEncryptionSets",
  storageAccount: "Microsoft.Storage/storageAccounts",
};
const CONSUMER_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/[^/]+\/providers\/([^/]+\/[^/]+)\/[^/]+$/i;
const MANAGED_HSM_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.KeyVault\/managedHSMs\/([^/]+)$/i;
const RESOURCE_GROUP = /^[-\w.()\p{L}\p{N}]{1,90}$/u;
/** Managed HSM names: 3-24 letters, digits and hyphens, starting with a letter, ending with a letter or digit. */
const MANAGED_HSM_NAME = /^[a-zA-Z](?:[a-zA-Z0-9]|-(?!-)){1,22}[a-zA-Z0-9]$/;

const quote = (value: unknown): string => JSON.stringify(value) ?? String(value);

/** z.strictObject whose unknown-property message names the property and suggests the closest known one. */
function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const known = Object.keys(shape).filter((key) => key !== "$schema");
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== "unrecognized_keys") return undefined;
      const unknown = issue.keys.map((key) => {
        const suggestion = closestName(key, known);
        return suggestion === undefined ? quote(key) : `${quote(key)} (did you mean ${quote(suggestion)}?)`;
      });
      const noun = unknown.length === 1 ? "property" : "properties";
      return `unknown ${noun} ${unknown.join(", ")}; allowed: ${known.join(", ")}`;
    },
  });
}

function wholeNumber(min: number, max: number) {
  const message = (issue: { input?: unknown }) => `${quote(issue.input)} is not a whole number from ${min} to ${max}`;
  return z.int({ error: message }).min(min, { error: message }).max(max, { error: message });
}

const percent = z
  .number({ error: (issue) => `${quote(issue.input)} is not a percentage from 0 to 100` })
  .min(0, { error: (issue) => `${quote(issue.input)} is not a percentage from 0 to 100` })
  .max(100, { error: (issue) => `${quote(issue.input)} is not a percentage from 0 to 100` });

function oneOf<const T extends readonly (string | number)[]>(values: T, what: string) {
  const list = values.map((value) => quote(value)).join(", ");
  return z.union(values.map((value) => z.literal(value)) as unknown as [z.ZodLiteral<T[number]>], {
    error: (issue) => `${quote(issue.input)} is not ${what}; use one of ${list}`,
  });
}

function enumOf<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  const list = values.map((value) => quote(value)).join(", ");
  return z.enum(values, { error: (issue) => `${quote(issue.input)} is not ${what}; use one of ${list}` });
}

const guid = (what: string) =>
  z
    .string({ error: (issue) => `${quote(issue.input)} is not a ${what} (a GUID)` })
    .regex(GUID, { error: (issue) => `${quote(issue.input)} is not a ${what} (a GUID)` })
    .transform((value) => value.toLowerCase());

const region = z
  .string({ error: (issue) => `${quote(issue.input)} is not an Azure region name` })
  .regex(REGION, {
    error: (issue) => `${quote(issue.input)} is not an Azure region name; write it in lower case without spaces, e.g. "southindia"`,
  })
  .describe('Azure region name in lower case without spaces, e.g. "southindia".');

const isoDuration = z
  .string({ error: (issue) => `${quote(issue.input)} is not an ISO-8601 duration` })
  .regex(new RegExp(ISO_DURATION_PATTERN), {
    error: (issue) => `${quote(issue.input)} is not an ISO-8601 duration (expected PnYnMnWnDTnHnMnS, e.g. "P90D", "P6M" or "P1Y")`,
  })
  .transform((text): IsoDuration => parseIsoDuration(text));

const principalSchema = strictObject({
  principalId: guid("principal object id").describe("Entra ID object id of a user, group, service principal or managed identity."),
  displayName: z.string().min(1).max(256).optional().describe("Free text shown in reports."),
});

const rotationSchema = strictObject({
  rotateAfter: isoDuration.describe("Rotate this long after a version is created. Managed HSM requires at least P28D."),
  expireAfter: isoDuration.describe("Each version expires this long after creation (the cryptoperiod); at least P28D and longer than rotateAfter."),
  notifyBefore: isoDuration.prefault(DEFAULT_NOTIFY_BEFORE).describe("Raise a near-expiry alert this long before a version expires."),
}).superRefine((rotation, ctx) => {
  const { rotateAfter, expireAfter, notifyBefore } = rotation;
  const tooLong = (["rotateAfter", "expireAfter", "notifyBefore"] as const).filter((field) => rotation[field].days > MAX_ROTATION_DAYS);
  for (const field of tooLong) {
    ctx.addIssue({ code: "custom", path: [field], message: `${describeDuration(rotation[field])} is longer than the ${MAX_ROTATION_ISO} (${MAX_ROTATION_DAYS} days) KeyWarden accepts` });
  }
  if (tooLong.length > 0) return;
  if (rotateAfter.days < MIN_ROTATION_DAYS) {
    ctx.addIssue({
      code: "custom",
      path: ["rotateAfter"],
      message: `${quote(rotateAfter.iso)} is shorter than the ${MIN_ROTATION_DAYS}-day minimum Managed HSM allows between rotations (${MIN_ROTATION_ISO})`,
    });
  }
  if (expireAfter.days < MIN_ROTATION_DAYS) {
    ctx.addIssue({
      code: "custom",
      path: ["expireAfter"],
      message: `${quote(expireAfter.iso)} is shorter than the ${MIN_ROTATION_DAYS}-day minimum expiry Managed HSM allows for a version (${MIN_ROTATION_ISO})`,
    });
  } else if (expireAfter.days <= rotateAfter.days) {
    ctx.addIssue({
      code: "custom",
      path: ["expireAfter"],
      message: `${describeDuration(expireAfter)} must be longer than rotateAfter ${describeDuration(rotateAfter)}: each version would expire before it is rotated`,
    });
  }
  if (notifyBefore.days <= 0) {
    ctx.addIssue({ code: "custom", path: ["notifyBefore"], message: `${quote(notifyBefore.iso)} must be longer than zero` });
  } else if (notifyBefore.days >= expireAfter.days) {
    ctx.addIssue({
      code: "custom",
      path: ["notifyBefore"],
      message: `${describeDuration(notifyBefore)} must be shorter than expireAfter ${describeDuration(expireAfter)}: the alert would be due before the version exists`,
    });
  }
});

const keySchema = strictObject({
  name: z
    .string({ error: (issue) => `${quote(issue.input)} is not a key name` })
    .regex(KEY_NAME, {
      error: (issue) => `${quote(issue.input)} is not a valid Managed HSM key name (1-127 characters: letters, digits and hyphens)`,
    })
    .describe("Key name in the Managed HSM (1-127 letters, digits and hyphens)."),
  keyType: enumOf(KEY_TYPES, "a Managed HSM key type").default("RSA-HSM"),
  minKeySize: z
    .int({ error: (issue) => `${quote(issue.input)} is not a key size in bits` })
    .positive({ error: (issue) => `${quote(issue.input)} is not a key size in bits` })
    .optional()
    .describe("Minimum key size in bits. RSA-HSM: 2048, 3072 or 4096 (default thresholds.minRsaKeySize)."),
  consumers: z
    .array(enumOf(CONSUMER_KINDS, "a consumer kind"))
    .default([])
    .describe("Kinds of Azure resources expected to use this key."),
  rotation: rotationSchema,
  expectedConsumers: z
    .array(z.string({ error: (issue) => `${quote(issue.input)} is not a resource id` }))
    .default([])
    .describe(
      "ARM ids of the SQL managed instances, disk encryption sets and storage accounts that must use this key. They stay in the snapshot even when they no longer point at the HSM, so a consumer switched to another key or back to platform-managed keys is a finding rather than silently out of scope.",
    ),
}).superRefine((key, ctx) => {
  for (const [index, id] of key.expectedConsumers.entries()) {
    const kind = consumerKindOf(id);
    if (kind === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["expectedConsumers", index],
        message: `${quote(id)} is not the ARM id of a SQL managed instance, disk encryption set or storage account (/subscriptions/<guid>/resourceGroups/<group>/providers/${Object.values(CONSUMER_RESOURCE_TYPES).join("|")}/<name>)`,
      });
    } else if (!key.consumers.includes(kind)) {
      ctx.addIssue({ code: "custom", path: ["expectedConsumers", index], message: `${quote(id)} is a ${kind}, but consumers does not list ${quote(kind)}` });
    }
  }
  reportDuplicates(ctx, key.expectedConsumers, (id) => id.toLowerCase(), (index) => ["expectedConsumers", index], "expected consumer", (id) => id);
  const sizes: Record<KeyPolicy["keyType"], readonly number[]> = { "RSA-HSM": RSA_KEY_SIZES, "EC-HSM": EC_KEY_SIZES, "oct-HSM": OCT_KEY_SIZES };
  const allowed = sizes[key.keyType];
  if (key.minKeySize !== undefined && !allowed.includes(key.minKeySize)) {
    ctx.addIssue({
      code: "custom",
      path: ["minKeySize"],
      message: `${key.minKeySize} is not an allowed ${key.keyType} key size; use one of ${allowed.join(", ")}`,
    });
  }
  if (key.keyType !== "RSA-HSM" && key.consumers.length > 0) {
    ctx.addIssue({
      code: "custom",
      path: ["keyType"],
      message: `${quote(key.keyType)} cannot protect ${key.consumers.join(", ")}: customer-managed keys for SQL, disks and storage must be RSA keys (RSA-HSM)`,
    });
  }
  reportDuplicates(ctx, key.consumers, (consumer) => consumer, (index) => ["consumers", index], "consumer kind");
});

const managedHsmSchema = strictObject({
  resourceId: z
    .string({ error: (issue) => `${quote(issue.input)} is not a Managed HSM resource id` })
    .describe("ARM id: /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.KeyVault/managedHSMs/<name>"),
  regions: strictObject({
    primary: region,
    extended: z.array(region).default([]).describe("Extended (replica) regions of a multi-region Managed HSM."),
  }),
  keys: z.array(keySchema).default([]),
  keyManagementPrincipals: z.array(principalSchema).default([]).describe("Expected to hold Managed HSM Crypto User."),
  administratorPrincipals: z.array(principalSchema).default([]).describe("Security officers: expected to hold Managed HSM Administrator."),
  otherExpectedPrincipals: z.array(principalSchema).default([]).describe("Any other principal allowed key access."),
  allowKeyManagementThroughArm: z
    .boolean()
    .default(false)
    .describe(
      "Allow the HSM setting AllowKeyManagementOperationsThroughARM to be true (principals with ARM roles can then manage keys outside the HSM's local RBAC). Default false: the setting on is a finding.",
    ),
}).superRefine((hsm, ctx) => {
  const idProblem = managedHsmIdProblem(hsm.resourceId);
  if (idProblem !== undefined) ctx.addIssue({ code: "custom", path: ["resourceId"], message: idProblem });

  const extendedPrimary = hsm.regions.extended.indexOf(hsm.regions.primary);
  if (extendedPrimary >= 0) {
    ctx.addIssue({
      code: "custom",
      path: ["regions", "extended", extendedPrimary],
      message: `${quote(hsm.regions.primary)} is already the primary region; an extended region must be another region`,
    });
  }
  reportDuplicates(ctx, hsm.regions.extended, (name) => name, (index) => ["regions", "extended", index], "region");
  // Key Vault object names are case-insensitive.
  reportDuplicates(ctx, hsm.keys, (key) => key.name.toLowerCase(), (index) => ["keys", index, "name"], "key name", (key) => key.name);
  for (const list of ["keyManagementPrincipals", "administratorPrincipals", "otherExpectedPrincipals"] as const) {
    reportDuplicates(ctx, hsm[list], (principal) => principal.principalId, (index) => [list, index, "principalId"], "principal");
  }
});

const thresholdsSchema = strictObject({
  softDeleteRetentionMinDays: wholeNumber(7, 90).default(DEFAULT_THRESHOLDS.softDeleteRetentionMinDays),
  keyExpiryWarningDays: wholeNumber(1, 3650).default(DEFAULT_THRESHOLDS.keyExpiryWarningDays),
  keyExpiryCriticalDays: wholeNumber(0, 3650).default(DEFAULT_THRESHOLDS.keyExpiryCriticalDays),
  minRsaKeySize: oneOf(RSA_KEY_SIZES, "an RSA key size").default(2048),
  maxKeyVersions: wholeNumber(1, 100).default(DEFAULT_THRESHOLDS.maxKeyVersions).describe("Managed HSM caps a key at 100 versions."),
  keyVersionHeadroom: wholeNumber(0, 99).default(DEFAULT_THRESHOLDS.keyVersionHeadroom),
  storageCatchUpHours: wholeNumber(1, 720).default(DEFAULT_THRESHOLDS.storageCatchUpHours),
  allowedDiskEncryptionTypes: z
    .array(enumOf(DISK_ENCRYPTION_TYPES, "a disk encryption type"))
    .min(1, { error: "must list at least one disk encryption type" })
    .default(() => [...DEFAULT_THRESHOLDS.allowedDiskEncryptionTypes] as (typeof DISK_ENCRYPTION_TYPES)[number][]),
  auditEventMaxAgeHours: wholeNumber(1, 720)
    .default(DEFAULT_THRESHOLDS.auditEventMaxAgeHours)
    .describe("The HSM's newest AuditEvent in the Log Analytics workspace its diagnostic setting names must be at most this many hours old."),
  signalsWindowHours: wholeNumber(1, 168).default(DEFAULT_THRESHOLDS.signalsWindowHours).describe("Denied (401/403) requests and the availability and latency metrics are read over this many hours."),
  availabilityMinPercent: percent.default(DEFAULT_THRESHOLDS.availabilityMinPercent).describe("The HSM's Availability metric (average and minimum over the window) must reach this percentage."),
  serviceApiLatencyMaxMs: wholeNumber(1, 60_000).default(DEFAULT_THRESHOLDS.serviceApiLatencyMaxMs).describe("The HSM's ServiceApiLatency metric (average over the window) must not exceed this many milliseconds."),
  versionCapForecastDays: wholeNumber(0, 36500)
    .default(DEFAULT_THRESHOLDS.versionCapForecastDays)
    .describe("Days ahead: a key that reaches the version cap within them, rotating at its rotateAfter, is a finding (keys_rotation_forecast)."),
}).superRefine((thresholds, ctx) => {
  if (thresholds.keyExpiryCriticalDays >= thresholds.keyExpiryWarningDays) {
    ctx.addIssue({
      code: "custom",
      path: ["keyExpiryCriticalDays"],
      message: `${thresholds.keyExpiryCriticalDays} must be less than keyExpiryWarningDays (${thresholds.keyExpiryWarningDays}): critical comes after warning`,
    });
  }
  if (thresholds.keyVersionHeadroom >= thresholds.maxKeyVersions) {
    ctx.addIssue({
      code: "custom",
      path: ["keyVersionHeadroom"],
      message: `${thresholds.keyVersionHeadroom} must be less than maxKeyVersions (${thresholds.maxKeyVersions})`,
    });
  }
  reportDuplicates(ctx, thresholds.allowedDiskEncryptionTypes, (type) => type, (index) => ["allowedDiskEncryptionTypes", index], "disk encryption type");
});

/** The policy document as written (input) and as KeyWarden uses it (output: PolicyDocument). */
export const policyDocumentSchema = strictObject({
  $schema: z.string().optional().describe("Path or URL of the JSON Schema, for editors. Ignored by KeyWarden."),
  version: z.literal(1, { error: (issue) => `${quote(issue.input)} is not a policy version KeyWarden understands; use 1` }),
  subscriptions: z
    .array(guid("subscription id"))
    .min(1, { error: "must list at least one subscription (or be left out to use the Managed HSMs' subscriptions)" })
    .optional()
    .describe("Subscriptions searched for consumers (SQL MIs, DES, disks, VMs, storage accounts). Default: the subscriptions of the Managed HSMs."),
  managedHsms: z.array(managedHsmSchema).min(1, { error: "must list at least one Managed HSM" }),
  thresholds: thresholdsSchema.prefault({}),
})
  .superRefine((document, ctx) => {
    reportDuplicates(ctx, document.subscriptions ?? [], (id) => id, (index) => ["subscriptions", index], "subscription");
    reportDuplicates(ctx, document.managedHsms, (hsm) => hsm.resourceId.toLowerCase(), (index) => ["managedHsms", index, "resourceId"], "Managed HSM");

    const { minRsaKeySize } = document.thresholds;
    for (const [hsmIndex, hsm] of document.managedHsms.entries()) {
      for (const [keyIndex, key] of hsm.keys.entries()) {
        const searched = document.subscriptions ?? document.managedHsms.map((h) => MANAGED_HSM_ID.exec(h.resourceId)?.[1] ?? "");
        for (const [index, id] of key.expectedConsumers.entries()) {
          const subscription = CONSUMER_ID.exec(id)?.[1];
          if (subscription !== undefined && !searched.some((s) => s.toLowerCase() === subscription.toLowerCase())) {
            ctx.addIssue({
              code: "custom",
              path: ["managedHsms", hsmIndex, "keys", keyIndex, "expectedConsumers", index],
              message: `${quote(id)} is in subscription ${subscription}, which is not searched for consumers; add it to subscriptions`,
            });
          }
        }
        if (key.keyType !== "RSA-HSM") continue;
        const path = ["managedHsms", hsmIndex, "keys", keyIndex, "minKeySize"];
        const size = key.minKeySize ?? minRsaKeySize;
        // A size that is not an RSA size at all is already reported at the key.
        if (!(RSA_KEY_SIZES as readonly number[]).includes(size)) continue;
        if (size < minRsaKeySize) {
          ctx.addIssue({ code: "custom", path, message: `${size} is below thresholds.minRsaKeySize (${minRsaKeySize})` });
        } else if (key.consumers.includes("sqlManagedInstance") && !SQL_TDE_RSA_KEY_SIZES.includes(size)) {
          const source = key.minKeySize === undefined ? ` (from thresholds.minRsaKeySize)` : "";
          ctx.addIssue({
            code: "custom",
            path,
            message: `${size}${source} is too large for a sqlManagedInstance consumer: SQL TDE protectors accept RSA ${SQL_TDE_RSA_KEY_SIZES.join(" or ")} only`,
          });
        }
      }
    }
  })
  .transform((document): PolicyDocument => {
    const managedHsms = document.managedHsms.map((hsm): ManagedHsmPolicy => {
      const { subscriptionId, resourceGroup, name } = parseManagedHsmId(hsm.resourceId);
      return {
        resourceId: hsm.resourceId,
        subscriptionId,
        resourceGroup,
        name,
        regions: { primary: hsm.regions.primary, extended: [...hsm.regions.extended] },
        keys: hsm.keys.map(
          (key): KeyPolicy => ({
            name: key.name,
            keyType: key.keyType,
            minKeySize: key.minKeySize ?? defaultKeySize(key.keyType, document.thresholds.minRsaKeySize),
            consumers: [...key.consumers],
            rotation: { ...key.rotation },
            expectedConsumers: [...key.expectedConsumers],
          }),
        ),
        keyManagementPrincipals: hsm.keyManagementPrincipals.map(principalRef),
        administratorPrincipals: hsm.administratorPrincipals.map(principalRef),
        otherExpectedPrincipals: hsm.otherExpectedPrincipals.map(principalRef),
        allowKeyManagementThroughArm: hsm.allowKeyManagementThroughArm,
      };
    });
    const subscriptions = document.subscriptions ?? [...new Set(managedHsms.map((hsm) => hsm.subscriptionId))];
    return { version: 1, subscriptions, managedHsms, thresholds: { ...document.thresholds } };
  });

export type PolicyDocumentInput = z.input<typeof policyDocumentSchema>;

/** The consumer kind of an ARM resource id, or undefined when it is no consumer KeyWarden knows. */
function consumerKindOf(resourceId: string): ConsumerKind | undefined {
  const type = CONSUMER_ID.exec(resourceId)?.[2]?.toLowerCase();
  if (type === undefined || !GUID.test(CONSUMER_ID.exec(resourceId)?.[1] ?? "")) return undefined;
  return (Object.entries(CONSUMER_RESOURCE_TYPES) as [ConsumerKind, string][]).find(([, t]) => t.toLowerCase() === type)?.[0];
}

function defaultKeySize(keyType: KeyPolicy["keyType"], minRsaKeySize: number): number {
  switch (keyType) {
    case "RSA-HSM":
      return minRsaKeySize;
    case "EC-HSM":
      return 256;
    case "oct-HSM":
      return 256;
  }
}

function principalRef(principal: { principalId: string; displayName?: string | undefined }): PrincipalRef {
  return principal.displayName === undefined ? { principalId: principal.principalId } : { principalId: principal.principalId, displayName: principal.displayName };
}

/** Why `resourceId` is not the ARM id of a Managed HSM, or undefined when it is. */
export function managedHsmIdProblem(resourceId: string): string | undefined {
  const match = MANAGED_HSM_ID.exec(resourceId);
  const expected = "expected /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.KeyVault/managedHSMs/<name>";
  if (match === null) return `${quote(resourceId)} is not a Managed HSM resource id (${expected})`;
  const [, subscriptionId = "", resourceGroup = "", name = ""] = match;
  if (!GUID.test(subscriptionId)) return `${quote(resourceId)} has subscription ${quote(subscriptionId)}, which is not a GUID`;
  if (!RESOURCE_GROUP.test(resourceGroup) || resourceGroup.endsWith(".")) {
    return `${quote(resourceId)} has resource group ${quote(resourceGroup)}, which is not a valid resource group name`;
  }
  if (!MANAGED_HSM_NAME.test(name)) {
    return `${quote(resourceId)} has name ${quote(name)}, which is not a valid Managed HSM name (3-24 letters, digits and single hyphens, starting with a letter)`;
  }
  return undefined;
}

/** Splits a Managed HSM ARM id; throws on anything else (validate with managedHsmIdProblem first). */
export function parseManagedHsmId(resourceId: string): { subscriptionId: string; resourceGroup: string; name: string } {
  const problem = managedHsmIdProblem(resourceId);
  const match = MANAGED_HSM_ID.exec(resourceId);
  if (problem !== undefined || match === null) throw new Error(problem ?? `not a Managed HSM resource id: ${resourceId}`);
  const [, subscriptionId = "", resourceGroup = "", name = ""] = match;
  return { subscriptionId: subscriptionId.toLowerCase(), resourceGroup, name };
}

function reportDuplicates<T>(
  ctx: z.RefinementCtx,
  items: readonly T[],
  identity: (item: T) => string,
  pathOf: (index: number) => (string | number)[],
  what: string,
  show: (item: T) => string = identity,
): void {
  const firstIndex = new Map<string, number>();
  for (const [index, item] of items.entries()) {
    const id = identity(item);
    const first = firstIndex.get(id);
    if (first === undefined) {
      firstIndex.set(id, index);
    } else {
      ctx.addIssue({ code: "custom", path: pathOf(index), message: `duplicate ${what} ${quote(show(item))} (already at index ${first})` });
    }
  }
}
