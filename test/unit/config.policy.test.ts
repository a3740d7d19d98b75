import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/lib/config/errors.js";
import { parsePolicyDocument, parsePolicyJson } from "../../src/lib/config/load.js";
import { parseManagedHsmId } from "../../src/lib/config/policySchema.js";
import { policyWarnings } from "../../src/lib/config/policyWarnings.js";

const EXAMPLE_PATH = new URL("../../examples/contoso.policy.json", import.meta.url);
const HSM_ID =
  "/subscriptions/5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10/resourceGroups/rg-contoso-hsm/providers/Microsoft.KeyVault/managedHSMs/Contoso-PROD-HSM";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests mutate the raw JSON freely
type Json = any;

function example(): Json {
  return JSON.parse(readFileSync(EXAMPLE_PATH, "utf8")) as Json;
}

/** Parses a mutated copy of the example and returns its issues as `path: message` lines. */
function problems(mutate: (doc: Json) => void): string[] {
  const doc = example();
  mutate(doc);
  try {
    parsePolicyDocument(doc, "test.json");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  throw new Error("expected the document to be rejected");
}

describe("policy document", () => {
  it("parses the Contoso example into the agreed types", () => {
    const policy = parsePolicyDocument(example(), "contoso.policy.json");
    expect(policy.version).toBe(1);
    expect(policy.subscriptions).toEqual(["5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10"]);
    const [hsm] = policy.managedHsms;
    expect(hsm).toMatchObject({
      resourceId: HSM_ID,
      subscriptionId: "5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10",
      resourceGroup: "rg-contoso-hsm",
      name: "Contoso-PROD-HSM",
      regions: { primary: "southindia", extended: ["centralindia"] },
      otherExpectedPrincipals: [{ principalId: "a1000000-0000-4000-8000-000000000003", displayName: "KeyWarden" }],
    });
    expect(hsm?.keys.map((key) => [key.name, key.consumers])).toEqual([
      ["Contoso-SQLMI-CMK", ["sqlManagedInstance"]],
      ["Contoso-DISK-CMK", ["diskEncryptionSet"]],
      ["Contoso-STORAGE-CMK", ["storageAccount"]],
    ]);
    expect(hsm?.keys[0]).toMatchObject({
      keyType: "RSA-HSM",
      minKeySize: 3072,
      rotation: {
        rotateAfter: { iso: "P180D", days: 180 },
        expireAfter: { iso: "P1Y", days: 365 },
        notifyBefore: { iso: "P30D", days: 30 },
      },
    });
    expect(hsm?.keyManagementPrincipals).toEqual([
      // KeyWarden is not a key-management principal: it holds Crypto User per key only (src/lib/permissions.ts).
      { principalId: "a1000000-0000-4000-8000-000000000002", displayName: "Key management team" },
    ]);
    expect(hsm?.administratorPrincipals).toEqual([{ principalId: "a1000000-0000-4000-8000-000000000001", displayName: "Security officers" }]);
    expect(policy.thresholds).toEqual({
      softDeleteRetentionMinDays: 90,
      keyExpiryWarningDays: 30,
      keyExpiryCriticalDays: 7,
      minRsaKeySize: 2048,
      maxKeyVersions: 100,
      keyVersionHeadroom: 10,
      storageCatchUpHours: 24,
      allowedDiskEncryptionTypes: ["EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys"],
      auditEventMaxAgeHours: 24,
      signalsWindowHours: 24,
      availabilityMinPercent: 99.9,
      serviceApiLatencyMaxMs: 500,
      versionCapForecastDays: 365,
    });
    expect(policyWarnings(policy)).toEqual([]);
  });

  it("fills in defaults for a minimal document", () => {
    const policy = parsePolicyDocument(
      {
        version: 1,
        managedHsms: [
          {
            resourceId: HSM_ID.replace("5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10", "5F1C2B7E-9A41-4C0E-8D7B-2F6A1E3C9B10").replace("resourceGroups", "resourcegroups"),
            regions: { primary: "southindia" },
            keys: [{ name: "k1", rotation: { rotateAfter: "P90D", expireAfter: "P6M" } }],
          },
        ],
        thresholds: { minRsaKeySize: 3072 },
      },
      "minimal",
    );
    expect(policy.subscriptions).toEqual(["5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10"]);
    const hsm = policy.managedHsms[0];
    expect(hsm?.regions.extended).toEqual([]);
    expect(hsm?.keys[0]).toEqual({
      name: "k1",
      keyType: "RSA-HSM",
      minKeySize: 3072,
      consumers: [],
      rotation: { rotateAfter: { iso: "P90D", days: 90 }, expireAfter: { iso: "P6M", days: 180 }, notifyBefore: { iso: "P30D", days: 30 } },
      expectedConsumers: [],
    });
    expect(hsm?.keyManagementPrincipals).toEqual([]);
    expect(policy.thresholds.minRsaKeySize).toBe(3072);
    expect(policy.thresholds.softDeleteRetentionMinDays).toBe(90);
  });

  it("rejects a rotation more frequent than Managed HSM allows, naming the field", () => {
    expect(problems((doc) => (doc.managedHsms[0].keys[1].rotation.rotateAfter = "P7D"))).toEqual([
      'managedHsms[0].keys[1].rotation.rotateAfter: "P7D" is shorter than the 28-day minimum Managed HSM allows between rotations (P28D)',
    ]);
  });

  it("accepts exactly 28 days", () => {
    const doc = example();
    doc.managedHsms[0].keys[0].rotation = { rotateAfter: "P4W", expireAfter: "P90D", notifyBefore: "P7D" };
    expect(parsePolicyDocument(doc, "x").managedHsms[0]?.keys[0]?.rotation.rotateAfter.days).toBe(28);
  });

  it("rejects an expiry under 28 days or not after the rotation", () => {
    expect(problems((doc) => (doc.managedHsms[0].keys[0].rotation = { rotateAfter: "P30D", expireAfter: "P14D", notifyBefore: "P7D" }))).toEqual([
      'managedHsms[0].keys[0].rotation.expireAfter: "P14D" is shorter than the 28-day minimum expiry Managed HSM allows for a version (P28D)',
    ]);
    expect(problems((doc) => (doc.managedHsms[0].keys[0].rotation.expireAfter = "P180D"))).toEqual([
      'managedHsms[0].keys[0].rotation.expireAfter: "P180D" (180 days) must be longer than rotateAfter "P180D" (180 days): each version would expire before it is rotated',
    ]);
  });

  it("rejects a notifyBefore that is zero or reaches past the expiry", () => {
    expect(problems((doc) => (doc.managedHsms[0].keys[2].rotation.notifyBefore = "P1Y"))).toEqual([
      'managedHsms[0].keys[2].rotation.notifyBefore: "P1Y" (365 days) must be shorter than expireAfter "P1Y" (365 days): the alert would be due before the version exists',
    ]);
    expect(problems((doc) => (doc.managedHsms[0].keys[2].rotation.notifyBefore = "P0D"))).toEqual([
      'managedHsms[0].keys[2].rotation.notifyBefore: "P0D" must be longer than zero',
    ]);
  });

  it("warns, without rejecting, when the alert window starts before the rotation", () => {
    const doc = example();
    doc.managedHsms[0].keys[0].rotation.notifyBefore = "P200D";
    const warnings = policyWarnings(parsePolicyDocument(doc, "x"));
    expect(warnings.map((warning) => warning.path)).toEqual(["managedHsms[0].keys[0].rotation.notifyBefore"]);
    expect(warnings[0]?.message).toContain("every version raises a near-expiry alert while it is still the current version");
  });

  it("rejects malformed durations", () => {
    expect(problems((doc) => (doc.managedHsms[0].keys[0].rotation.rotateAfter = "180 days"))).toEqual([
      'managedHsms[0].keys[0].rotation.rotateAfter: "180 days" is not an ISO-8601 duration (expected PnYnMnWnDTnHnMnS, e.g. "P90D", "P6M" or "P1Y")',
    ]);
  });

  it("rejects duplicate key names (case-insensitively, as Key Vault compares them) and duplicate HSMs", () => {
    expect(problems((doc) => (doc.managedHsms[0].keys[2].name = "contoso-sqlmi-cmk"))).toEqual([
      'managedHsms[0].keys[2].name: duplicate key name "contoso-sqlmi-cmk" (already at index 0)',
    ]);
    expect(
      problems((doc) => {
        const copy = structuredClone(doc.managedHsms[0]);
        copy.resourceId = copy.resourceId.toLowerCase();
        doc.managedHsms.push(copy);
      }),
    ).toEqual([`managedHsms[1].resourceId: duplicate Managed HSM ${JSON.stringify(HSM_ID.toLowerCase())} (already at index 0)`]);
  });

  it("rejects a resource id that is not a Managed HSM", () => {
    const vault = HSM_ID.replace("managedHSMs", "vaults");
    expect(problems((doc) => (doc.managedHsms[0].resourceId = vault))).toEqual([
      `managedHsms[0].resourceId: ${JSON.stringify(vault)} is not a Managed HSM resource id (expected /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.KeyVault/managedHSMs/<name>)`,
    ]);
    const badSubscription = HSM_ID.replace("5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10", "prod");
    expect(problems((doc) => (doc.managedHsms[0].resourceId = badSubscription))[0]).toContain('has subscription "prod", which is not a GUID');
    const badName = HSM_ID.replace("Contoso-PROD-HSM", "1hsm");
    expect(problems((doc) => (doc.managedHsms[0].resourceId = badName))[0]).toContain('has name "1hsm", which is not a valid Managed HSM name');
    expect(problems((doc) => (doc.managedHsms[0].resourceId = `${HSM_ID}/keys/x`))[0]).toContain("is not a Managed HSM resource id");
  });

  it("parses the parts of a Managed HSM id", () => {
    expect(parseManagedHsmId(HSM_ID)).toEqual({ subscriptionId: "5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10", resourceGroup: "rg-contoso-hsm", name: "Contoso-PROD-HSM" });
  });

  it("checks region names and extended regions", () => {
    expect(problems((doc) => (doc.managedHsms[0].regions = { primary: "South India", extended: ["southindia"] }))).toEqual([
      'managedHsms[0].regions.primary: "South India" is not an Azure region name; write it in lower case without spaces, e.g. "southindia"',
    ]);
    expect(problems((doc) => (doc.managedHsms[0].regions.extended = ["centralindia", "southindia", "centralindia"]))).toEqual([
      'managedHsms[0].regions.extended[1]: "southindia" is already the primary region; an extended region must be another region',
      'managedHsms[0].regions.extended[2]: duplicate region "centralindia" (already at index 0)',
    ]);
  });

  it("checks key names, key types and sizes", () => {
    expect(problems((doc) => (doc.managedHsms[0].keys[0].name = "Contoso_SQLMI_CMK"))).toEqual([
      'managedHsms[0].keys[0].name: "Contoso_SQLMI_CMK" is not a valid Managed HSM key name (1-127 characters: letters, digits and hyphens)',
    ]);
    expect(problems((doc) => (doc.managedHsms[0].keys[0].name = "k".repeat(128)))[0]).toContain("is not a valid Managed HSM key name");
    expect(problems((doc) => (doc.managedHsms[0].keys[1].minKeySize = 1024))).toEqual([
      "managedHsms[0].keys[1].minKeySize: 1024 is not an allowed RSA-HSM key size; use one of 2048, 3072, 4096",
    ]);
    expect(problems((doc) => (doc.managedHsms[0].keys[1].keyType = "RSA"))).toEqual([
      'managedHsms[0].keys[1].keyType: "RSA" is not a Managed HSM key type; use one of "RSA-HSM", "EC-HSM", "oct-HSM"',
    ]);
    expect(
      problems((doc) => {
        doc.managedHsms[0].keys[1].keyType = "EC-HSM";
        doc.managedHsms[0].keys[1].minKeySize = 256;
      }),
    ).toEqual([
      'managedHsms[0].keys[1].keyType: "EC-HSM" cannot protect diskEncryptionSet: customer-managed keys for SQL, disks and storage must be RSA keys (RSA-HSM)',
    ]);
  });

  it("rejects key sizes that contradict the thresholds or that SQL cannot use", () => {
    expect(
      problems((doc) => {
        doc.thresholds = { minRsaKeySize: 4096 };
      }),
    ).toEqual([
      "managedHsms[0].keys[0].minKeySize: 3072 is below thresholds.minRsaKeySize (4096)",
      "managedHsms[0].keys[1].minKeySize: 3072 is below thresholds.minRsaKeySize (4096)",
      "managedHsms[0].keys[2].minKeySize: 3072 is below thresholds.minRsaKeySize (4096)",
    ]);
    expect(problems((doc) => (doc.managedHsms[0].keys[0].minKeySize = 4096))).toEqual([
      "managedHsms[0].keys[0].minKeySize: 4096 is too large for a sqlManagedInstance consumer: SQL TDE protectors accept RSA 2048 or 3072 only",
    ]);
  });

  it("rejects unknown properties and suggests the intended one", () => {
    expect(
      problems((doc) => {
        doc.managedHsms[0].keys[0].rotaton = doc.managedHsms[0].keys[0].rotation;
      }),
    ).toEqual([
      'managedHsms[0].keys[0]: unknown property "rotaton" (did you mean "rotation"?); allowed: name, keyType, minKeySize, consumers, rotation, expectedConsumers',
    ]);
    expect(problems((doc) => (doc.thresholds = { keyExpiryWarnDays: 10 }))[0]).toContain('thresholds: unknown property "keyExpiryWarnDays" (did you mean "keyExpiryWarningDays"?)');
    expect(problems((doc) => (doc.subscription = []))[0]).toContain('unknown property "subscription" (did you mean "subscriptions"?)');
  });

  it("reports a missing field as required", () => {
    expect(
      problems((doc) => {
        delete doc.version;
        delete doc.managedHsms[0].keys[0].rotation.rotateAfter;
      }),
    ).toEqual(["version: is required", "managedHsms[0].keys[0].rotation.rotateAfter: is required"]);
  });

  it("checks GUIDs, duplicates and consumers", () => {
    expect(
      problems((doc) => {
        doc.subscriptions = ["not-a-guid"];
        doc.managedHsms[0].keys[0].consumers = ["sqlManagedInstance", "cosmosDb"];
        doc.managedHsms[0].keyManagementPrincipals[0].principalId = "team";
      }),
    ).toEqual([
      'subscriptions[0]: "not-a-guid" is not a subscription id (a GUID)',
      'managedHsms[0].keys[0].consumers[1]: "cosmosDb" is not a consumer kind; use one of "sqlManagedInstance", "diskEncryptionSet", "storageAccount"',
      'managedHsms[0].keyManagementPrincipals[0].principalId: "team" is not a principal object id (a GUID)',
    ]);
    expect(
      problems((doc) => {
        doc.managedHsms[0].administratorPrincipals.push({ principalId: "A1000000-0000-4000-8000-000000000001" });
        doc.managedHsms[0].keys[0].consumers = ["sqlManagedInstance", "sqlManagedInstance"];
      }),
    ).toEqual([
      'managedHsms[0].keys[0].consumers[1]: duplicate consumer kind "sqlManagedInstance" (already at index 0)',
      'managedHsms[0].administratorPrincipals[1].principalId: duplicate principal "a1000000-0000-4000-8000-000000000001" (already at index 0)',
    ]);
  });

  it("checks thresholds", () => {
    expect(
      problems((doc) => {
        doc.thresholds = { softDeleteRetentionMinDays: 120, maxKeyVersions: 101, allowedDiskEncryptionTypes: [] };
      }),
    ).toEqual([
      "thresholds.softDeleteRetentionMinDays: 120 is not a whole number from 7 to 90",
      "thresholds.maxKeyVersions: 101 is not a whole number from 1 to 100",
      "thresholds.allowedDiskEncryptionTypes: must list at least one disk encryption type",
    ]);
    expect(problems((doc) => (doc.thresholds = { keyExpiryWarningDays: 7, keyExpiryCriticalDays: 7 }))).toEqual([
      "thresholds.keyExpiryCriticalDays: 7 must be less than keyExpiryWarningDays (7): critical comes after warning",
    ]);
  });

  it("reports problems in different parts of the document together", () => {
    const found = problems((doc) => {
      doc.version = 2;
      doc.managedHsms[0].keys[1].rotation.rotateAfter = "P7D";
      doc.managedHsms[0].regions.primary = "South India";
      doc.thresholds = { storageCatchUpHours: 0 };
    });
    expect(found.map((line) => line.split(":")[0])).toEqual([
      "version",
      "managedHsms[0].regions.primary",
      "managedHsms[0].keys[1].rotation.rotateAfter",
      "thresholds.storageCatchUpHours",
    ]);
  });

  it("names the source and position of a JSON syntax error", () => {
    let error: unknown;
    try {
      parsePolicyJson('{\n  "version": 1,\n  "managedHsms": [}\n', "policies/prod.json");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/^Invalid policy document in policies\/prod\.json \(1 problem\):\n {2}- not valid JSON at line 3, column 19: /);
  });

  it("accepts a byte-order mark", () => {
    const text = `\uFEFF${readFileSync(EXAMPLE_PATH, "utf8")}`;
    expect(parsePolicyJson(text, "bom.json").managedHsms).toHaveLength(1);
  });
});

describe("expected consumers", () => {
  const base = JSON.parse(readFileSync(new URL("../../examples/contoso.policy.json", import.meta.url), "utf8")) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const messages = (change: (doc: Record<string, any>) => void) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const doc = structuredClone(base);
    change(doc);
    try {
      parsePolicyDocument(doc, "policy.json");
      return [];
    } catch (e) {
      return (e as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
    }
  };
  const storage = "/subscriptions/5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/other";

  it("accepts the Contoso example's consumers", () => {
    expect(messages(() => {})).toEqual([]);
  });

  it("rejects an id that is no consumer, one of another kind than the key's consumers, and duplicates", () => {
    expect(
      messages((doc) => {
        doc.managedHsms[0].keys[0].expectedConsumers = ["/subscriptions/5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10/resourceGroups/rg/providers/Microsoft.Web/sites/app", storage, storage.toUpperCase().replace("/SUBSCRIPTIONS", "/subscriptions")];
      }),
    ).toEqual([
      expect.stringMatching(/^managedHsms\[0\]\.keys\[0\]\.expectedConsumers\[0\]: ".*Microsoft.Web\/sites\/app" is not the ARM id of a SQL managed instance, disk encryption set or storage account/),
      expect.stringMatching(/^managedHsms\[0\]\.keys\[0\]\.expectedConsumers\[1\]: ".*other" is a storageAccount, but consumers does not list "storageAccount"$/),
      expect.stringMatching(/^managedHsms\[0\]\.keys\[0\]\.expectedConsumers\[2\]: ".*OTHER" is a storageAccount, but consumers does not list "storageAccount"$/),
      expect.stringMatching(/^managedHsms\[0\]\.keys\[0\]\.expectedConsumers\[2\]: duplicate expected consumer ".*OTHER" \(already at index 1\)$/),
    ]);
  });

  it("rejects a consumer in a subscription that is not searched", () => {
    expect(
      messages((doc) => {
        doc.managedHsms[0].keys[2].expectedConsumers = [storage.replace("5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10", "00000000-0000-4000-8000-000000000000")];
      }),
    ).toEqual([
      'managedHsms[0].keys[2].expectedConsumers[0]: "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/other" is in subscription 00000000-0000-4000-8000-000000000000, which is not searched for consumers; add it to subscriptions',
    ]);
  });
});
