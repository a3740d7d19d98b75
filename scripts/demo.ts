/**
 * `npm start`: boots the built-in Azure emulator seeded with the Contoso reference estate and runs
 * `keywarden inventory` against it through the real Azure SDK clients. Nothing leaves the machine.
 */
import { readFile, writeFile } from "node:fs/promises";
import { startEmulator } from "../emulator/index.js";
import { runCli } from "../src/cli/runCli.js";
import { collectFromAzure } from "../src/cli/wiring.js";

/** KeyWarden's own identity in the reference estate (Crypto Auditor at "/", Crypto User at "/keys"). */
const KEYWARDEN_PRINCIPAL_ID = "a1000000-0000-4000-8000-000000000003";
const POLICY_FILE = "examples/contoso.policy.json";

async function main(): Promise<number> {
  const emulator = await startEmulator({ fixture: "contoso-reference" });
  try {
    process.stderr.write(`Azure emulator listening on ${emulator.endpoint} (Contoso reference estate)\n\n`);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KEYWARDEN_CLOUD: "Emulator",
      KEYWARDEN_EMULATOR_ENDPOINT: emulator.endpoint,
      KEYWARDEN_EMULATOR_CA_PEM: emulator.caPem,
      KEYWARDEN_EMULATOR_PRINCIPAL_ID: KEYWARDEN_PRINCIPAL_ID,
      KEYWARDEN_POLICY_FILE: POLICY_FILE,
    };
    return await runCli(
      ["inventory", ...process.argv.slice(2)],
      {
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
        env,
        readFile: (path) => readFile(path, "utf8"),
        writeFile: (path, contents) => writeFile(path, contents, "utf8"),
      },
      { collect: collectFromAzure },
    );
  } finally {
    await emulator.close();
  }
}

process.exitCode = await main();
