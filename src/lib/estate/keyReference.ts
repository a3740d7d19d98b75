import type { KeyReference } from "./snapshot.js";

/**
 * Parses a key URL as consumers hold it: `https://<host>/keys/<name>[/<version>]`.
 * Returns undefined for anything that is not a Key Vault / Managed HSM key URL.
 */
export function parseKeyReference(url: string | undefined): KeyReference | null {
  if (!url) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== "https:") return null;
  const parts = u.pathname.split("/").filter((p) => p.length > 0);
  if (parts.length < 2 || parts.length > 3 || parts[0]?.toLowerCase() !== "keys") return null;
  const version = parts[2] ?? "";
  return { url, host: u.host.toLowerCase(), keyName: parts[1] as string, version: version === "" ? null : version };
}

/** Host (with port, if any) of an HSM data-plane URI, lower-cased, for comparing with KeyReference.host. */
export function hsmHost(hsmUri: string): string {
  // Asked once per consumer per control, of the same few HSM URIs: parse each once.
  let host = hosts.get(hsmUri);
  if (host === undefined) {
    host = new URL(hsmUri).host.toLowerCase();
    if (hosts.size < 1000) hosts.set(hsmUri, host);
  }
  return host;
}

const hosts = new Map<string, string>();

/** Builds the key URL a storage account uses from its vault URI, key name and (optional) version. */
export function storageKeyUrl(keyVaultUri: string | undefined, keyName: string | undefined, keyVersion: string | undefined): string | undefined {
  if (!keyVaultUri || !keyName) return undefined;
  const base = keyVaultUri.replace(/\/+$/, "");
  return keyVersion ? `${base}/keys/${keyName}/${keyVersion}` : `${base}/keys/${keyName}`;
}
