import { collectEstate } from "../inventory/collect.js";
import type { Runtime } from "../runtime.js";
import { lockOwner } from "../state/lockOwner.js";
import type { KeyEventDeps } from "./handleKeyEvent.js";

/** The event handler's dependencies in a function host: the worker's runtime and the real collector. */
export function eventDepsOf(runtime: Runtime, invocationId: string, log?: (line: string) => void): KeyEventDeps {
  const { config, clients, clock, store, publisher, logsSink } = runtime;
  return {
    config,
    clients,
    store,
    clock,
    collect: () => collectEstate(config, clients, clock, { deadlineMs: config.settings.requests.deadlineMs }),
    ...(publisher ? { publisher } : {}),
    ...(logsSink ? { logsSink } : {}),
    ...(log ? { log } : {}),
    owner: lockOwner(invocationId),
  };
}
