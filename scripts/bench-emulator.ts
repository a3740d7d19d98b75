/**
 * The benchmark's emulator: `emulator/main.ts` in a child process (so that its CPU and memory are not counted as
 * KeyWarden's), always from its sources through tsx. Resolves once it listens, with the line it prints then.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

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

/** CPU time (user + system) of a process so far, every thread of it, from /proc (Linux); 0 where /proc is not there. */
export function processCpuMs(pid: number | undefined): number {
  return statCpuMs(`/proc/${pid}/stat`) ?? 0;
}

/**
 * CPU time of a process's main thread so far, from /proc (Linux); undefined where /proc is not there. A Node
 * process's CPU includes V8's compiler and GC threads; what one event loop can get through is its main thread's.
 */
export function mainThreadCpuMs(pid: number | undefined): number | undefined {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

/** CPU time from `then` to `now` (either undefined: undefined). */
export function cpuSince(now: number | undefined, then: number | undefined): number | undefined {
  return now === undefined || then === undefined ? undefined : now - then;
}

function statCpuMs(path: string): number | undefined {
  try {
    const fields = readFileSync(path, "utf8").split(") ")[1]?.split(" ") ?? [];
    const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    return Number.isFinite(ms) ? ms : undefined;
  } catch {
    return undefined;
  }
}
