import { describe, expect, it } from "vitest";
import { loadAppSettings } from "../../src/lib/config/settings.js";
import { settingsProblems } from "../support/settingsProblems.js";

const BASE = { KEYWARDEN_POLICY_FILE: "policy.json" };
const EMULATOR = { ...BASE, KEYWARDEN_CLOUD: "Emulator", KEYWARDEN_EMULATOR_ENDPOINT: "https://127.0.0.1:8443", KEYWARDEN_EMULATOR_CA_PEM: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----", KEYWARDEN_EMULATOR_PRINCIPAL_ID: "a1000000-0000-4000-8000-000000000003" };
const TOPIC = "https://kw-events.southindia-1.eventgrid.azure.net/api/events";
const KEY = "dG9waWMta2V5LW5vdC1mb3ItbG9ncw==";

const problems = (env: NodeJS.ProcessEnv): string[] => settingsProblems(env, KEY);

describe("the events settings", () => {
  it("are off unless a topic is named, and default to the Event Grid schema with the managed identity", () => {
    expect(loadAppSettings(BASE).events).toBeUndefined();
    expect(loadAppSettings({ ...BASE, KEYWARDEN_EVENTS_TOPIC_ENDPOINT: TOPIC }).events).toEqual({ topicEndpoint: TOPIC, schema: "EventGridSchema" });
    expect(loadAppSettings({ ...BASE, KEYWARDEN_EVENTS_TOPIC_ENDPOINT: `${TOPIC}/`, KEYWARDEN_EVENTS_SCHEMA: "cloudeventschemav1_0" }).events?.schema).toBe("CloudEventSchemaV1_0");
  });

  it("take a topic key only against the emulator, and never print it", () => {
    const events = loadAppSettings({ ...EMULATOR, KEYWARDEN_EVENTS_TOPIC_ENDPOINT: TOPIC, KEYWARDEN_EVENTS_TOPIC_KEY: KEY }).events;
    expect(events?.topicKey?.reveal()).toBe(KEY);
    expect(JSON.stringify(events)).not.toContain(KEY);
    expect(problems({ ...BASE, KEYWARDEN_EVENTS_TOPIC_ENDPOINT: TOPIC, KEYWARDEN_EVENTS_TOPIC_KEY: KEY })).toEqual([
      "KEYWARDEN_EVENTS_TOPIC_KEY: a topic access key is accepted only against the emulator (KEYWARDEN_CLOUD=Emulator); in Azure KeyWarden publishes with its managed identity: give it EventGrid Data Sender on the topic and remove this setting",
    ]);
  });

  it("name what is wrong", () => {
    expect(problems({ ...BASE, KEYWARDEN_EVENTS_TOPIC_ENDPOINT: "https://kw-events.southindia-1.eventgrid.azure.net/" })).toEqual([
      'KEYWARDEN_EVENTS_TOPIC_ENDPOINT: "https://kw-events.southindia-1.eventgrid.azure.net" is not a topic endpoint (expected https://<topic>.<region>-1.eventgrid.azure.net/api/events, as the topic\'s Overview shows it)',
    ]);
    expect(problems({ ...BASE, KEYWARDEN_EVENTS_TOPIC_ENDPOINT: "http://kw-events.southindia-1.eventgrid.azure.net/api/events" })).toEqual([
      'KEYWARDEN_EVENTS_TOPIC_ENDPOINT: "http://kw-events.southindia-1.eventgrid.azure.net/api/events" must use https',
    ]);
    expect(problems({ ...BASE, KEYWARDEN_EVENTS_TOPIC_ENDPOINT: TOPIC, KEYWARDEN_EVENTS_SCHEMA: "Custom" })).toEqual([
      'KEYWARDEN_EVENTS_SCHEMA: "Custom" is not an Event Grid input schema; use EventGridSchema (the default) or CloudEventSchemaV1_0, as the topic was created with',
    ]);
    expect(problems({ ...BASE, KEYWARDEN_EVENTS_SCHEMA: "EventGridSchema" })).toEqual(["KEYWARDEN_EVENTS_SCHEMA: is only used with KEYWARDEN_EVENTS_TOPIC_ENDPOINT (the topic to publish to)"]);
  });
});
