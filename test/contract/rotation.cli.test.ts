import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvocationContext, type Timer } from "@azure/functions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli, type CliIo } from "../../src/cli/runCli.js";
import { collectFromAzure, rotationServices } from "../../src/cli/wiring.js";
import { keyRotationHandler } from "../../src/functions/keyRotation.js";
import { createRuntime, setRuntime } from "../../src/lib/runtime.js";
import { isWrite, startTestEmulator, type TestEmulator } from "../support/emulator.js";

/** `keywarden plan/rotate/verify/runs` and the rotation timer, end to end: the drifted estate on the emulator. */
describe("rotation from the command line and the timer", () => {
  let t: TestEmulator;
  let stateDir: string;
  beforeAll(async () => {
    t = await startTestEmulator("contoso-drifted");
    await t.collect();
  });
  afterAll(() => t?.close());
  beforeEach(async () => {
    await t.control("POST", "/_emulator/reset");
    await t.control("POST", "/_emulator/config", { lroRetryAfterSeconds: 0 });
    stateDir = await mkdtemp(join(tmpdir(), "keywarden-cli-state-"));
    return () => rm(stateDir, { recursive: true, force: true });
  });

  function cli(extra: Partial<CliIo> = {}, env: Record<string, string> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      stdout: (text) => void out.push(text),
      stderr: (text) => void err.push(text),
      env: t.env({ KEYWARDEN_STATE_DIR: stateDir, ...env }),
      readFile: (path) => readFile(path, "utf8"),
      writeFile: async () => undefined,
      ...extra,
    };
    return {
      run: (...argv: string[]) => runCli(argv, io, { collect: collectFromAzure, services: rotationServices }),
      out: () => out.join(""),
      err: () => err.join(""),
    };
  }

  const writes = (mark: number) => t.exchanges.slice(mark).filter(isWrite);

  it("plan prints the plan for a person and as JSON, and changes nothing", async () => {
    const mark = t.exchanges.length;
    const text = cli();
    expect(await text.run("plan")).toBe(0);
    expect(text.out()).toMatch(/Contoso-STORAGE-CMK\s+due/);
    expect(text.out()).toContain("[change] rotate key Contoso-STORAGE-CMK");
    const json = cli();
    expect(await json.run("plan", "--json", "--key", "Contoso-DISK-CMK")).toBe(0);
    const plan = JSON.parse(json.out()) as { keys: { keyName: string; status: string }[]; steps: unknown[] };
    expect(plan.keys.map((k) => [k.keyName, k.status])).toEqual([["Contoso-DISK-CMK", "propagate"]]);
    expect(plan.steps).toHaveLength(1);
    expect(writes(mark)).toEqual([]);
  });

  it("a --key the policy does not manage is a usage error naming it", async () => {
    const c = cli();
    expect(await c.run("plan", "--key", "Nope-CMK")).toBe(2);
    expect(c.err()).toContain('"Nope-CMK"');
  });

  it("rotate refuses to run unconfirmed without a terminal, and asks on one", async () => {
    const mark = t.exchanges.length;
    const piped = cli();
    expect(await piped.run("rotate")).toBe(2);
    expect(piped.err()).toMatch(/pass --yes/);
    const declined = cli({ isTerminal: true, prompt: async () => "no" });
    expect(await declined.run("rotate")).toBe(0);
    expect(declined.err()).toContain("nothing was changed");
    expect(writes(mark)).toEqual([]);
  });

  it("rotate --dry-run writes nothing; rotate --yes rotates, verifies, journals; a rerun writes nothing", async () => {
    const mark = t.exchanges.length;
    const dry = cli();
    expect(await dry.run("rotate", "--dry-run")).toBe(0);
    expect(dry.out()).toMatch(/wouldChange/);
    expect(writes(mark)).toEqual([]);

    const real = cli();
    expect(await real.run("rotate", "--yes")).toBe(0);
    expect(real.out()).toMatch(/changed .* rotated key Contoso-STORAGE-CMK/);
    expect(real.out()).toMatch(/contosoprodcmkst01\s+pending/);
    expect(writes(mark).map((e) => e.operationId).sort()).toEqual(["DiskEncryptionSets_Update", "RotateKey"]);

    const runs = cli();
    expect(await runs.run("runs", "--json")).toBe(0);
    const [runId] = JSON.parse(runs.out()) as string[];
    const journal = cli();
    expect(await journal.run("runs", "--id", runId ?? "")).toBe(0);
    expect(journal.out()).toMatch(/step\.finished rotateKey:/);

    await t.control("POST", "/_emulator/clock", { advance: "P1D" });
    const verify = cli();
    expect(await verify.run("verify")).toBe(0);
    expect(verify.out()).toMatch(/contosoprodcmkst01\s+moved/);

    const again = t.exchanges.length;
    expect(await cli().run("rotate", "--yes")).toBe(0);
    expect(writes(again)).toEqual([]);
  });

  it("verify exits 4 when a consumer is blocked: its identity cannot use its key", async () => {
    const hsm = "https://contoso-prod-hsm.managedhsm.azure.net";
    const admin = (await import("../../src/lib/azure/clients.js")).createAzureClients((await t.config({ KEYWARDEN_EMULATOR_PRINCIPAL_ID: "a1000000-0000-4000-8000-000000000001" })).settings);
    const port = new URL(t.emulator.endpoint).port;
    const rbac = admin.hsmRbac(`${hsm}:${port}/`);
    // The Central India DES lags its key; without its role it must not be switched.
    const assignments = await rbac.listRoleAssignments("/keys/Contoso-DISK-CMK");
    for (const a of assignments.filter((x) => x.properties?.principalId === "b2000000-0000-4000-8000-000000000003")) await rbac.deleteRoleAssignment(a.properties?.scope ?? "", a.name ?? "");
    const c = cli();
    expect(await c.run("verify")).toBe(4);
    expect(c.out()).toMatch(/des-contoso-centralindia\s+blocked/);
  });

  it("the timer proposes in plan mode and changes nothing; in execute mode it rotates", async () => {
    const logs: string[] = [];
    const context = () => new InvocationContext({ invocationId: "t", functionName: "keyRotation", logHandler: (_level, ...args) => void logs.push(args.map(String).join(" ")) });
    const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };
    const mark = t.exchanges.length;
    try {
      setRuntime(createRuntime({ env: t.env({ KEYWARDEN_STATE_DIR: stateDir }) }));
      await keyRotationHandler(timer, context());
      expect(writes(mark)).toEqual([]);
      expect(logs.join("\n")).toMatch(/KEYWARDEN_ROTATION_MODE is plan: nothing was changed/);

      setRuntime(createRuntime({ env: t.env({ KEYWARDEN_STATE_DIR: stateDir, KEYWARDEN_ROTATION_MODE: "execute" }) }));
      await keyRotationHandler(timer, context());
      expect(writes(mark).map((e) => e.operationId).sort()).toEqual(["DiskEncryptionSets_Update", "RotateKey"]);
      expect(logs.join("\n")).toMatch(/"event":"KeyWarden.RotationStep".*"status":"changed"/);
    } finally {
      setRuntime(undefined);
    }
  });
});
