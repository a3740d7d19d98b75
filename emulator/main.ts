/**
 * Standalone emulator: `npm run emulator -- --port 8443 --fixture contoso-drifted`.
 * Writes the CA to .keywarden/emulator-ca.pem (a certificate, never a private key) and prints the endpoint.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startEmulator } from "./index.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8443" },
    fixture: { type: "string", default: "contoso-reference" },
    "page-size": { type: "string" },
    "lro-polls": { type: "string" },
    "ca-out": { type: "string", default: join(".keywarden", "emulator-ca.pem") },
    quiet: { type: "boolean", default: false },
  },
});

const int = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) {
    console.error(`--${name} must be an integer (got '${v}')`);
    process.exit(2);
  }
  return n;
};

const emu = await startEmulator({
  port: int("port", values.port),
  fixture: values.fixture,
  pageSize: int("page-size", values["page-size"]),
  lroPolls: int("lro-polls", values["lro-polls"]),
  onExchange: values.quiet ? undefined : (e) => console.log(`${e.status} ${e.method} ${e.host}${e.path} ${e.operationId ?? "(unmatched)"}`),
});
const caOut = values["ca-out"]!;
await mkdir(join(caOut, ".."), { recursive: true });
await writeFile(caOut, emu.caPem);
console.log(`KeyWarden Azure emulator listening on ${emu.endpoint} (fixture ${values.fixture})`);
console.log(`CA certificate: ${caOut}`);
console.log(`Managed HSM data plane: ${emu.hsmUri("Contoso-PROD-HSM")} (resolve *.managedhsm.azure.net to 127.0.0.1)`);
const stop = (): void => void emu.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
