/** Entry point: `tsx src/cli/main.ts <command>` (and bin/keywarden.js). Binds runCli to the real process. */
import { readFile, writeFile } from "node:fs/promises";
import { createInterface } from "node:readline/promises";
import { runCli } from "./runCli.js";

const exitCode = await runCli(
  process.argv.slice(2),
  {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    readFile: (path) => readFile(path, "utf8"),
    writeFile: (path, contents) => writeFile(path, contents, "utf8"),
    isTerminal: process.stdin.isTTY === true && process.stderr.isTTY === true,
    prompt: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
  },
  {
    collect: async (config) => {
      const { collectFromAzure } = await import("./wiring.js");
      return collectFromAzure(config);
    },
    clients: async (config) => {
      const { azureClients } = await import("./wiring.js");
      return azureClients(config);
    },
    services: async (config) => {
      const { rotationServices } = await import("./wiring.js");
      return rotationServices(config);
    },
  },
);
process.exitCode = exitCode;
