/**
 * Standalone emulator: `npm run emulator -- --port 8443 --fixture contoso-drifted`, or a generated estate:
 * `npm run emulator -- --port 0 --generate subscriptions=50,consumers=10000 --latency-ms 20 --policy-out p.json`.
 * `--latency-ms` puts that delay on every operation (a persistent `*` fault that survives /_emulator/reset).
 * Writes the CA to .keywarden/emulator-ca.pem (a certificate, never a private key). Once listening it prints one
 * JSON line on stdout, `{"endpoint","caPath","hsmUri","fixture","policyPath"?}`, for a parent process to read;
 * the human-readable lines go to stderr.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import type { GenerateOptions } from "./generate.js";
import { generateEstate } from "./generate.js";
import { startEmulator } from "./index.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8443" },
    fixture: { type: "string" },
    generate: { type: "string" },
    "policy-out": { type: "string" },
    "latency-ms": { type: "string" },
    "page-size": { type: "string" },
    "lro-polls": { type: "string" },
    "ca-out": { type: "string", default: join(".keywarden", "emulator-ca.pem") },
    quiet: { type: "boolean", default: false },
  },
});

const fail = (message: string): never => {
  console.error(message);
  process.exit(2);
};

const int = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : fail(`--${name} must be an integer (got '${v}')`);
};

/** "subscriptions=50,consumers=10000[,platformKeyFraction=0.1][,seed=1]" */
function generateOptions(spec: string): GenerateOptions {
  const known = new Set(["subscriptions", "consumers", "platformKeyFraction", "seed"]);
  const o: Record<string, number> = {};
  for (const part of spec.split(",").filter(Boolean)) {
    const [k = "", v = ""] = part.split("=");
    if (!known.has(k)) fail(`--generate: unknown option '${k}'; use ${[...known].join(", ")}`);
    const n = Number(v);
    if (v === "" || !Number.isFinite(n)) fail(`--generate: ${k} must be a number (got '${v}')`);
    o[k] = n;
  }
  if (o.subscriptions === undefined || o.consumers === undefined) fail("--generate: give at least subscriptions=<n>,consumers=<n>");
  return o as unknown as GenerateOptions;
}

if (values.fixture !== undefined && values.generate !== undefined) fail("give either --fixture or --generate, not both");
let fixture: string | object = values.fixture ?? "contoso-reference";
let policyPath: string | undefined;
if (values.generate !== undefined) {
  let estate: ReturnType<typeof generateEstate> | undefined;
  try {
    estate = generateEstate(generateOptions(values.generate));
  } catch (e) {
    fail(`--generate: ${(e as Error).message}`);
  }
  fixture = estate!.fixture;
  if (values["policy-out"] !== undefined) {
    policyPath = values["policy-out"];
    await mkdir(dirname(policyPath), { recursive: true });
    await writeFile(policyPath, JSON.stringify(estate!.policy, null, 2));
  }
} else if (values["policy-out"] !== undefined) {
  fail("--policy-out needs --generate");
}

const emu = await startEmulator({
  port: int("port", values.port),
  fixture,
  pageSize: int("page-size", values["page-size"]),
  lroPolls: int("lro-polls", values["lro-polls"]),
  latencyMs: int("latency-ms", values["latency-ms"]),
  onExchange: values.quiet ? undefined : (e) => console.error(`${e.status} ${e.method} ${e.host}${e.path} ${e.operationId ?? "(unmatched)"}`),
});
const caOut = values["ca-out"]!;
await mkdir(dirname(caOut), { recursive: true });
await writeFile(caOut, emu.caPem);
const fixtureName = typeof fixture === "string" ? fixture : (fixture as { name: string }).name;
console.log(JSON.stringify({ endpoint: emu.endpoint, caPath: caOut, hsmUri: emu.hsmUri("Contoso-PROD-HSM"), fixture: fixtureName, ...(policyPath ? { policyPath } : {}) }));
console.error(`KeyWarden Azure emulator listening on ${emu.endpoint} (fixture ${fixtureName})`);
console.error(`CA certificate: ${caOut}`);
console.error(`Managed HSM data plane: ${emu.hsmUri("Contoso-PROD-HSM")} (resolve *.managedhsm.azure.net to 127.0.0.1)`);
const stop = (): void => void emu.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
