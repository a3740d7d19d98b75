/**
 * Warms the benchmark's emulator from a process of its own: collects the whole estate `scans` times, then exits.
 * The emulator stands in for Azure, whose servers are never cold; run cold, its JIT compiled on the bench's two
 * cores while KeyWarden collected, 2.3–3.7 s of the emulator's CPU in the first 10,000-consumer collection against
 * 0.7–1.0 s once warm. From another process, so that none of KeyWarden's own code is compiled by it: KeyWarden is
 * measured as a function worker is after its first invocation (bench-estate.ts), not after these scans.
 * Usage: node bench-emulator-warmup.js '{"endpoint":…,"caPath":…,"policyPath":…,"scans":2}'.
 */
import { readFile } from "node:fs/promises";
import { createAzureClients } from "../src/lib/azure/clients.js";
import { createRequestLayer, requestLayerOptions } from "../src/lib/azure/requests.js";
import { systemClock } from "../src/lib/clock.js";
import { loadConfig } from "../src/lib/config/load.js";
import { collectEstate } from "../src/lib/inventory/collect.js";
import { benchKeywardenEnv, type BenchEmulator } from "./bench-emulator.js";

const { scans, ...ready } = JSON.parse(process.argv[2] ?? "{}") as Omit<BenchEmulator, "child"> & { policyPath: string; scans: number };
const config = await loadConfig({ env: benchKeywardenEnv(ready, ready.policyPath), readFile: (p) => readFile(p, "utf8") });
const clients = createAzureClients(config.settings, undefined, createRequestLayer(requestLayerOptions(config.settings)));
for (let i = 0; i < scans; i++) {
  const snapshot = await collectEstate(config, clients, systemClock);
  if (snapshot.errors.length > 0) throw new Error(`warming the emulator, a scan saw ${snapshot.errors.length} collection errors (the first: ${snapshot.errors[0]?.operation} ${snapshot.errors[0]?.message})`);
}
