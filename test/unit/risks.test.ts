import { describe, expect, it } from "vitest";
import { parseFixture } from "../../emulator/fixture.js";
import { siteRecoveryProtected } from "../../src/lib/azure/siteRecovery.js";
import { readSnapshot, SnapshotError } from "../../src/lib/estate/readSnapshot.js";
import { failoverGroupMemberships } from "../../src/lib/inventory/failoverGroupMemberships.js";
import { contosoWithRisks, MI_PRIMARY, MI_SECONDARY } from "../support/riskFixture.js";
import { loadSnapshot } from "../support/snapshots.js";

const VM = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm";

describe("ASR protection from a VM's extensions", () => {
  it("is true for ASR's extension, by name in a list (ids only) or by publisher in a GET", () => {
    expect(siteRecoveryProtected([{ id: `${VM}/extensions/SiteRecovery-Windows` }])).toBe(true);
    expect(siteRecoveryProtected([{ id: `${VM}/extensions/AzureMonitorLinuxAgent` }, { id: `${VM}/extensions/SiteRecovery-LinuxRHEL8` }])).toBe(true);
    expect(siteRecoveryProtected([{ name: "anything", publisher: "Microsoft.Azure.RecoveryServices.SiteRecovery2" }])).toBe(true);
  });

  it("is false when no extension is ASR's (none at all, or others), the publisher deciding over the name", () => {
    expect(siteRecoveryProtected(undefined)).toBe(false);
    expect(siteRecoveryProtected([])).toBe(false);
    expect(siteRecoveryProtected([{ id: `${VM}/extensions/AzureMonitorWindowsAgent` }])).toBe(false);
    expect(siteRecoveryProtected([{ name: "SiteRecovery-Windows", publisher: "Contoso.Custom" }])).toBe(false);
  });

  it("is unknown when an extension names neither its publisher nor itself", () => {
    expect(siteRecoveryProtected([{ id: `${VM}/extensions/AzureMonitorWindowsAgent` }, {}])).toBeUndefined();
    expect(siteRecoveryProtected([{}, { id: `${VM}/extensions/SiteRecovery-Windows` }])).toBe(true);
  });
});

describe("failover group memberships", () => {
  const locations = new Map([
    [MI_PRIMARY.toLowerCase(), "southindia"],
    [MI_SECONDARY.toLowerCase(), "centralindia"],
  ]);
  const view = (location: string, replicationRole: string | undefined, partnerRegions: { location?: string; replicationRole?: string }[] = []) => ({
    id: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/locations/${location}/instanceFailoverGroups/fog`,
    name: "fog",
    location,
    ...(replicationRole ? { replicationRole } : {}),
    partnerRegions,
    managedInstancePairs: [{ primaryManagedInstanceId: MI_PRIMARY, partnerManagedInstanceId: MI_SECONDARY }],
  });

  it("gives a partner seen only from the other region the role that list gives its region ('South India' = southindia)", () => {
    const m = failoverGroupMemberships(locations, [[view("centralindia", "Primary", [{ location: "South India", replicationRole: "Secondary" }])]]);
    expect(m.get(MI_PRIMARY.toLowerCase())).toEqual([{ id: view("centralindia", "x").id, name: "fog", role: "Secondary", partnerManagedInstanceIds: [MI_SECONDARY] }]);
    expect(m.get(MI_SECONDARY.toLowerCase())?.map((g) => g.role)).toEqual(["Primary"]);
  });

  it("else the opposite role, and an instance's own region's list wins when both list the group", () => {
    expect(failoverGroupMemberships(locations, [[view("centralindia", "Secondary")]]).get(MI_PRIMARY.toLowerCase())?.map((g) => g.role)).toEqual(["Primary"]);
    const both = failoverGroupMemberships(locations, [[view("centralindia", "Secondary")], [view("southindia", "Primary")]]);
    expect(both.get(MI_PRIMARY.toLowerCase())?.map((g) => [g.id, g.role])).toEqual([[view("southindia", "x").id, "Primary"]]);
    expect(failoverGroupMemberships(locations, [[view("southindia", undefined)]]).get(MI_SECONDARY.toLowerCase())).toEqual([{ id: view("southindia", "x").id, name: "fog", partnerManagedInstanceIds: [MI_PRIMARY] }]);
  });
});

describe("snapshot schema: failover groups and ASR protection", () => {
  it("round-trips known, unknown (null) and absent failover groups, and true, false and absent ASR protection", () => {
    const s = loadSnapshot();
    const [mi] = s.consumers.sqlManagedInstances;
    const [vm1, vm2] = s.consumers.virtualMachines;
    s.consumers.sqlManagedInstances = [
      { ...mi!, failoverGroups: [{ id: "/x/fog", name: "fog", role: "Primary", partnerManagedInstanceIds: [MI_SECONDARY] }] },
      { ...mi!, resourceId: MI_SECONDARY, failoverGroups: null },
      (({ failoverGroups: _f, ...rest }) => rest)({ ...mi!, resourceId: `${MI_SECONDARY}-3` }),
    ];
    s.consumers.virtualMachines = [{ ...vm1!, siteRecoveryProtected: true }, { ...vm2!, siteRecoveryProtected: false }, (({ siteRecoveryProtected: _s, ...rest }) => rest)(vm2!)];
    s.errors = [{ part: "consumers.sqlManagedInstance.failoverGroups", about: { kind: "consumer", subscription: "s", resource: MI_SECONDARY }, resourceId: MI_SECONDARY, operation: "instanceFailoverGroups.listByLocation", statusCode: 403, message: "denied" }];
    expect(readSnapshot(JSON.stringify(s), "t")).toEqual(s);
    const bad = { ...s, consumers: { ...s.consumers, virtualMachines: [{ ...vm1!, siteRecoveryProtected: "yes" }] } };
    expect(() => readSnapshot(JSON.stringify(bad), "t")).toThrow(SnapshotError);
  });
});

describe("emulator fixture: failover groups and VM extensions", () => {
  it("accepts the risks estate and refuses a group whose instance is unknown or in the primary's region", () => {
    expect(parseFixture(contosoWithRisks()).sqlFailoverGroups).toHaveLength(1);
    const withGroup = (partner: string) => ({ ...contosoWithRisks(), sqlFailoverGroups: [{ name: "fog", primary: "contoso-sqlmi-01", partner }] });
    expect(() => parseFixture(withGroup("no-such-mi"))).toThrow(/sqlFailoverGroups\.0\.partner: no SQL managed instance 'no-such-mi'/);
    expect(() => parseFixture(withGroup("contoso-sqlmi-02"))).toThrow(/sqlFailoverGroups\.0\.partner: in the primary's region 'southindia'/);
    expect(() => parseFixture(withGroup("contoso-sqlmi-01"))).toThrow(/the same instance as primary/);
  });
});
