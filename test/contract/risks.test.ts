import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAzureClients } from "../../src/lib/azure/clients.js";
import { consumerRef } from "../../src/lib/estate/partRef.js";
import type { EstateSnapshot } from "../../src/lib/estate/snapshot.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { contosoWithRisks, FAILOVER_GROUP, MI_ALONE, MI_PRIMARY, MI_SECONDARY, SUB, VM_NOT_REPLICATED, VM_REPLICATED } from "../support/riskFixture.js";

const LIST = "InstanceFailoverGroups_ListByLocation";
const groupId = (rg: string, location: string) => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Sql/locations/${location}/instanceFailoverGroups/${FAILOVER_GROUP}`;

/** The two risks a rotation plan names, read through the real SDK clients from the emulator. */
describe("rotation risks: SQL MI failover groups and ASR-replicated VMs", () => {
  let t: TestEmulator;
  /** One clean collection, and the exchanges it made, shared by the tests (each collection is a whole scan's reads). */
  let clean: EstateSnapshot;
  let cleanExchanges: TestEmulator["exchanges"];
  beforeAll(async () => {
    t = await startTestEmulator(contosoWithRisks() as unknown as string);
    clean = await t.collect();
    cleanExchanges = t.exchanges.splice(0);
  });
  afterAll(() => t?.close());
  afterEach(async () => {
    await t.control("DELETE", "/_emulator/faults");
    t.exchanges.length = 0;
  });
  const instance = (s: EstateSnapshot, id: string) => s.consumers.sqlManagedInstances.find((m) => m.resourceId === id);

  it("the adapter lists a region's groups as that region sees them", async () => {
    const sql = createAzureClients((await t.config()).settings).sql;
    const [primarySide] = await sql.listInstanceFailoverGroups(SUB, "rg-contoso-sql", "southindia");
    const [secondarySide] = await sql.listInstanceFailoverGroups(SUB, "rg-contoso-sql-dr", "centralindia");
    const pairs = [{ primaryManagedInstanceId: MI_PRIMARY, partnerManagedInstanceId: MI_SECONDARY }];
    expect(primarySide).toEqual({
      id: groupId("rg-contoso-sql", "southindia"),
      name: FAILOVER_GROUP,
      location: "southindia",
      replicationRole: "Primary",
      partnerRegions: [{ location: "centralindia", replicationRole: "Secondary" }],
      managedInstancePairs: pairs,
    });
    expect(secondarySide).toMatchObject({ id: groupId("rg-contoso-sql-dr", "centralindia"), replicationRole: "Secondary", managedInstancePairs: pairs });
    expect(await sql.listInstanceFailoverGroups(SUB, "rg-contoso-sql", "centralindia")).toEqual([]);
  });

  it("gives both members their group, role and partner, with one list per resource group and region (not per instance)", async () => {
    const s = clean;
    expect(s.errors).toEqual([]);
    expect(instance(s, MI_PRIMARY)?.failoverGroups).toEqual([{ id: groupId("rg-contoso-sql", "southindia"), name: FAILOVER_GROUP, role: "Primary", partnerManagedInstanceIds: [MI_SECONDARY] }]);
    expect(instance(s, MI_SECONDARY)?.failoverGroups).toEqual([{ id: groupId("rg-contoso-sql-dr", "centralindia"), name: FAILOVER_GROUP, role: "Secondary", partnerManagedInstanceIds: [MI_PRIMARY] }]);
    expect(instance(s, MI_ALONE)?.failoverGroups).toEqual([]);
    // Three instances in two (resource group, region) pairs.
    expect(cleanExchanges.filter((e) => e.operationId === LIST).map((e) => e.path.toLowerCase()).sort()).toEqual([
      `/subscriptions/${SUB}/resourcegroups/rg-contoso-sql-dr/providers/microsoft.sql/locations/centralindia/instancefailovergroups`,
      `/subscriptions/${SUB}/resourcegroups/rg-contoso-sql/providers/microsoft.sql/locations/southindia/instancefailovergroups`,
    ]);
  });

  it("a 403 on the failover-group lists leaves every instance's groups unknown, with an error about each, and nothing else", async () => {
    await t.control("POST", "/_emulator/faults", { operationId: LIST, status: 403, code: "AuthorizationFailed", persistent: true });
    const denied = await t.collect();

    const instances = denied.consumers.sqlManagedInstances;
    expect(instances.map((m) => m.resourceId).sort()).toEqual([MI_ALONE, MI_PRIMARY, MI_SECONDARY].sort());
    expect(instances.filter((m) => m.failoverGroups !== null)).toEqual([]);
    expect(denied.errors.map((e) => [e.part, e.about, e.resourceId, e.operation, e.statusCode, e.code])).toEqual(
      [MI_ALONE, MI_PRIMARY, MI_SECONDARY]
        .sort()
        .map((id) => ["consumers.sqlManagedInstance.failoverGroups", consumerRef(id), id, "instanceFailoverGroups.listByLocation", 403, "AuthorizationFailed"]),
    );
    // Everything else is as known as before.
    const withoutGroups = (s: EstateSnapshot) => ({ ...s, collectedAt: "", errors: [], consumers: { ...s.consumers, sqlManagedInstances: s.consumers.sqlManagedInstances.map(({ failoverGroups: _f, ...m }) => m) } });
    expect(withoutGroups(denied)).toEqual(withoutGroups(clean));
  });

  it("tells an ASR-replicated VM (its SiteRecovery extension) from one that is not, from the VM list alone", async () => {
    const vms = new Map(clean.consumers.virtualMachines.map((vm) => [vm.name, vm.siteRecoveryProtected]));
    expect(vms).toEqual(new Map([[VM_REPLICATED, true], [VM_NOT_REPLICATED, false]]));
    // The list shows extensions as ids only (as ARM does); no per-VM read was needed.
    const listed = cleanExchanges.filter((e) => e.operationId === "VirtualMachines_ListAll");
    expect(listed.length).toBeGreaterThan(0);
    const resources = listed.flatMap((e) => (e.responseBody as { value: { resources?: object[] }[] }).value.flatMap((vm) => vm.resources ?? []));
    expect(resources.length).toBe(2);
    expect(resources.filter((r) => Object.keys(r).join() !== "id")).toEqual([]);
    expect(cleanExchanges.filter((e) => e.operationId === "VirtualMachines_Get" || /\/extensions/i.test(e.path))).toEqual([]);
  });
});
