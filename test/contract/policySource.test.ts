import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ContainerClient } from "@azure/storage-blob";
import { InvocationContext, type Timer } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ConfigError } from "../../src/lib/config/errors.js";
import { keyRotationHandler } from "../../src/functions/keyRotation.js";
import { appRoot, createRuntime, getRuntime, setRuntime } from "../../src/lib/runtime.js";
import { runCli } from "../../src/cli/runCli.js";
import { CONTOSO_POLICY_FILE, startTestEmulator, type TestEmulator } from "../support/emulator.js";

/**
 * The policy document in production: a blob in the state store (KEYWARDEN_POLICY_BLOB), read and validated for
 * every invocation so that it changes without a redeployment, never half-applied; a relative KEYWARDEN_POLICY_FILE
 * found from the function app's root; which document a run used, in its journal.
 */
const BLOB = "policy/keywarden.policy.json";
const CONTOSO = readFileSync(CONTOSO_POLICY_FILE, "utf8");
const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

describe("the policy document from a blob in the state store", () => {
  let t: TestEmulator;
  let container: ContainerClient;
  let env: NodeJS.ProcessEnv;
  const logs: string[] = [];
  const context = () => new InvocationContext({ invocationId: randomUUID(), functionName: "keyRotation", logHandler: (_level, ...args) => logs.push(args.map(String).join(" ")) });
  const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };
  const upload = (text: string) => container.getBlockBlobClient(BLOB).upload(text, Buffer.byteLength(text));
  const runs = async () => {
    const names: string[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: "runs/" })) names.push(blob.name);
    return names;
  };

  beforeAll(async () => {
    t = await startTestEmulator("contoso-drifted");
    const name = `policy-${randomUUID().slice(0, 8)}`;
    container = new ContainerClient(inject("azuriteConnectionString"), name);
    await container.create();
    env = t.env({
      KEYWARDEN_STATE_BLOB_CONNECTION_STRING: inject("azuriteConnectionString"),
      KEYWARDEN_STATE_CONTAINER: name,
      KEYWARDEN_POLICY_BLOB: BLOB,
      KEYWARDEN_ROTATION_MODE: "execute",
    });
    delete env.KEYWARDEN_POLICY_FILE;
  });
  afterAll(async () => {
    setRuntime(undefined);
    await container?.deleteIfExists();
    await t?.close();
  });

  it("names the missing blob, and starts once it is there", async () => {
    const missing = await createRuntime({ env }).then(() => expect.fail("expected a ConfigError"), (e: unknown) => e);
    expect(missing).toBeInstanceOf(ConfigError);
    expect(String((missing as ConfigError).issues.map((i) => `${i.path}: ${i.message}`))).toBe(
      `KEYWARDEN_POLICY_BLOB: "${BLOB}" does not exist in the state store; upload the policy document there first`,
    );
    await upload(CONTOSO);
    const runtime = await createRuntime({ env });
    expect(runtime.config.policyOrigin).toEqual({ setting: "KEYWARDEN_POLICY_BLOB", location: BLOB, sha256: sha256(CONTOSO), etag: expect.any(String) });
    expect(runtime.config.policy.managedHsms[0]!.resourceId).toMatch(/\/managedHSMs\/Contoso-PROD-HSM$/);
  });

  it("reads it again for every invocation: a change takes effect without a restart, a bad one stops the run before any call", async () => {
    await upload(CONTOSO);
    setRuntime(createRuntime({ env }));
    const first = await getRuntime();
    expect(first.config.policyOrigin.sha256).toBe(sha256(CONTOSO));

    // An operator warns earlier before expiry: the next invocation sees it, with the same clients and store.
    const changed = CONTOSO.replace('"notifyBefore": "P30D"', '"notifyBefore": "P45D"');
    expect(changed).not.toBe(CONTOSO);
    await upload(changed);
    const second = await getRuntime();
    expect(second.config.policyOrigin.sha256).toBe(sha256(changed));
    expect(JSON.stringify(second.config.policy)).not.toBe(JSON.stringify(first.config.policy));
    expect(second.clients).toBe(first.clients);
    expect(Object.isFrozen(second.config.policy)).toBe(true);

    // A bad document (a typo in a duration) stops the rotation timer before it reads or writes anything.
    await upload(CONTOSO.replace(/"rotateAfter": "P\d+D"/, '"rotateAfter": "ninety days"'));
    const before = t.exchanges.length;
    const runsBefore = await runs();
    const failure = await keyRotationHandler(timer, context()).then(() => expect.fail("expected the run to stop"), (e: unknown) => e);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as ConfigError).message.split("\n")[0]).toBe(`Invalid policy document in blob ${BLOB} (1 problem):`);
    expect((failure as ConfigError).issues.map((i) => i.path)).toEqual(["managedHsms[0].keys[0].rotation.rotateAfter"]);
    expect(t.exchanges.length).toBe(before);
    expect(await runs()).toEqual(runsBefore);

    // Put right, the next run goes ahead on it, and its journal names the document it ran on.
    await upload(CONTOSO);
    logs.length = 0;
    await keyRotationHandler(timer, context()).catch(() => undefined);
    expect(logs).toContain(`Policy document: KEYWARDEN_POLICY_BLOB ${BLOB} (sha256 ${sha256(CONTOSO).slice(0, 12)}).`);
    const started = (await runs()).filter((name) => !runsBefore.includes(name) && name.endsWith("/000001.json"));
    expect(started).toHaveLength(1);
    const record = JSON.parse((await container.getBlobClient(started[0]!).downloadToBuffer()).toString("utf8")) as { type: string; details: Record<string, unknown> };
    expect(record.type).toBe("run.started");
    expect(record.details).toMatchObject({ policySource: `KEYWARDEN_POLICY_BLOB ${BLOB}`, policySha256: sha256(CONTOSO) });
  });

  it("is read by the CLI too, and --policy replaces it", async () => {
    await upload(CONTOSO);
    const out: string[] = [];
    const io = { env, stdout: (s: string) => out.push(s), stderr: (s: string) => out.push(s), readFile: (p: string) => Promise.resolve(readFileSync(p, "utf8")) };
    expect(await runCli(["validate"], io as never, { collect: () => expect.fail("validate collects nothing") })).toBe(0);
    expect(out.join("")).toContain(`Policy:        KEYWARDEN_POLICY_BLOB ${BLOB} (sha256 ${sha256(CONTOSO).slice(0, 12)})`);
    out.length = 0;
    expect(await runCli(["validate", "--policy", CONTOSO_POLICY_FILE], io as never, { collect: () => expect.fail("validate collects nothing") })).toBe(0);
    expect(out.join("")).toContain(`Policy:        KEYWARDEN_POLICY_FILE ${CONTOSO_POLICY_FILE}`);
  });
});

describe("a relative KEYWARDEN_POLICY_FILE", () => {
  it("is found from the function app's root, whatever the worker's working directory", async () => {
    const t = await startTestEmulator("contoso-reference");
    const cwd = process.cwd();
    try {
      process.chdir("/");
      const runtime = await createRuntime({ env: t.env({ KEYWARDEN_POLICY_FILE: "examples/contoso.policy.json" }) });
      expect(runtime.config.policyOrigin).toEqual({ setting: "KEYWARDEN_POLICY_FILE", location: join(appRoot(), "examples", "contoso.policy.json"), sha256: sha256(CONTOSO) });
    } finally {
      process.chdir(cwd);
      await t.close();
    }
  });
});
