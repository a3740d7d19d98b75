import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SPEC_ROOT, SpecIndex, listSpecOperations, loadSpecs, type Exchange } from "../support/specValidator.js";

/**
 * Published examples that genuinely violate their own operation's schema. Key: "<example file> <status>".
 * Each entry must still fail (checked below), so the list cannot silently go stale.
 */
const EXAMPLE_ALLOW_LIST: Record<string, string> = {
  // properties.type is the placeholder "roletype"; RoleType's enum is ["AKVBuiltInRole","CustomRole"]
  // (x-ms-enum modelAsString: true, so SDKs tolerate it, but we keep enums strict to catch invented values).
  "specification/keyvault/data-plane/Microsoft.KeyVault/stable/7.5/examples/ListRoleDefinitions-example.json 200":
    "roleDefinition properties.type 'roletype' is not in the RoleType enum",
};

const spec = loadSpecs();
const KV = "myvault.managedhsm.azure.net";
const ARM = "management.azure.com";

function exampleBody(rel: string, status = "200"): Record<string, unknown> {
  const ex = JSON.parse(fs.readFileSync(path.join(DEFAULT_SPEC_ROOT, rel), "utf8")) as {
    responses: Record<string, { body: Record<string, unknown> }>;
  };
  return structuredClone((ex.responses[status] as { body: Record<string, unknown> }).body);
}

const GET_KEY_EXAMPLE = "specification/keyvault/data-plane/Microsoft.KeyVault/stable/7.5/examples/GetKey-example.json";

function getKey(body: unknown, status = 200, apiVersion = "7.5"): Exchange {
  return { method: "GET", host: KV, path: "/keys/cmk1/", query: { "api-version": apiVersion }, status, responseBody: body };
}

describe("loading", () => {
  it("loads the whole pack quickly", () => {
    const t0 = performance.now();
    const fresh = new SpecIndex(DEFAULT_SPEC_ROOT);
    const ms = performance.now() - t0;
    console.log(`spec pack load: ${ms.toFixed(0)} ms, ${fresh.operations.length} operations`);
    expect(fresh.problems).toEqual([]);
    expect(ms).toBeLessThan(3000);
    expect(loadSpecs()).toBe(spec); // cached per root
  });

  it("lists every operation of INDEX.md's table, resolved in the pack's files", () => {
    const ops = listSpecOperations();
    expect(spec.problems).toEqual([]);
    expect(ops).toHaveLength(48);
    const ids = new Set(ops.map((o) => `${o.operationId}@${o.apiVersion}`));
    for (const id of ["GetKey@7.5", "GetKey@2025-07-01", "RoleAssignments_ListForScope@2025-07-01", "DiagnosticSettings_List@2021-05-01-preview", "ManagedHsms_Get@2025-05-01", "Query_Execute@2022-10-27"]) {
      expect(ids).toContain(id);
    }
    expect(ops.find((o) => o.operationId === "GetKey")?.plane).toBe("keyvault");
    expect(ops.find((o) => o.operationId === "ManagedHsms_Get")?.plane).toBe("arm");
  });
});

describe("x-ms-examples of the INDEX.md operations", () => {
  const { cases, missing } = spec.examples();

  it("finds the examples (the ✗ ones of INDEX.md are absent)", () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    // 9 Key Vault 2025-07-01 examples + 9 storage examples were not copied into the pack
    expect(missing).toHaveLength(18);
  });

  it.each(cases.map((c) => [`${c.operation.operationId}@${c.operation.apiVersion} ${c.exampleFile.split("/").pop()} ${c.status}`, c] as const))(
    "%s",
    (_name, c) => {
      const r = spec.validateBody(c.operation, c.status, c.body);
      const reason = EXAMPLE_ALLOW_LIST[`${c.exampleFile} ${c.status}`];
      if (reason) {
        expect(r.ok, `allow-listed (${reason}) but now validates: drop it from the list`).toBe(false);
      } else {
        expect(r.errors).toEqual([]);
      }
    },
  );

  it("allow-list entries all refer to existing examples", () => {
    const keys = new Set(cases.map((c) => `${c.exampleFile} ${c.status}`));
    for (const k of Object.keys(EXAMPLE_ALLOW_LIST)) expect(keys).toContain(k);
  });
});

