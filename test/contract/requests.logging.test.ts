import https from "node:https";
import { inspect } from "node:util";
import { createDefaultHttpClient, type HttpClient } from "@azure/core-rest-pipeline";
import { createRequire } from "node:module";
import * as esmLogger from "@azure/logger";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KEYWARDEN_OID, loopbackLookup, staticCredential, unsignedJwt } from "../../emulator/test-support.js";
import { createAzureClients, type AzureClients } from "../../src/lib/azure/clients.js";
import { createEmulatorToken } from "../../src/lib/azure/emulatorCredential.js";
import { createEventsPublisher } from "../../src/lib/azure/eventGrid.js";
import { createRequestLayer, requestLayerOptions } from "../../src/lib/azure/requests.js";
import { fixedClock } from "../../src/lib/clock.js";
import { loadConfig } from "../../src/lib/config/load.js";
import { collectEstate } from "../../src/lib/inventory/collect.js";
import { CONTOSO_POLICY_FILE, KEYWARDEN_PRINCIPAL_ID, startTestEmulator, type TestEmulator } from "../support/emulator.js";

/**
 * With AZURE_LOG_LEVEL=verbose the SDKs log every request. A log line must never carry a token: not on
 * the emulator path (whose https.Agent, once handed to the SDK, was serialised with its busy sockets'
 * raw Authorization headers), nor on the Azure-shaped path.
 */
/**
 * SDKs without an ESM build (arm-sql, arm-monitor) load @azure/logger's CommonJS build, a second instance
 * with its own level and sink: AZURE_LOG_LEVEL reaches both, so the test sets and captures both.
 */
const loggers: (typeof esmLogger)[] = [esmLogger, createRequire(import.meta.url)("@azure/logger") as typeof esmLogger];

