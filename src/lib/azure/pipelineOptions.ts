import { Agent } from "node:https";
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from "node:dns";
import type { AppSettings } from "../config/types.js";

/**
 * Options every SDK client gets from the settings: retries and, against the emulator, trust in the
 * emulator's CA (through the clients' TLS options — TLS verification is never switched off).
 */
export interface CommonClientOptions {
  retryOptions: { maxRetries: number; retryDelayInMs: number; maxRetryDelayInMs: number };
  tlsOptions?: { ca: string };
  /** Data-plane clients against the emulator: resolves *.<managedHsmDnsSuffix> to the emulator's address. */
  agent?: Agent;
}

export function armClientOptions(settings: AppSettings): CommonClientOptions {
  return {
    retryOptions: { ...settings.retry },
    ...(settings.emulator ? { tlsOptions: { ca: settings.emulator.caPem } } : {}),
  };
}

export function dataPlaneClientOptions(settings: AppSettings): CommonClientOptions {
  const options: CommonClientOptions = { retryOptions: { ...settings.retry } };
  if (settings.emulator) {
    const emulatorHost = new URL(settings.emulator.endpoint).hostname;
    options.agent = new Agent({
      ca: settings.emulator.caPem,
      keepAlive: true,
      lookup: emulatorLookup(settings.cloud.managedHsmDnsSuffix, emulatorHost),
    });
  }
  return options;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * The emulator serves every HSM data plane on one address; HSM host names keep their real form
 * (<name>.managedhsm.azure.net) so that the Key Vault challenge's resource check still applies.
 */
function emulatorLookup(dnsSuffix: string, emulatorHost: string) {
  const suffix = `.${dnsSuffix.toLowerCase()}`;
  const address = emulatorHost === "localhost" ? "127.0.0.1" : emulatorHost.replace(/^\[|\]$/g, "");
  const family = address.includes(":") ? 6 : 4;
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    if (hostname.toLowerCase().endsWith(suffix)) {
      if ((options as LookupAllOptions).all) callback(null, [{ address, family }]);
      else callback(null, address, family);
      return;
    }
    dnsLookup(hostname, options as LookupAllOptions, callback as (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void);
  };
}
