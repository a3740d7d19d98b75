/**
 * The name Azure SQL requires for a managed-instance key: `<vault or HSM name>_<key name>_<key version>`, the
 * vault or HSM name being the first DNS label of its data-plane host.
 */
export function sqlServerKeyName(hsmUri: string, keyName: string, version: string): string {
  const label = new URL(hsmUri).hostname.split(".")[0] ?? "";
  return `${label}_${keyName}_${version}`;
}