describe("validateResponse", () => {
  it("accepts a spec-conformant body and records the version used", () => {
    const r = spec.validateResponse(getKey(exampleBody(GET_KEY_EXAMPLE), 200, "7.6"));
    expect(r.errors).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.operation?.operationId).toBe("GetKey");
    expect(r.operation?.apiVersion).toBe("7.5");
    expect(r.versionFallback).toBe(true);
    expect(r.responseKey).toBe("200");
  });

  it("prefers the exact api-version (keyvault-keys sends 2025-07-01)", () => {
    const r = spec.validateResponse(getKey(exampleBody(GET_KEY_EXAMPLE), 200, "2025-07-01"));
    expect(r.operation?.apiVersion).toBe("2025-07-01");
    expect(r.operation?.specFile).toBe("specification/keyvault/data-plane/Microsoft.KeyVault/stable/2025-07-01/keys.json");
    expect(r.versionFallback).toBe(false);
    expect(r.errors).toEqual([]);
  });

  it("rejects invented properties, top-level and nested", () => {
    const body = exampleBody(GET_KEY_EXAMPLE);
    body.madeUp = true;
    (body.attributes as Record<string, unknown>).alsoMadeUp = 1;
    const r = spec.validateResponse(getKey(body));
    expect(r.ok).toBe(false);
    expect(r.errors).toContain('GetKey 200 /: has property "madeUp" that the spec does not declare');
    expect(r.errors).toContain('GetKey 200 /attributes: has property "alsoMadeUp" that the spec does not declare');
  });

  it("keeps dictionaries open (tags)", () => {
    const body = exampleBody(GET_KEY_EXAMPLE);
    body.tags = { anything: "goes", more: "here" };
    expect(spec.validateResponse(getKey(body)).errors).toEqual([]);
  });

  it("reports a wrong type readably", () => {
    const body = exampleBody(GET_KEY_EXAMPLE);
    (body.key as Record<string, unknown>).kid = 42;
    const r = spec.validateResponse(getKey(body));
    expect(r.errors).toEqual(["GetKey 200 /key/kid: must be string"]);
  });

  it("validates an error response via `default`", () => {
    const r = spec.validateResponse(getKey({ error: { code: "KeyNotFound", message: "A key with (name/id) cmk1 was not found in this key vault." } }, 404));
    expect(r.errors).toEqual([]);
    expect(r.responseKey).toBe("default");
    const bad = spec.validateResponse(getKey({ code: "KeyNotFound" }, 404));
    expect(bad.ok).toBe(false);
    expect(bad.errors).toContain('GetKey 404 /: has property "code" that the spec does not declare');
  });

  it("reports an undeclared success status instead of checking it against the error schema", () => {
    const r = spec.validateResponse(getKey(exampleBody(GET_KEY_EXAMPLE), 201));
    expect(r.ok).toBe(false);
    expect(r.errors).toEqual(["GetKey 201: status 201 is not declared (declared: 200, default)"]);
  });

  it("reports requests that no operation matches", () => {
    const r = spec.validateResponse({ method: "GET", host: KV, path: "/nope/x", query: {}, status: 200, responseBody: {} });
    expect(r.ok).toBe(false);
    expect(r.errors[0]).toMatch(/no spec operation matches GET \/nope\/x/);
  });

  it("validates ARM responses (Managed HSM) with the pack's version as fallback", () => {
    const body = exampleBody("specification/keyvault/resource-manager/Microsoft.KeyVault/stable/2025-05-01/examples/ManagedHsm_Get.json");
    const r = spec.validateResponse({
      method: "GET",
      host: ARM,
      path: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/h",
      query: { "api-version": "2023-07-01" },
      status: 200,
      responseBody: body,
    });
    expect(r.operation?.operationId).toBe("ManagedHsms_Get");
    expect(r.operation?.apiVersion).toBe("2025-05-01");
    expect(r.versionFallback).toBe(true);
    expect(r.errors).toEqual([]);
  });

  it("caches compiled validators (second validation is cheap)", () => {
    const body = exampleBody("specification/network/resource-manager/Microsoft.Network/stable/2024-01-01/examples/PrivateEndpointGet.json");
    const x: Exchange = {
      method: "GET",
      host: ARM,
      path: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe",
      query: { "api-version": "2024-01-01" },
      status: 200,
      responseBody: body,
    };
    spec.validateResponse(x);
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) expect(spec.validateResponse(x).ok).toBe(true);
    const perCall = (performance.now() - t0) / 100;
    console.log(`cached validateResponse (PrivateEndpoints_Get): ${perCall.toFixed(2)} ms/call`);
    expect(perCall).toBeLessThan(20);
  });
});