describe("verbose SDK logs hold no token", () => {
  let t: TestEmulator;
  let lines: string[] = [];
  const originals = loggers.map((l) => ({ log: l.AzureLogger.log, level: l.getLogLevel() }));

  beforeAll(async () => {
    t = await startTestEmulator("contoso-reference");
  });
  afterAll(() => t.close());
  afterEach(() => {
    loggers.forEach((l, i) => {
      l.AzureLogger.log = originals[i]!.log;
      l.setLogLevel(originals[i]!.level);
    });
    lines = [];
  });

  const capture = () => {
    for (const l of loggers) {
      l.setLogLevel("verbose");
      l.AzureLogger.log = (...args: unknown[]) => {
        lines.push(args.map((a) => (typeof a === "string" ? a : inspect(a, { depth: 8 }))).join(" "));
      };
    }
  };

  /**
   * Reads through every client kind, each started a moment after the last, so that requests are logged
   * while earlier ones are in flight on the same sockets (how the leak showed).
   */
  const readThroughEveryClient = async (clients: AzureClients, hsmUri: string, subscriptionId: string, hsmId: string) => {
    const reads: (() => Promise<unknown>)[] = [
      () => clients.managedHsms.get(hsmId),
      () => clients.diagnosticSettings.list(hsmId),
      () => clients.sql.listManagedInstances(subscriptionId),
      () => clients.compute.listDiskEncryptionSets(subscriptionId),
      () => clients.storage.listStorageAccounts(subscriptionId),
      () => clients.hsmKeys(hsmUri).listKeyNames(),
      () => clients.hsmKeys(hsmUri).getKey("Contoso-DISK-CMK"),
      () => clients.hsmRbac(hsmUri).listRoleDefinitions(),
      () => clients.hsmRbac(hsmUri).listRoleAssignments("/keys"),
    ];
    const pe = (await clients.managedHsms.listPrivateEndpointConnections(hsmId))[0]?.privateEndpointId;
    expect(pe).toBeDefined();
    reads.push(() => clients.privateEndpoints.getLocation(pe!));
    await Promise.all(Array.from({ length: 60 }, (_, i) => new Promise((resolve) => setTimeout(resolve, i)).then(() => reads[i % reads.length]!())));
  };

  const expectNoToken = (token: string) => {
    expect(lines.length).toBeGreaterThan(100);
    // Every client kind logged its requests (RBAC goes through core-rest-pipeline's logger).
    // Every client kind logged its requests (core-client SDKs and our RBAC client log as core-rest-pipeline).
    const requests = lines.filter((l) => l.includes("Request:"));
    for (const path of [
      "/providers/Microsoft.KeyVault/managedHSMs/",
      "/providers/Microsoft.Network/privateEndpoints/",
      "/providers/Microsoft.Insights/diagnosticSettings",
      "/providers/Microsoft.Sql/managedInstances",
      "/providers/Microsoft.Compute/diskEncryptionSets",
      "/providers/Microsoft.Storage/storageAccounts",
      ".managedhsm.azure.net:",
      "/providers/Microsoft.Authorization/roleAssignments",
    ]) {
      expect(requests.some((l) => l.toLowerCase().includes(path.toLowerCase())), path).toBe(true);
    }
    expect(lines.filter((l) => l.includes(token))).toEqual([]);
    expect(lines.filter((l) => /Bearer ey/.test(l))).toEqual([]);
    expect(lines.filter((l) => l.includes('"agent": {'))).toEqual([]);
  };

  it("on the emulator path", async () => {
    const config = await t.config();
    const clients = createAzureClients(config.settings);
    const hsm = config.policy.managedHsms[0]!;
    capture();
    await collectEstate(config, clients, fixedClock(new Date()));
    await readThroughEveryClient(clients, t.emulator.hsmUri("Contoso-PROD-HSM"), hsm.subscriptionId, hsm.resourceId);
    // The emulator credential mints one token per audience (ARM's and the HSM's here).
    for (const audience of ["https://management.azure.com", "https://managedhsm.azure.net"]) expectNoToken(createEmulatorToken(KEYWARDEN_PRINCIPAL_ID, undefined, audience));
  });

  it("on the Azure-shaped path (a custom cloud, a static credential, no agent given to the SDK)", async () => {
    const config = await loadConfig({
      env: {
        KEYWARDEN_CLOUD: "Custom",
        KEYWARDEN_ARM_ENDPOINT: t.emulator.endpoint,
        KEYWARDEN_AUTHORITY_HOST: "https://login.microsoftonline.com",
        KEYWARDEN_MANAGED_HSM_DNS_SUFFIX: "managedhsm.azure.net",
        KEYWARDEN_POLICY_FILE: CONTOSO_POLICY_FILE,
        KEYWARDEN_MAX_RETRIES: "0",
      },
    });
    expect(config.settings.emulator).toBeUndefined();
    // Only the wire differs from Azure: this transport (under the request layer, below every SDK policy)
    // trusts the emulator's CA and resolves *.managedhsm.azure.net to it.
    const agent = new https.Agent({ ca: t.emulator.caPem, keepAlive: true, lookup: loopbackLookup });
    const inner = createDefaultHttpClient();
    const transport: HttpClient = {
      sendRequest: async (request) => {
        // Azure's Log Analytics and metrics hosts listen on 443; the emulator serves them on its own port.
        const url = new URL(request.url);
        if (url.port === "" && /(^api\.loganalytics\.io|\.metrics\.monitor\.azure\.com)$/.test(url.hostname)) {
          url.port = String(t.emulator.port);
          request.url = url.toString();
        }
        request.agent = agent;
        try {
          return await inner.sendRequest(request);
        } finally {
          request.agent = undefined;
        }
      },
    };
    const layer = createRequestLayer({ ...requestLayerOptions(config.settings), transport });
    const clients = createAzureClients(config.settings, staticCredential(), layer);
    const hsm = config.policy.managedHsms[0]!;
    capture();
    const snapshot = await collectEstate(config, clients, fixedClock(new Date()));
    // The one static token has the HSM's audience: Log Analytics and the metrics batch refuse it (401), after logging the request.
    expect(snapshot.errors.map((e) => [e.part, e.statusCode])).toEqual([
      ["managedHsm.auditEvents", 401],
      ["managedHsm.deniedRequests", 401],
      ["managedHsm.metrics", 401],
    ]);
    await readThroughEveryClient(clients, t.emulator.hsmUri("Contoso-PROD-HSM"), hsm.subscriptionId, hsm.resourceId);
    expectNoToken(unsignedJwt(KEYWARDEN_OID));
    agent.destroy();
  });

  it("an AzureRequestError, inspected or serialised in full, holds no token", async () => {
    const config = await t.config();
    const clients = createAzureClients(config.settings);
    const error = await clients.hsmKeys(t.emulator.hsmUri("Contoso-PROD-HSM")).getKey("No-Such-Key").catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "AzureRequestError", statusCode: 404 });
    const token = createEmulatorToken(KEYWARDEN_PRINCIPAL_ID, undefined, "https://managedhsm.azure.net");
    const cause = (error as { cause?: { request?: object } }).cause;
    expect(cause?.request).toBeDefined();
    expect(inspect(error, { depth: 12, showHidden: true })).not.toContain(token);
    expect(inspect(cause?.request, { depth: 12, showHidden: true })).not.toContain(token);
  });

  it("publishing events: neither the topic key nor the Event Grid token is in a verbose log or in an AzureRequestError", async () => {
    const { topics } = (await t.control("GET", "/_emulator/eventgrid/topics")) as { topics: { name: string; key1: string }[] };
    const key = String(topics[0]?.key1);
    const endpoint = t.emulator.topicEndpoint(String(topics[0]?.name));
    const event = { id: "00000000-0000-4000-8000-000000000001", type: "KeyWarden.Test", subject: "k", source: "/s", time: new Date().toISOString(), dataVersion: "1", data: {} };
    const withKey = await t.config({ KEYWARDEN_EVENTS_TOPIC_ENDPOINT: endpoint, KEYWARDEN_EVENTS_TOPIC_KEY: key });
    const withToken = await t.config({ KEYWARDEN_EVENTS_TOPIC_ENDPOINT: endpoint });
    const wrongKey = await t.config({ KEYWARDEN_EVENTS_TOPIC_ENDPOINT: endpoint, KEYWARDEN_EVENTS_TOPIC_KEY: `${key.slice(0, -4)}AAAA` });
    capture();
    await createEventsPublisher({ ...withKey.settings, events: withKey.settings.events! }).send([event]);
    await createEventsPublisher({ ...withToken.settings, events: withToken.settings.events! }).send([event]);
    const error = await createEventsPublisher({ ...wrongKey.settings, events: wrongKey.settings.events! })
      .send([event])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "AzureRequestError", statusCode: 401 });
    expect(lines.filter((l) => l.includes("/api/events")).length).toBeGreaterThan(0);
    const token = createEmulatorToken(KEYWARDEN_PRINCIPAL_ID, undefined, "https://eventgrid.azure.net");
    for (const secret of [key, `${key.slice(0, -4)}AAAA`, token]) {
      expect(lines.filter((l) => l.includes(secret))).toEqual([]);
      expect(inspect(error, { depth: 12, showHidden: true })).not.toContain(secret);
    }
  });
});
