/**
 * The KeyWarden Azure emulator: one HTTPS server on 127.0.0.1 serving ARM, every Managed HSM data plane, Event Grid
 * topic and data collection endpoint (by Host header) and /_emulator/* control endpoints. Contract: emulator/README.md.
 */
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Fixture } from "./fixture.js";
import { loadFixture } from "./fixture.js";
import { materialise } from "./backend/materialise.js";
import type { Runtime, RuntimeConfig } from "./backend/runtime.js";
import type { ThrottlingPatch } from "./backend/throttling.js";
import { addFault, clearFaults } from "./backend/faults.js";
import { copyThrottling, DEFAULT_THROTTLING, throttlingPatchProblem } from "./backend/throttling.js";
import { hsmBaseUrl } from "./backend/runtime.js";
import { topicEndpoint } from "./backend/eventGrid.js";
import { ingestionEndpoint } from "./backend/ingestion.js";
import type { Exchange } from "./server.js";
import { createRequestListener } from "./server.js";
import type { Route } from "./routes.js";
import { ROUTES } from "./routes.js";
import { generateTlsMaterial } from "./tls.js";

export type { Exchange } from "./server.js";
export type { Fixture, FixtureInput } from "./fixture.js";
export { FixtureError, parseFixture } from "./fixture.js";

export interface EmulatorOptions {
  /** 0 (default) = a random free port. */
  port?: number;
  /** Built-in fixture name ("contoso-reference", "contoso-drifted"), a path to a JSON file, or a fixture object. */
  fixture?: string | object;
  /** Emulator clock at start (default: real time). */
  now?: Date;
  /** Items per list page (default 25). */
  pageSize?: number;
  /** Status polls answered InProgress before Succeeded (default 2). */
  lroPolls?: number;
  /** Called with every request/response pair. */
  onExchange?: (exchange: Exchange) => void;
  /** Latency added to every ARM and data-plane operation: a persistent `{operationId: "*", latencyMs}` fault, restored by reset. */
  latencyMs?: number;
  /** ARM token buckets (default: on, ARM's budgets); the same shape as POST /_emulator/config's `throttling`. */
  throttling?: ThrottlingPatch;
}

export interface ServedOperation {
  operationId: string;
  method: string;
  host: Route["host"];
  template: string;
  apiVersions: readonly string[] | "any" | "none";
  specFile?: string;
}

export interface EmulatorHandle {
  /** https://127.0.0.1:<port> — ARM and /_emulator/* control endpoints. */
  endpoint: string;
  port: number;
  /** PEM of the CA generated at start. */
  caPem: string;
  /** https://<name-lower-case>.managedhsm.azure.net:<port>/ */
  hsmUri(name: string): string;
  /**
   * https://<topic-lower-case>.<location>-1.eventgrid.azure.net:<port>/api/events — the URL EventGridPublisherClient
   * takes. Throws a RangeError naming the estate's topics when the loaded fixture has no topic `name`.
   */
  topicEndpoint(name: string): string;
  /**
   * https://<endpoint>.<location>-1.ingest.monitor.azure.com:<port> — the data collection endpoint of rule `ruleName`, the
   * URL LogsIngestionClient takes. Throws a RangeError naming the estate's rules when the loaded fixture has no such rule.
   */
  ingestionEndpoint(ruleName: string): string;
  /** The served-operation table. */
  operations: readonly ServedOperation[];
  close(): Promise<void>;
}

