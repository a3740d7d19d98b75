/** Event Grid custom topics: the publish operation (topic host) and the /_emulator/eventgrid/* control endpoints. */
import { clearTopicEvents, publishEvents as publishTo, topicEndpoint, topicEvents } from "../backend/eventGrid.js";
import type { EventGridTopicState } from "../backend/state.js";
import { badControlInput, ServiceError } from "../errors.js";
import type { Handler, HandlerContext } from "./context.js";
import { ok } from "./context.js";

/** POST /api/events: 200 with an empty body once every event of the batch passed the topic's input schema. */
export const publishEvents: Handler = (ctx) => {
  const { req } = ctx;
  publishTo(ctx.rt, req.topic!, { body: req.body, json: req.bodyIsJson !== false, bodyBytes: req.bodyBytes ?? 0, contentType: req.contentType });
  return { status: 200 };
};

function topicOf(ctx: HandlerContext): EventGridTopicState {
  const name = ctx.params.topicName ?? "";
  const topic = ctx.rt.state.eventGridTopics.get(name.toLowerCase());
  if (!topic) {
    const known = [...ctx.rt.state.eventGridTopics.values()].map((t) => t.name);
    throw new ServiceError(404, "TopicNotFound", `topicName: no Event Grid topic '${name}' in the estate (${known.length ? known.join(", ") : "it has none"})`);
  }
  return topic;
}

export const listTopics: Handler = (ctx) =>
  ok({
    topics: [...ctx.rt.state.eventGridTopics.values()].map((t) => ({
      name: t.name,
      endpoint: topicEndpoint(ctx.rt, t),
      inputSchema: t.inputSchema,
      key1: t.key1,
      key2: t.key2,
      id: t.resourceId,
    })),
  });

export const listEvents: Handler = (ctx) => {
  const topic = topicOf(ctx);
  const raw = ctx.req.query.get("since");
  const since = raw === null ? 0 : Number(raw);
  if (!Number.isInteger(since) || since < 0) throw badControlInput("since", "must be a whole number (a seq; 0 = every event)");
  return ok({ events: topicEvents(topic, since).map((e) => ({ seq: e.seq, receivedAt: e.receivedAt.toISOString(), event: e.event })) });
};

export const clearEvents: Handler = (ctx) => ok({ deleted: clearTopicEvents(topicOf(ctx)) });
