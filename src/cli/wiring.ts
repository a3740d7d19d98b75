/**
 * The real collection path, kept apart from runCli so tests never load the Azure SDKs, and loaded lazily by
 * main.ts so `help` and `validate` work without them.
 */
import { createAzureClients } from "../lib/azure/clients.js";
import { systemClock } from "../lib/clock.js";
import type { KeyWardenConfig } from "../lib/config/types.js";
import { collectEstate } from "../lib/inventory/collect.js";
import type { EstateSnapshot } from "../lib/estate/snapshot.js";

export function collectFromAzure(config: KeyWardenConfig): Promise<EstateSnapshot> {
  return collectEstate(config, createAzureClients(config.settings), systemClock);
}
