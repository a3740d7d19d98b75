import { AzureKeyCredential, EventGridPublisherClient, type SendCloudEventInput, type SendEventGridEventInput } from "@azure/eventgrid";
import type { TokenCredential } from "@azure/core-auth";
import type { AppSettings, EventsSettings } from "../config/types.js";
import { createCredential } from "./credential.js";
import { call } from "./errors.js";
import { eventGridClientOptions } from "./pipelineOptions.js";
import { sharedRequestLayer, type RequestLayer } from "./requests.js";

/** An event as KeyWarden publishes it, before it takes the topic's schema. */
export interface OutgoingEvent {
  id: string;
  type: string;
  /** Event Grid schema `subject`; CloudEvents `subject`. */
  subject: string;
  /** CloudEvents `source` (Event Grid sets `topic` itself for a custom topic). */
  source: string;
  time: string;
  dataVersion: string;
  data: Record<string, unknown>;
}

/** Publishes batches to one custom topic, in its input schema. */
export interface EventsPublisher {
  readonly topicEndpoint: string;
  send(events: readonly OutgoingEvent[]): Promise<void>;
}

/**
 * The topic client on KeyWarden's request layer. With the managed identity (TokenCredential) in Azure; with the
 * topic's access key only against the emulator (the settings refuse a key anywhere else).
 */
export function createEventsPublisher(
  settings: AppSettings & { events: EventsSettings },
  requests: RequestLayer = sharedRequestLayer(settings),
  credential: TokenCredential = createCredential(settings),
): EventsPublisher {
  const { topicEndpoint, schema, topicKey } = settings.events;
  const auth = topicKey ? new AzureKeyCredential(topicKey.reveal()) : credential;
  const options = eventGridClientOptions(settings, requests);
  if (schema === "CloudEventSchemaV1_0") {
    const client = new EventGridPublisherClient(topicEndpoint, "CloudEvent", auth, options);
    return {
      topicEndpoint,
      send: (events) => call("PublishCloudEvents", topicEndpoint, () => client.send(events.map(toCloudEvent))),
    };
  }
  const client = new EventGridPublisherClient(topicEndpoint, "EventGrid", auth, options);
  return {
    topicEndpoint,
    send: (events) => call("PublishEvents", topicEndpoint, () => client.send(events.map(toEventGridEvent))),
  };
}

function toEventGridEvent(e: OutgoingEvent): SendEventGridEventInput<Record<string, unknown>> {
  return { id: e.id, eventType: e.type, subject: e.subject, eventTime: new Date(e.time), dataVersion: e.dataVersion, data: e.data };
}

function toCloudEvent(e: OutgoingEvent): SendCloudEventInput<Record<string, unknown>> {
  return { id: e.id, type: e.type, source: e.source, subject: e.subject, time: new Date(e.time), datacontenttype: "application/json", data: e.data };
}