describe("findOperation path matching", () => {
  const find = (method: string, p: string, v?: string) => spec.findOperation(method, p, v);

  it("trailing slash = latest version (key-version empty)", () => {
    expect(find("GET", "/keys/cmk1/", "7.5")?.operationId).toBe("GetKey");
    expect(spec.matchRequest("GET", "/keys/cmk1/", "7.5")?.params).toEqual({ "key-name": "cmk1", "key-version": "" });
  });

  it("literal segments beat parameters", () => {
    expect(find("GET", "/keys/cmk1/versions", "7.5")?.operationId).toBe("GetKeyVersions");
    expect(find("GET", "/keys/cmk1/rotationpolicy", "7.5")?.operationId).toBe("GetKeyRotationPolicy");
    expect(find("PUT", "/keys/cmk1/rotationpolicy", "7.5")?.operationId).toBe("UpdateKeyRotationPolicy");
    expect(find("POST", "/keys/cmk1/rotate", "7.5")?.operationId).toBe("RotateKey");
    expect(find("POST", "/keys/cmk1/create", "7.5")?.operationId).toBe("CreateKey");
    expect(find("PATCH", "/keys/cmk1/abc123", "7.5")?.operationId).toBe("UpdateKey");
    expect(find("GET", "/keys", "7.5")?.operationId).toBe("GetKeys");
  });

  it("literal segments are case-insensitive", () => {
    expect(find("get", "/KEYS/cmk1/Versions", "7.5")?.operationId).toBe("GetKeyVersions");
  });

  it("multi-segment {scope}", () => {
    expect(find("GET", "/keys/providers/Microsoft.Authorization/roleAssignments", "7.5")?.operationId).toBe("RoleAssignments_ListForScope");
    expect(spec.matchRequest("GET", "/keys/providers/Microsoft.Authorization/roleAssignments", "7.5")?.params.scope).toBe("/keys");
    expect(spec.matchRequest("GET", "/providers/Microsoft.Authorization/roleAssignments", "7.5")?.params.scope).toBe("/");
    expect(find("GET", "/providers/Microsoft.Authorization/roleAssignments", "7.5")?.operationId).toBe("RoleAssignments_ListForScope");
    const m = spec.matchRequest("GET", "/keys/cmk1/providers/Microsoft.Authorization/roleAssignments/x", "7.5");
    expect(m?.operation.operationId).toBe("RoleAssignments_Get");
    expect(m?.params).toEqual({ scope: "/keys/cmk1", roleAssignmentName: "x" });
    expect(find("GET", "/providers/Microsoft.Authorization/roleDefinitions", "2025-07-01")?.operationId).toBe("RoleDefinitions_List");
  });

  it("multi-segment {resourceUri}", () => {
    const m = spec.matchRequest(
      "GET",
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/h/providers/Microsoft.Insights/diagnosticSettings",
      "2021-05-01-preview",
    );
    expect(m?.operation.operationId).toBe("DiagnosticSettings_List");
    expect(m?.params.resourceUri).toBe("/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/h");
  });

  it("ARM paths and x-ms-paths query overloads", () => {
    expect(find("GET", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/h/privateEndpointConnections", "2025-05-01")?.operationId).toBe(
      "MHSMPrivateEndpointConnections_ListByResource",
    );
    expect(find("GET", "/subscriptions/s/providers/Microsoft.Compute/disks", "2025-01-02")?.operationId).toBe("Disks_List");
    expect(find("POST", "/api/events", "2018-01-01")?.operationId).toBe("PublishEvents");
    expect(find("POST", "/api/events?overload=cloudEvent", "2018-01-01")?.operationId).toBe("PublishCloudEventEvents");
  });

  it("api-version choice: exact, else nearest older, else oldest newer", () => {
    expect(find("GET", "/keys", "7.5")?.apiVersion).toBe("7.5");
    expect(find("GET", "/keys", "2025-07-01")?.apiVersion).toBe("2025-07-01");
    expect(find("GET", "/keys", "7.6")?.apiVersion).toBe("7.5");
    expect(find("GET", "/keys", "2026-01-01-preview")?.apiVersion).toBe("2025-07-01");
    expect(find("GET", "/keys", "7.0")?.apiVersion).toBe("7.5");
    expect(find("GET", "/keys")?.apiVersion).toBe("2025-07-01");
  });
});

describe("dialect conversion on a synthetic pack (the real pack has no discriminators)", () => {
  let dir: string;
  let idx: SpecIndex;
  const ex = (body: unknown): Exchange => ({ method: "GET", host: "h", path: "/pets/p1", query: { "api-version": "1.0" }, status: 200, responseBody: body });

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "specvalidator-"));
    const common = {
      swagger: "2.0",
      info: { title: "common", version: "1.0" },
      paths: {},
      definitions: {
        Pet: {
          type: "object",
          discriminator: "kind",
          required: ["kind"],
          properties: { kind: { type: "string" }, name: { type: "string" }, nick: { type: "string", "x-nullable": false } },
        },
      },
    };
    const api = {
      swagger: "2.0",
      info: { title: "pets", version: "1.0" },
      paths: {
        "/pets/{id}": {
          get: {
            operationId: "Pets_Get",
            parameters: [{ name: "id", in: "path", required: true, type: "string" }],
            responses: { "200": { schema: { $ref: "#/definitions/Owner" } }, default: { schema: { type: "object", properties: { error: { type: "string" } } } } },
          },
        },
      },
      definitions: {
        Owner: {
          type: "object",
          properties: {
            pet: { $ref: "./common.json#/definitions/Pet" },
            size: { type: "integer", format: "int32" },
            seen: { type: "string", format: "date-time", "x-nullable": true },
            extra: { type: "object" },
          },
          required: ["pet", "seen"],
        },
        Dog: {
          "x-ms-discriminator-value": "dog",
          allOf: [{ $ref: "./common.json#/definitions/Pet" }],
          properties: { barks: { type: "boolean" } },
        },
        Puppy: { allOf: [{ $ref: "#/definitions/Dog" }], properties: { ageWeeks: { type: "integer" } } },
        Cat: { allOf: [{ $ref: "./common.json#/definitions/Pet" }], properties: { lives: { type: "integer", exclusiveMinimum: true, minimum: 0 } } },
      },
    };
    fs.mkdirSync(path.join(dir, "a"));
    fs.writeFileSync(path.join(dir, "a", "common.json"), JSON.stringify(common));
    fs.writeFileSync(path.join(dir, "a", "pets.json"), JSON.stringify(api));
    fs.writeFileSync(path.join(dir, "INDEX.md"), "| 1 | Pets_Get | `GET /pets/{id}` | 1.0 | `a/pets.json` | - |\n");
    idx = new SpecIndex(dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("dispatches on the discriminator across files and multi-level inheritance", () => {
    expect(idx.problems).toEqual([]);
    expect(listSpecOperations(dir).map((o) => o.operationId)).toEqual(["Pets_Get"]);
    expect(idx.validateResponse(ex({ pet: { kind: "dog", name: "rex", barks: true }, seen: null })).errors).toEqual([]);
    expect(idx.validateResponse(ex({ pet: { kind: "Puppy", barks: true, ageWeeks: 3 }, seen: "2024-01-01T00:00:00Z" })).errors).toEqual([]);
    expect(idx.validateResponse(ex({ pet: { kind: "Cat", lives: 9 }, seen: null })).errors).toEqual([]);
    // a dog has no lives; an unknown kind gets only the base properties
    expect(idx.validateResponse(ex({ pet: { kind: "dog", lives: 9 }, seen: null })).errors).toEqual([
      'Pets_Get 200 /pet: has property "lives" that the spec does not declare',
    ]);
    expect(idx.validateResponse(ex({ pet: { kind: "fish", barks: true }, seen: null })).ok).toBe(false);
    expect(idx.validateResponse(ex({ pet: { kind: "fish", name: "nemo" }, seen: null })).ok).toBe(true);
  });

  it("nullability: x-nullable true allows null; optional properties accept null unless x-nullable: false", () => {
    expect(idx.validateResponse(ex({ pet: { kind: "dog", name: null }, seen: null, size: null })).errors).toEqual([]);
    expect(idx.validateResponse(ex({ pet: { kind: "dog", nick: null }, seen: null })).errors).toEqual(["Pets_Get 200 /pet/nick: must be string"]);
    expect(idx.validateResponse(ex({ pet: null, seen: null })).ok).toBe(false); // required, not x-nullable
  });

  it("formats, exclusiveMinimum and free-form objects", () => {
    expect(idx.validateResponse(ex({ pet: { kind: "dog" }, seen: "yesterday" })).errors).toEqual(['Pets_Get 200 /seen: must match format "date-time"']);
    expect(idx.validateResponse(ex({ pet: { kind: "dog" }, seen: null, size: 2 ** 40 })).errors).toEqual(['Pets_Get 200 /size: must match format "int32"']);
    expect(idx.validateResponse(ex({ pet: { kind: "Cat", lives: 0 }, seen: null })).errors).toEqual(["Pets_Get 200 /pet/lives: must be > 0"]);
    expect(idx.validateResponse(ex({ pet: { kind: "dog" }, seen: null, extra: { any: [1, "x"] } })).errors).toEqual([]);
  });
});
