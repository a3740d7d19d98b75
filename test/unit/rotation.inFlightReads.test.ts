import { describe, expect, it } from "vitest";
import { InFlightReads } from "../../src/lib/rotation/inFlightReads.js";

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("InFlightReads", () => {
  it("sends one read for callers that ask while it is in flight, and hands each the same answer", async () => {
    const reads = new InFlightReads();
    const d = deferred<string[]>();
    let sent = 0;
    const start = () => {
      sent++;
      return d.promise;
    };
    const answers = [reads.read("hsm|roleAssignments|/", start), reads.read("hsm|roleAssignments|/", start), reads.read("hsm|roleAssignments|/", start)];
    d.resolve(["a"]);
    expect(await Promise.all(answers)).toEqual([["a"], ["a"], ["a"]]);
    expect(sent).toBe(1);
    expect(reads.stats()).toEqual({ started: 1, joined: 2 });
  });

  it("never hands a finished read to a later caller: each asks Azure afresh", async () => {
    const reads = new InFlightReads();
    let sent = 0;
    const start = () => Promise.resolve(++sent);
    expect(await reads.read("k", start)).toBe(1);
    expect(await reads.read("k", start)).toBe(2);
    expect(sent).toBe(2);
  });

  it("keeps different reads apart", async () => {
    const reads = new InFlightReads();
    const [a, b] = await Promise.all([reads.read("hsm|roleAssignments|/keys", () => Promise.resolve("keys")), reads.read("hsm|roleAssignments|/", () => Promise.resolve("root"))]);
    expect([a, b]).toEqual(["keys", "root"]);
    expect(reads.stats()).toEqual({ started: 2, joined: 0 });
  });

  it("gives a failure to every caller that joined it, and does not keep it", async () => {
    const reads = new InFlightReads();
    const d = deferred<string>();
    const first = reads.read("k", () => d.promise);
    const second = reads.read("k", () => Promise.resolve("never sent"));
    d.reject(new Error("429 TooManyRequests"));
    await expect(first).rejects.toThrow("429");
    await expect(second).rejects.toThrow("429");
    expect(await reads.read("k", () => Promise.resolve("retried"))).toBe("retried");
  });
});
