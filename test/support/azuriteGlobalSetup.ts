import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TestProject } from "vitest/node";

/**
 * Starts Azurite's Blob service for the state store's contract tests (from devDependencies: no global
 * install) and provides its connection string; AZURITE_BLOB_ENDPOINT (e.g. http://127.0.0.1:10000/devstoreaccount1)
 * points the tests at a running one instead.
 */

declare module "vitest" {
  export interface ProvidedContext {
    azuriteConnectionString: string;
  }
}

/** Azurite's published development account key: public, and only ever valid against Azurite. */
const DEV_ACCOUNT = "devstoreaccount1";
const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const STARTUP_TIMEOUT_MS = 20_000;

export function azuriteConnectionString(blobEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};BlobEndpoint=${blobEndpoint.replace(/\/+$/, "")};`;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.AZURITE_BLOB_ENDPOINT;
  if (given) {
    project.provide("azuriteConnectionString", azuriteConnectionString(given));
    return async () => undefined;
  }
  const location = mkdtempSync(join(tmpdir(), "keywarden-azurite-"));
  const bin = resolve(import.meta.dirname, "..", "..", "node_modules", ".bin", "azurite-blob");
  const child = spawn(bin, ["--inMemoryPersistence", "--blobHost", "127.0.0.1", "--blobPort", "0", "--skipApiVersionCheck", "--loose"], {
    cwd: location,
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const port = await listeningPort(child);
    project.provide("azuriteConnectionString", azuriteConnectionString(`http://127.0.0.1:${port}/${DEV_ACCOUNT}`));
  } catch (error) {
    child.kill("SIGTERM");
    rmSync(location, { recursive: true, force: true });
    throw error;
  }
  return async () => {
    if (child.exitCode === null) {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(location, { recursive: true, force: true });
  };
}

/** Azurite prints "Azurite Blob service successfully listens on http://127.0.0.1:PORT" once it is ready. */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolvePort, reject) => {
    let output = "";
    const timer = setTimeout(() => fail(new Error(`Azurite did not start within ${STARTUP_TIMEOUT_MS} ms; it said: ${output.slice(-2000)}`)), STARTUP_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = /successfully listens on http:\/\/[^:\s]+:(\d+)/.exec(output);
      if (match) {
        cleanup();
        // Keep draining its output, or a full pipe would block Azurite.
        child.stdout?.resume();
        child.stderr?.resume();
        resolvePort(Number(match[1]));
      }
    };
    const onExit = (code: number | null) => fail(new Error(`Azurite exited (code ${code}) before it listened; it said: ${output.slice(-2000)}`));
    const onError = (error: Error) => fail(new Error(`Azurite could not be started from node_modules/.bin/azurite-blob: ${error.message}`));
    function cleanup() {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
    }
    function fail(error: Error) {
      cleanup();
      reject(error);
    }
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
  });
}
