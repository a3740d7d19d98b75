import { resolve } from "node:path";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { loadAppSettings } from "../../src/lib/config/settings.js";
import { createStateStore } from "../../src/lib/state/createStateStore.js";
import { fixedClock } from "../../src/lib/clock.js";
import { settingsProblems } from "../support/settingsProblems.js";

const BASE = { KEYWARDEN_POLICY_FILE: "policy.json" };
const KEY = "c2VjcmV0LWtleS1ub3QtZm9yLWxvZ3M=";
const CONNECTION_STRING = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${KEY};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;`;

const problems = (env: NodeJS.ProcessEnv): string[] => settingsProblems(env, KEY);

describe("the state store's settings", () => {
  it("default to a local directory under the working directory, or KEYWARDEN_STATE_DIR", () => {
    expect(loadAppSettings(BASE).stateStore).toEqual({ kind: "directory", path: resolve(".keywarden/state") });
    expect(loadAppSettings({ ...BASE, KEYWARDEN_STATE_DIR: "/var/lib/keywarden" }).stateStore).toEqual({ kind: "directory", path: "/var/lib/keywarden" });
    expect(createStateStore(loadAppSettings({ ...BASE, KEYWARDEN_STATE_DIR: "/var/lib/keywarden" }), fixedClock("2026-03-01T00:00:00Z")).description).toBe(
      "local directory /var/lib/keywarden",
    );
  });

  it("take a container URL for the app's Entra identity", () => {
    const url = "https://kwstate.blob.core.windows.net/keywarden";
    expect(loadAppSettings({ ...BASE, KEYWARDEN_STATE_BLOB_URL: `${url}/` }).stateStore).toEqual({ kind: "blob", containerUrl: url });
    expect(createStateStore(loadAppSettings({ ...BASE, KEYWARDEN_STATE_BLOB_URL: url }), fixedClock("2026-03-01T00:00:00Z")).description).toBe(`blob container ${url}`);
    expect(problems({ ...BASE, KEYWARDEN_STATE_BLOB_URL: "http://kwstate.blob.core.windows.net/keywarden" })).toEqual([
      'KEYWARDEN_STATE_BLOB_URL: "http://kwstate.blob.core.windows.net/keywarden" must use https',
    ]);
    expect(problems({ ...BASE, KEYWARDEN_STATE_BLOB_URL: "https://kwstate.blob.core.windows.net/keywarden?sv=2024&sig=abc" })[0]).toMatch(/must not have a query/);
    expect(problems({ ...BASE, KEYWARDEN_STATE_BLOB_URL: "https://kwstate.blob.core.windows.net" })[0]).toMatch(/is not a container URL/);
  });

  it("keep a connection string secret: never printed, serialised or in the store's description", () => {
    const settings = loadAppSettings({ ...BASE, KEYWARDEN_STATE_BLOB_CONNECTION_STRING: CONNECTION_STRING });
    expect(settings.stateStore).toMatchObject({ kind: "blobConnectionString", container: "keywarden" });
    expect(settings.stateStore.kind === "blobConnectionString" && settings.stateStore.connectionString.reveal()).toBe(CONNECTION_STRING);
    expect(JSON.stringify(settings)).not.toContain(KEY);
    expect(inspect(settings, { depth: 10 })).not.toContain(KEY);
    expect(`${settings.stateStore.kind === "blobConnectionString" ? settings.stateStore.connectionString : ""}`).toBe("[secret]");
    const store = createStateStore(settings, fixedClock("2026-03-01T00:00:00Z"));
    expect(store.description).toBe("blob container http://127.0.0.1:10000/devstoreaccount1/keywarden");
    const custom = loadAppSettings({ ...BASE, KEYWARDEN_STATE_BLOB_CONNECTION_STRING: CONNECTION_STRING, KEYWARDEN_STATE_CONTAINER: "kw-state-2" });
    expect(custom.stateStore).toMatchObject({ container: "kw-state-2" });
    expect(problems({ ...BASE, KEYWARDEN_STATE_BLOB_CONNECTION_STRING: `AccountName=a;Key=${KEY}` })).toEqual([
      "KEYWARDEN_STATE_BLOB_CONNECTION_STRING: is not a storage connection string (expected AccountName=…;AccountKey=…, a SharedAccessSignature, or UseDevelopmentStorage=true)",
    ]);
  });

  it("name exactly one store: two of them is an error naming both", () => {
    expect(problems({ ...BASE, KEYWARDEN_STATE_DIR: "state", KEYWARDEN_STATE_BLOB_URL: "https://a.blob.core.windows.net/c" })).toEqual([
      "KEYWARDEN_STATE_DIR: set only one of KEYWARDEN_STATE_DIR and KEYWARDEN_STATE_BLOB_URL: each names a different state store",
    ]);
    expect(problems({ ...BASE, KEYWARDEN_STATE_BLOB_URL: "https://a.blob.core.windows.net/c", KEYWARDEN_STATE_BLOB_CONNECTION_STRING: CONNECTION_STRING })).toEqual([
      "KEYWARDEN_STATE_BLOB_URL: set only one of KEYWARDEN_STATE_BLOB_URL and KEYWARDEN_STATE_BLOB_CONNECTION_STRING: each names a different state store",
    ]);
  });

  it("use KEYWARDEN_STATE_CONTAINER only with a connection string, and only a valid container name", () => {
    expect(problems({ ...BASE, KEYWARDEN_STATE_CONTAINER: "keywarden" })).toEqual([
      "KEYWARDEN_STATE_CONTAINER: is only used with KEYWARDEN_STATE_BLOB_CONNECTION_STRING (KEYWARDEN_STATE_BLOB_URL names its container in the URL)",
    ]);
    expect(problems({ ...BASE, KEYWARDEN_STATE_BLOB_CONNECTION_STRING: CONNECTION_STRING, KEYWARDEN_STATE_CONTAINER: "Key--Warden" })).toEqual([
      'KEYWARDEN_STATE_CONTAINER: "Key--Warden" is not a blob container name (3-63 lower-case letters, digits and single hyphens)',
    ]);
  });
});
