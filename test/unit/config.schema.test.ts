import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { POLICY_SCHEMA_PATH, renderPolicyJsonSchema } from "../../scripts/gen-policy-schema.js";
import { loadAppSettings, APP_SETTING_NAMES } from "../../src/lib/config/settings.js";

const readJson = (relative: string): unknown => JSON.parse(readFileSync(new URL(relative, import.meta.url), "utf8"));

describe("policy JSON Schema (schema/keywarden.policy.schema.json)", () => {
  it("is up to date with src/lib/config/policySchema.ts (run `npm run gen:schema`)", () => {
    expect(readFileSync(POLICY_SCHEMA_PATH, "utf8")).toBe(renderPolicyJsonSchema());
  });

  it("accepts the Contoso example and rejects a typo, as KeyWarden does", () => {
    const ajv = new Ajv2020.default({ strict: false, allErrors: true });
    const validate = ajv.compile(readJson("../../schema/keywarden.policy.schema.json") as object);
    const example = readJson("../../examples/contoso.policy.json") as { managedHsms: Record<string, unknown>[] };
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);

    const typo = structuredClone(example);
    (typo.managedHsms[0] as Record<string, unknown>).region = {};
    expect(validate(typo)).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ keyword: "additionalProperties", params: { additionalProperty: "region" } });
  });
});

describe("local.settings.sample.json", () => {
  const sample = readJson("../../local.settings.sample.json") as { IsEncrypted: boolean; Values: Record<string, string> };

  it("lists exactly the app settings settings.ts reads, plus the Functions host's own", () => {
    expect(sample.IsEncrypted).toBe(false);
    expect(sample.Values.FUNCTIONS_WORKER_RUNTIME).toBe("node");
    expect(sample.Values).toHaveProperty("AzureWebJobsStorage");
    const keywarden = Object.keys(sample.Values).filter((name) => name.startsWith("KEYWARDEN_"));
    expect(keywarden.sort()).toEqual([...APP_SETTING_NAMES].sort());
  });

  it("is a working configuration as shipped", () => {
    expect(() => loadAppSettings(sample.Values, () => "")).not.toThrow();
  });
});
