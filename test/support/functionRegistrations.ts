/**
 * Prints, as one JSON line, every function that src/functions/*.ts registers, with its bindings as the Functions
 * host receives them. Run in a child process (`node --import tsx test/support/functionRegistrations.ts`): it
 * stands in for `@azure/functions-core`, the module the Functions host puts in its worker, so that `app.http`
 * and friends register instead of being skipped in test mode. The bindings are the library's own output, its
 * defaults applied (an HTTP trigger without `authLevel` comes out "anonymous").
 */
import { readdirSync } from "node:fs";
import Module from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

interface Registration {
  name: string;
  bindings: Record<string, { type: string; direction: string; authLevel?: string; route?: string; methods?: string[] }>;
}

const registered: Registration[] = [];
const coreApi = {
  setProgrammingModel: () => undefined,
  registerFunction: (metadata: Registration) => {
    registered.push({ name: metadata.name, bindings: metadata.bindings });
    return { dispose: () => undefined };
  },
};
const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
const load = loader._load;
loader._load = (request, ...rest) => (request === "@azure/functions-core" ? coreApi : load(request, ...rest));

const dir = join(import.meta.dirname, "..", "..", "src", "functions");
const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts")).sort();
for (const file of files) await import(pathToFileURL(join(dir, file)).href);
process.stdout.write(`${JSON.stringify({ files, registered })}\n`);
