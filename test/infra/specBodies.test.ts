import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildExtraction, SpecExtractionError } from "../support/specExtraction.js";
import { bodyOperation } from "./templateChecks.js";
import { DEPLOYMENT_TYPES } from "./deploymentTypes.js";

/** The request bodies the spec extraction keeps for the template tests (buildExtraction's `withBody`). */
describe("request bodies in the spec extraction", () => {
  let dir: string;
  const write = (rel: string, json: unknown): void => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), JSON.stringify(json));
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "specbodies-"));
    write("spec/things.json", {
      swagger: "2.0",
      info: { version: "2.0" },
      host: "management.azure.com",
      parameters: { ThingParameters: { name: "parameters", in: "body", required: true, description: "prose", schema: { $ref: "#/definitions/ThingCreate" } } },
      paths: {
        "/things/{id}": {
          put: {
            operationId: "Things_Create",
            parameters: [{ name: "id", in: "path", required: true, type: "string" }, { $ref: "#/parameters/ThingParameters" }],
            responses: { "200": { schema: { $ref: "#/definitions/Thing" } } },
          },
          patch: {
            operationId: "Things_Update",
            parameters: [{ name: "body", in: "body", schema: { $ref: "#/definitions/ThingUpdate" } }],
            responses: { "200": { schema: { $ref: "#/definitions/Thing" } } },
          },
          post: {
            operationId: "Things_Elsewhere",
            parameters: [{ $ref: "./other.json#/parameters/Far" }],
            responses: { "200": {} },
          },
        },
      },
      definitions: {
        Thing: { type: "object", properties: { id: { type: "string", readOnly: true } } },
        ThingCreate: { type: "object", properties: { size: { type: "integer", description: "prose" } } },
        ThingUpdate: { type: "object", properties: { colour: { type: "string" } } },
      },
    });
    write("spec/other.json", { swagger: "2.0", info: { version: "1.0" }, parameters: { Far: { name: "far", in: "body", schema: { type: "object" } } }, definitions: {} });
    write("INDEX.md", "no commit named\n");
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("keeps the body parameter (name, required, schema; no prose) of the operations withBody picks, and only theirs", () => {
    const x = buildExtraction(dir, "azure-specs", (op) => op.operationId !== "Things_Elsewhere", [], (op) => op.operationId === "Things_Create");
    const item = x.specs["spec/things.json"]?.paths as Record<string, Record<string, { parameters: unknown[] }>>;
    expect(item["/things/{id}"]?.put?.parameters).toEqual([
      { in: "path", name: "id", required: true, type: "string" },
      { in: "body", name: "parameters", required: true, schema: { $ref: "#/definitions/ThingCreate" } },
    ]);
    expect(item["/things/{id}"]?.patch?.parameters).toEqual([]);
    const defs = x.specs["spec/things.json"]?.definitions as Record<string, unknown>;
    expect(Object.keys(defs).sort()).toEqual(["Thing", "ThingCreate"]);
    expect(defs.ThingCreate).toEqual({ type: "object", properties: { size: { type: "integer" } } });
  });

  it("refuses a body parameter defined in another file, naming the operation", () => {
    expect(() => buildExtraction(dir, "azure-specs", (op) => op.operationId === "Things_Elsewhere", [], () => true)).toThrow(SpecExtractionError);
    expect(() => buildExtraction(dir, "azure-specs", (op) => op.operationId === "Things_Elsewhere", [], () => true)).toThrow(/Things_Elsewhere .*body parameter is defined in spec\/other\.json/);
  });

  it("the committed extractions hold the PUT body of every deployment type", () => {
    const found = DEPLOYMENT_TYPES.map((d) => [d.type, bodyOperation(d.type)?.bodyDefinition ?? "(missing)"]);
    expect(found.filter(([, def]) => def === "(missing)")).toEqual([]);
    expect(Object.fromEntries(found)).toMatchObject({
      "Microsoft.Web/sites": "Site",
      "Microsoft.Authorization/roleAssignments": "RoleAssignmentCreateParameters",
      "Microsoft.Storage/storageAccounts": "StorageAccountCreateParameters",
      "Microsoft.EventGrid/topics/eventSubscriptions": "EventSubscription",
    });
  });
});
