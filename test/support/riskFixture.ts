import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURE_DIR, type FixtureInput } from "../../emulator/fixture.js";

export const SUB = "5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10";
const mi = (rg: string, name: string) => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Sql/managedInstances/${name}`;
export const MI_PRIMARY = mi("rg-contoso-sql", "contoso-sqlmi-01");
export const MI_SECONDARY = mi("rg-contoso-sql-dr", "contoso-sqlmi-dr-01");
/** In the primary's resource group and region, in no failover group. */
export const MI_ALONE = mi("rg-contoso-sql", "contoso-sqlmi-02");
export const FAILOVER_GROUP = "fog-contoso-sql";
export const VM_REPLICATED = "contoso-dc-si-01";
export const VM_NOT_REPLICATED = "contoso-dc-ci-01";

/**
 * The Contoso reference estate with the two risks a rotation plan names: its SQL MI in an instance failover group
 * with a geo-secondary in centralindia (plus an instance in no group), and one domain controller replicated by ASR
 * (the other carries an unrelated extension).
 */
export function contosoWithRisks(): FixtureInput {
  const reference = JSON.parse(readFileSync(join(FIXTURE_DIR, "contoso-reference.json"), "utf8")) as FixtureInput;
  const primary = reference.sqlManagedInstances![0]!;
  const instance = (name: string, resourceGroup: string, location: string, principalId: string) => ({
    ...primary,
    name,
    resourceGroup,
    location,
    identity: { type: "SystemAssigned" as const, principalId },
  });
  return {
    ...reference,
    name: "contoso-risks",
    sqlManagedInstances: [
      primary,
      instance("contoso-sqlmi-dr-01", "rg-contoso-sql-dr", "centralindia", "b2000000-0000-4000-8000-0000000000a1"),
      instance("contoso-sqlmi-02", "rg-contoso-sql", "southindia", "b2000000-0000-4000-8000-0000000000a2"),
    ],
    sqlFailoverGroups: [{ name: FAILOVER_GROUP, primary: primary.name, partner: "contoso-sqlmi-dr-01", readWriteFailoverPolicy: "Automatic", gracePeriodMinutes: 60 }],
    virtualMachines: reference.virtualMachines!.map((vm) =>
      vm.name === VM_REPLICATED
        ? { ...vm, siteRecovery: true }
        : { ...vm, extensions: [{ name: "AzureMonitorWindowsAgent", publisher: "Microsoft.Azure.Monitor", type: "AzureMonitorWindowsAgent" }] },
    ),
  };
}
