/** Renders the emulator's served-operation table (emulator/routes.ts) into emulator/OPERATIONS.md. */
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ROUTES } from "../emulator/routes.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const host = { hsm: "`<hsm>.managedhsm.azure.net`", eventgrid: "`<topic>.<region>-1.eventgrid.azure.net`", monitor: "`<endpoint>.<region>-1.ingest.monitor.azure.com`",
  loganalytics: "`api.loganalytics.io`",
  metrics: "`<region>.metrics.monitor.azure.com`", arm: "ARM (`127.0.0.1`)", control: "control (`127.0.0.1`, no auth)" } as const;
const esc = (s: string): string => s.replace(/\|/g, "\\|");

export function renderOperations(): string {
  const lines = [
    "<!-- generated — do not edit. Source: emulator/routes.ts; regenerate with `npm run gen:operations`. -->",
    "# Operations served by the KeyWarden Azure emulator",
    "",
    "Generated — do not edit. Anything not listed answers `501 NotImplemented` (a known path with another method answers `405`).",
    "",
    "| operationId | host | method | path template | api-versions | spec file |",
    "|---|---|---|---|---|---|",
    ...ROUTES.map((r) =>
      [
        "",
        `\`${r.operationId}\``,
        host[r.host],
        r.method,
        `\`${esc(r.template)}\``,
        r.apiVersions === "none" ? "–" : r.apiVersions === "any" ? "any" : r.apiVersions.map((v) => `\`${v}\``).join(", "),
        r.specFile ? `\`${r.specFile}\`` : "–",
        "",
      ].join(" | ").trim(),
    ),
    "",
  ];
  return lines.join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await writeFile(join(root, "emulator", "OPERATIONS.md"), renderOperations());
  console.log(`wrote emulator/OPERATIONS.md (${ROUTES.length} routes)`);
}
