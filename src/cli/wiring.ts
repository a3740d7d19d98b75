/**
 * The real collection path, kept apart from runCli so tests never load the Azure SDKs, and loaded lazily by
 * main.ts so `help` and `validate` work without them.
 */
import { createAzureClients, type AzureClients } from "../lib/azure/clients.js";
import { createLogsSink } from "../lib/azure/logsIngestion.js";
import { systemClock } from "../lib/clock.js";
import type { KeyWardenConfig } from "../lib/config/types.js";
import { collectEstate } from "../lib/inventory/collect.js";
import type { EstateSnapshot } from "../lib/estate/snapshot.js";
import { createStateStore } from "../lib/state/createStateStore.js";
import type { RotationServices } from "./rotationCommands.js";

export function collectFromAzure(config: KeyWardenConfig): Promise<EstateSnapshot> {
  return collectEstate(config, createAzureClients(config.settings), systemClock);
}

/** The Azure clients alone (setup-roles needs no state store). */
export async function azureClients(config: KeyWardenConfig): Promise<AzureClients> {
  return createAzureClients(config.settings);
}

/** The write path's parts for plan/rotate/verify/runs, the history, and scan --emit. */
export async function rotationServices(config: KeyWardenConfig): Promise<RotationServices> {
  const { monitor } = config.settings;
  return {
    clients: createAzureClients(config.settings),
    store: createStateStore(config.settings, systemClock),
    ...(monitor ? { logsSink: createLogsSink({ ...config.settings, monitor }) } : {}),
  };
}
