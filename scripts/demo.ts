/**
 * `npm start`: boots the built-in Azure emulator seeded with the Contoso reference estate, runs
 * `keywarden inventory` against it through the real Azure SDK clients, then loads the same estate
 * with realistic drift and runs `keywarden scan` on it. Nothing leaves the machine.
 */
import { readFile, writeFile } from "node:fs/promises";
import { startEmulator } from "../emulator/index.js";
import { keywardenEnv } from "../emulator/keywardenEnv.js";
import { call } from "../emulator/test-support.js";
import { runCli } from "../src/cli/runCli.js";
import { collectFromAzure } from "../src/cli/wiring.js";


async function main(): Promise<number> {
  const emulator = await startEmulator({ fixture: "contoso-reference" });
  try {
    process.stderr.write(`Azure emulator listening on ${emulator.endpoint} (Contoso reference estate)\n\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, ...keywardenEnv(emulator) };
    const io = {
      stdout: (text: string) => void process.stdout.write(text),
      stderr: (text: string) => void process.stderr.write(text),
      env,
      readFile: (path: string) => readFile(path, "utf8"),
      writeFile: (path: string, contents: string) => writeFile(path, contents, "utf8"),
    };
    const inventory = await runCli(["inventory", ...process.argv.slice(2)], io, { collect: collectFromAzure });
    if (inventory !== 0) return inventory;

    const loaded = await call(emulator, "POST", "/_emulator/fixture", { body: { name: "contoso-drifted" }, token: null });
    if (loaded.status !== 200) throw new Error(`the emulator could not load the drifted estate: ${JSON.stringify(loaded.body)}`);
    process.stderr.write(`\n\nThe same estate with drift planted (emulator/fixtures/contoso-drifted.json) — keywarden scan:\n\n`);
    // Findings are the point of this demo, so they do not make `npm start` fail.
    await runCli(["scan", "--format", "md", "--fail-on", "high"], io, { collect: collectFromAzure });
    return 0;
  } finally {
    await emulator.close();
  }
}

process.exitCode = await main();
