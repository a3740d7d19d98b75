/**
 * The benchmark's emulator: `emulator/main.ts` in a child process (so that its CPU and memory are not counted as
 * KeyWarden's), always from its sources through tsx. Resolves once it listens, with the line it prints then.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { KEYWARDEN_PRINCIPAL_ID } from "../emulator/keywardenEnv.js";

export interface BenchEmulator {
  child: ChildProcess;
  endpoint: string;
  caPath: string;
  policyPath?: string;
}

/** `args` are emulator/main.ts options after the port, CA and quiet ones (e.g. --fixture, --latency-ms). */
export async function startBenchEmulator(root: string, work: string, args: string[]): Promise<BenchEmulator> {
  const node = [...(process.env.BENCH_EMULATOR_NODE_ARGS?.split(" ").filter(Boolean) ?? []), "--import", "tsx", join(root, "emulator", "main.ts"), "--port", "0", "--quiet", "--ca-out", join(work, "ca.pem"), ...args];
  const child = spawn(process.execPath, node, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  const ready = await new Promise<{ endpoint: string; caPath: string; policyPath?: string }>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the emulator exited (${code}) before it listened`)));
    createInterface({ input: child.stdout! }).once("line", (line) => resolve(JSON.parse(line) as { endpoint: string; caPath: string; policyPath?: string }));
  });
  return { child, ...ready };
}

/**
 * KeyWarden's settings against the benchmark's emulator. The request layer's settings can be varied from the
 * outside (e.g. KEYWARDEN_MAX_CONCURRENCY); `extra` names more settings to pass through.
 */
export function benchKeywardenEnv(ready: Pick<BenchEmulator, "endpoint" | "caPath">, policyPath: string, extra: readonly string[] = []): Record<string, string> {
  const passed = new Set(["KEYWARDEN_MAX_CONCURRENCY", "KEYWARDEN_TRY_TIMEOUT_MS", "KEYWARDEN_DEADLINE_MS", "KEYWARDEN_MAX_RETRIES", ...extra]);
  return {
    KEYWARDEN_CLOUD: "Emulator",
    KEYWARDEN_EMULATOR_ENDPOINT: ready.endpoint,
    KEYWARDEN_EMULATOR_CA_FILE: ready.caPath,
    KEYWARDEN_EMULATOR_PRINCIPAL_ID: KEYWARDEN_PRINCIPAL_ID,
    KEYWARDEN_POLICY_FILE: policyPath,
    ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => passed.has(e[0]) && e[1] !== undefined)),
  };
}

/**
 * Warms the emulator's code with `scans` whole collections from a process of its own (bench-emulator-warmup.ts),
 * so that neither the emulator's JIT nor KeyWarden's is counted where it is not KeyWarden's to pay.
 */
export async function warmEmulator(ready: BenchEmulator, policyPath: string, scans: number): Promise<void> {
  const child = spawn(process.execPath, [join(import.meta.dirname, "bench-emulator-warmup.js"), JSON.stringify({ endpoint: ready.endpoint, caPath: ready.caPath, policyPath, scans })], { stdio: ["ignore", "inherit", "inherit"] });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`warming the emulator failed (exit ${code})`);
}

/** CPU a side spent: its whole process (V8's compiler and GC threads too) and its main thread (absent without /proc). */
export interface SideCpu {
  processMs: number;
  mainThreadMs?: number;
}

/**
 * Starts a window over the CPU both sides spend (KeyWarden is this process); the function it returns reads what each
 * spent since. A Node process's CPU includes V8's compiler and GC threads; what one event loop can get through is its
 * main thread's, read from /proc (Linux).
 */
export function startCpuWindow(emulatorPid: number | undefined): () => { keywarden: SideCpu; emulator: SideCpu } {
  const self0 = process.cpuUsage();
  const selfMain0 = statCpuMs(`/proc/${process.pid}/task/${process.pid}/stat`);
  const emulator0 = statCpuMs(`/proc/${emulatorPid}/stat`) ?? 0;
  const emulatorMain0 = statCpuMs(`/proc/${emulatorPid}/task/${emulatorPid}/stat`);
  return () => {
    const self = process.cpuUsage(self0);
    return {
      keywarden: { processMs: (self.user + self.system) / 1000, mainThreadMs: since(statCpuMs(`/proc/${process.pid}/task/${process.pid}/stat`), selfMain0) },
      emulator: { processMs: (statCpuMs(`/proc/${emulatorPid}/stat`) ?? 0) - emulator0, mainThreadMs: since(statCpuMs(`/proc/${emulatorPid}/task/${emulatorPid}/stat`), emulatorMain0) },
    };
  };
}

const since = (now: number | undefined, then: number | undefined): number | undefined => (now === undefined || then === undefined ? undefined : now - then);

/** CPU time (user + system) in a /proc stat file; undefined where it cannot be read. */
function statCpuMs(path: string): number | undefined {
  try {
    const fields = readFileSync(path, "utf8").split(") ")[1]?.split(" ") ?? [];
    const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    return Number.isFinite(ms) ? ms : undefined;
  } catch {
    return undefined;
  }
}