function validateOptions(o: EmulatorOptions): void {
  const intIn = (name: string, v: number | undefined, min: number, max: number): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) throw new RangeError(`startEmulator: option '${name}' must be an integer from ${min} to ${max} (got ${v}).`);
  };
  intIn("port", o.port, 0, 65535);
  intIn("pageSize", o.pageSize, 1, 1000);
  intIn("lroPolls", o.lroPolls, 0, 100);
  intIn("latencyMs", o.latencyMs, 0, 60_000);
  if (o.now !== undefined && (!(o.now instanceof Date) || Number.isNaN(o.now.getTime()))) throw new TypeError("startEmulator: option 'now' must be a valid Date.");
  const throttling = o.throttling === undefined ? undefined : throttlingPatchProblem(o.throttling);
  if (throttling) throw new RangeError(`startEmulator: option '${throttling.field}' ${throttling.reason}.`);
  if (o.onExchange !== undefined && typeof o.onExchange !== "function") throw new TypeError("startEmulator: option 'onExchange' must be a function.");
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  validateOptions(options);
  let fixture: Fixture = await loadFixture(options.fixture ?? "contoso-reference");
  const tls = generateTlsMaterial();
  const start = options.now ? new Date(options.now.getTime()) : new Date();
  const throttling = copyThrottling({ ...DEFAULT_THROTTLING, ...options.throttling });
  const defaults: RuntimeConfig = { pageSize: options.pageSize ?? 25, lroPolls: options.lroPolls ?? 2, throttling };
  const freshConfig = (): RuntimeConfig => ({ ...defaults, throttling: copyThrottling(defaults.throttling) });

  const rt: Runtime = {
    state: undefined as unknown as Runtime["state"],
    fixture,
    clock: { now: start, loadedAt: start },
    config: freshConfig(),
    defaults,
    port: 0,
    endpoint: "",
    faults: [],
    counts: new Map(),
    lros: new Map(),
    buckets: new Map(),
    throttled: new Map(),
    defaultFaults: options.latencyMs ? [{ operationId: "*", latencyMs: options.latencyMs, persistent: true }] : [],
    hung: new Set(),
  };
  const restoreDefaultFaults = (): void => rt.defaultFaults.forEach((f) => addFault(rt, f));
  restoreDefaultFaults();

  /** Reset = back to the state right after the current fixture was loaded (clock included). */
  const reset = (): void => {
    rt.clock.now = new Date(rt.clock.loadedAt.getTime());
    rt.state = materialise(rt, rt.fixture, rt.clock.now);
    clearFaults(rt);
    restoreDefaultFaults();
    rt.counts.clear();
    rt.lros.clear();
    rt.buckets.clear();
    rt.throttled.clear();
    rt.config = freshConfig();
  };
  const controller = {
    reset,
    async loadFixture(source: string | object): Promise<Fixture> {
      fixture = await loadFixture(source);
      const state = materialise(rt, fixture, rt.clock.now);
      rt.fixture = fixture;
      rt.state = state;
      rt.clock.loadedAt = new Date(rt.clock.now.getTime());
      rt.lros.clear();
      return fixture;
    },
  };

  const server = createServer({ key: tls.keyPem, cert: tls.certPem, ca: [tls.caPem] }, createRequestListener(rt, controller, options.onExchange));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  rt.port = (server.address() as AddressInfo).port;
  rt.endpoint = `https://127.0.0.1:${rt.port}`;
  rt.state = materialise(rt, fixture, rt.clock.now);

  return {
    endpoint: rt.endpoint,
    port: rt.port,
    caPem: tls.caPem,
    hsmUri: (name: string) => `${hsmBaseUrl(rt, { label: name.toLowerCase() })}/`,
    topicEndpoint: (name: string) => {
      const topic = rt.state.eventGridTopics.get(name.toLowerCase());
      if (!topic) {
        const known = [...rt.state.eventGridTopics.values()].map((t) => t.name);
        throw new RangeError(`topicEndpoint: no Event Grid topic '${name}' in fixture '${rt.state.fixtureName}' (${known.length ? known.join(", ") : "it has none"}).`);
      }
      return topicEndpoint(rt, topic);
    },
    ingestionEndpoint: (ruleName: string) => {
      const rule = rt.state.dataCollectionRules.get(ruleName.toLowerCase());
      if (!rule) {
        const known = [...rt.state.dataCollectionRules.values()].map((r) => r.name);
        throw new RangeError(`ingestionEndpoint: no data collection rule '${ruleName}' in fixture '${rt.state.fixtureName}' (${known.length ? known.join(", ") : "it has none"}).`);
      }
      return ingestionEndpoint(rt, rule);
    },
    operations: ROUTES.map(({ operationId, method, host, template, apiVersions, specFile }) => ({ operationId, method, host, template, apiVersions, specFile })),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        // Hung requests count as active: destroy them, or close() would wait for the clients forever.
        for (const socket of rt.hung) socket.destroy();
        rt.hung.clear();
        server.closeAllConnections();
      }),
  };
}
