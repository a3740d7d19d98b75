/**
 * Test set-up shared by the emulator's own test files: one emulator per file, an HTTPS agent that trusts
 * its CA and resolves every host to it, and a reset before each test. Kept apart from test-support.ts,
 * which the demo and the bench import too (this one imports vitest).
 */
import https from "node:https";
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { EmulatorHandle, EmulatorOptions } from "./index.js";
import { startEmulator } from "./index.js";
import { call, loopbackLookup } from "./test-support.js";

export interface EmulatorPerFile {
  readonly emu: EmulatorHandle;
  readonly agent: https.Agent;
}

export function emulatorPerFile(options: () => EmulatorOptions, agent: { keepAlive: boolean } = { keepAlive: true }): EmulatorPerFile {
  let emu: EmulatorHandle | undefined;
  let httpsAgent: https.Agent | undefined;
  beforeAll(async () => {
    emu = await startEmulator(options());
    httpsAgent = new https.Agent({ ca: emu.caPem, lookup: loopbackLookup, keepAlive: agent.keepAlive });
  });
  afterAll(async () => {
    httpsAgent?.destroy();
    await emu?.close();
  });
  beforeEach(async () => {
    await call(emu as EmulatorHandle, "POST", "/_emulator/reset", { token: null });
  });
  return {
    get emu() {
      if (!emu) throw new Error("the emulator is not started yet (use it inside a test or hook)");
      return emu;
    },
    get agent() {
      if (!httpsAgent) throw new Error("the emulator is not started yet (use it inside a test or hook)");
      return httpsAgent;
    },
  };
}
