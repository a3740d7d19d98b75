import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TestEmulator } from "./emulator.js";

/** The Contoso fixtures' Event Grid custom topic. */
export const CONTOSO_TOPIC = "contoso-keywarden-events";

/** The topic's first access key, as the emulator's control endpoint lists it. */
export async function topicKey(t: TestEmulator, name = CONTOSO_TOPIC): Promise<string> {
  const { topics } = (await t.control("GET", "/_emulator/eventgrid/topics")) as { topics: { name: string; key1: string }[] };
  const key = topics.find((x) => x.name === name)?.key1;
  if (!key) throw new Error(`the emulator has no topic ${name}`);
  return key;
}

/** Runs fn with the drifted estate loaded with its topic taking CloudEvents 1.0, then loads the drifted estate back. */
export async function withCloudEventsTopic(t: TestEmulator, fn: () => Promise<void>): Promise<void> {
  const file = join(import.meta.dirname, "..", "..", "emulator", "fixtures", "contoso-drifted.json");
  const fixture = JSON.parse(readFileSync(file, "utf8")) as { name: string; eventGridTopics: { inputSchema?: string }[] };
  fixture.name = "contoso-drifted-cloudevents";
  for (const topic of fixture.eventGridTopics) topic.inputSchema = "CloudEventSchemaV1_0";
  await t.control("POST", "/_emulator/fixture", fixture);
  try {
    await fn();
  } finally {
    await t.control("POST", "/_emulator/fixture", { name: "contoso-drifted" });
  }
}

/** Before each test: the estate as loaded, long-running operations polled at once. */
export async function resetForRotation(t: TestEmulator): Promise<void> {
  await t.control("POST", "/_emulator/reset");
  await t.control("POST", "/_emulator/config", { lroRetryAfterSeconds: 0 });
}
