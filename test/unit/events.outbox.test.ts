import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AzureRequestError } from "../../src/lib/azure/errors.js";
import type { EventsPublisher, OutgoingEvent } from "../../src/lib/azure/eventGrid.js";
import { fixedClock } from "../../src/lib/clock.js";
import { eventIdFor } from "../../src/lib/events/eventIdentity.js";
import type { EventToPublish } from "../../src/lib/events/keyVaultEvents.js";
import { enqueueEvents, flushOutbox, MAX_BATCH_BYTES } from "../../src/lib/events/outbox.js";
import { createLocalDirectoryStore } from "../../src/lib/state/localDirectoryStore.js";
import { Outbox } from "../../src/lib/state/outbox.js";
import type { StateStore } from "../../src/lib/state/stateStore.js";

const clock = fixedClock("2026-12-01T00:00:00Z");

function fact(identity: string, extra: Partial<OutgoingEvent> = {}, requires?: string): EventToPublish {
  return {
    identity,
    event: { id: eventIdFor(identity), type: "KeyWarden.Test", subject: "k", source: "/s", time: "2026-12-01T00:00:00.000Z", dataVersion: "1", data: { identity }, ...extra },
    ...(requires ? { requires } : {}),
  };
}

/** The topic as the outbox sees it (our interface): records batches, fails as told. */
function topic() {
  const batches: OutgoingEvent[][] = [];
  let failWith: AzureRequestError | undefined;
  const rejectIds = new Set<string>();
  const publisher: EventsPublisher = {
    topicEndpoint: "https://t.southindia-1.eventgrid.azure.net/api/events",
    async send(events) {
      if (failWith) throw failWith;
      if (events.some((e) => rejectIds.has(e.id))) throw new AzureRequestError("PublishEvents", "t", "Required property 'subject' was not set.", 400, "BadRequest");
      batches.push([...events]);
    },
  };
  return { publisher, batches, failNext: (e: AzureRequestError | undefined) => (failWith = e), reject: (id: string) => rejectIds.add(id) };
}

let dir: string;
let store: StateStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kw-outbox-"));
  store = createLocalDirectoryStore(dir, { clock });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("events outbox", () => {
  it("sends each fact once: a second run queues and sends nothing", async () => {
    const t = topic();
    const facts = [fact("a"), fact("b"), fact("a")];
    expect((await enqueueEvents(store, facts, clock)).queued).toHaveLength(2);
    const first = await flushOutbox(store, t.publisher, clock, "test");
    expect(first.sent.map((e) => e.data.identity)).toEqual(["a", "b"]);
    expect(t.batches).toHaveLength(1);

    const again = await enqueueEvents(store, facts, clock);
    expect(again).toMatchObject({ queued: [], alreadySent: 2 });
    expect((await flushOutbox(store, t.publisher, clock, "test")).sent).toEqual([]);
    expect(t.batches).toHaveLength(1);
  });

  it("keeps a failed send pending and sends it, with the same id, at the next flush", async () => {
    const t = topic();
    await enqueueEvents(store, [fact("a")], clock);
    t.failNext(new AzureRequestError("PublishEvents", "t", "Service Unavailable", 503, "ServiceUnavailable"));
    const failed = await flushOutbox(store, t.publisher, clock, "test");
    expect(failed.sent).toEqual([]);
    expect(failed.failed).toMatchObject([{ attempts: 1, error: "Service Unavailable" }]);
    expect(await store.list("events/pending/")).toHaveLength(1);

    // the next run's enqueue sees it pending, not sent
    expect(await enqueueEvents(store, [fact("a")], clock)).toMatchObject({ queued: [], alreadyPending: 1 });
    t.failNext(undefined);
    const retried = await flushOutbox(store, t.publisher, clock, "test");
    expect(retried.sent.map((e) => e.id)).toEqual([eventIdFor("a")]);
    expect(await store.list("events/pending/")).toEqual([]);
    expect(await store.list("events/sent/")).toHaveLength(1);
  });

  it("sets a malformed event aside without holding the others back", async () => {
    const t = topic();
    await enqueueEvents(store, [fact("a"), fact("bad"), fact("c")], clock);
    t.reject(eventIdFor("bad"));
    const result = await flushOutbox(store, t.publisher, clock, "test");
    expect(result.sent.map((e) => e.data.identity).sort()).toEqual(["a", "c"]);
    expect(result.rejected.map((r) => r.event.data.identity)).toEqual(["bad"]);
    expect(await store.list("events/rejected/")).toHaveLength(1);
    expect(await store.list("events/pending/")).toEqual([]);
  });

  it("splits batches at Event Grid's 1 MB limit", async () => {
    const t = topic();
    const big = "x".repeat(300_000);
    await enqueueEvents(store, ["a", "b", "c", "d", "e"].map((id) => fact(id, { data: { big } })), clock);
    const result = await flushOutbox(store, t.publisher, clock, "test");
    expect(result.sent).toHaveLength(5);
    expect(t.batches.map((b) => b.length)).toEqual([3, 2]);
    for (const batch of t.batches) expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThanOrEqual(MAX_BATCH_BYTES);
  });

  it("holds an event that follows another until that one was published", async () => {
    const t = topic();
    expect(await enqueueEvents(store, [fact("completed", {}, "pending")], clock)).toMatchObject({ queued: [], notYet: 1 });
    await enqueueEvents(store, [fact("pending")], clock);
    await flushOutbox(store, t.publisher, clock, "test");
    expect((await enqueueEvents(store, [fact("completed", {}, "pending")], clock)).queued).toHaveLength(1);
  });

  it("lets an item follow a fact noted as told elsewhere, and sends nothing for the note", async () => {
    const outbox = new Outbox<string>(store, "alerts/rotations/", clock);
    expect(await outbox.enqueue([{ identity: "completed", item: "row", requires: "pending" }])).toMatchObject({ queued: [], notYet: 1 });
    await outbox.note(["pending", "pending"]);
    await outbox.note(["pending"]);
    expect(await store.list("alerts/rotations/pending/")).toEqual([]);
    expect(await store.list("alerts/rotations/sent/")).toHaveLength(1);
    expect((await outbox.enqueue([{ identity: "completed", item: "row", requires: "pending" }])).queued).toHaveLength(1);
  });

  it("lets one flush at a time send", async () => {
    const t = topic();
    await enqueueEvents(store, [fact("a")], clock);
    const lease = await store.acquireLease("locks/events-outbox", { durationMs: 15_000, owner: "other" });
    expect(lease).toBeDefined();
    expect(await flushOutbox(store, t.publisher, clock, "test")).toMatchObject({ busy: true, sent: [] });
    await lease?.release();
    expect((await flushOutbox(store, t.publisher, clock, "test")).sent).toHaveLength(1);
  });
});
