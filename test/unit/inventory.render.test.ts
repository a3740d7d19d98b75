import { describe, expect, it } from "vitest";
import { renderInventory, UNKNOWN } from "../../src/lib/inventory/render.js";
import type { EstateSnapshot } from "../../src/lib/estate/snapshot.js";
import { loadSnapshot, privateEndpointUnreadable, pushError } from "../support/snapshots.js";

/** The reference estate as collected, with one private endpoint the collector could not read. */
const fixture = (): EstateSnapshot => {
  const snapshot = loadSnapshot("contoso-reference");
  privateEndpointUnreadable(snapshot, "pe-contoso-hsm-centralindia");
  return snapshot;
};

/** The lines of one section, from its title to the next blank line. */
function sectionLines(text: string, title: string): string[] {
  const lines = text.split("\n");
  const start = lines.indexOf(title);
  expect(start, `section "${title}"`).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf("", start);
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

const row = (lines: string[], ...cells: string[]): string | undefined =>
  lines.find((line) => cells.every((cell) => line.includes(cell)));

describe("renderInventory", () => {
  const text = renderInventory(fixture());

  it("summarises the snapshot", () => {
    expect(text.startsWith("KeyWarden estate snapshot\n")).toBe(true);
    expect(text).toContain("Collected at       2026-11-28 00:00Z");
    expect(text).toContain("Collection errors  1 (listed at the end)");
  });

  it("shows the HSM's properties, regions, private endpoints and diagnostic settings", () => {
    const hsm = sectionLines(text, "Managed HSM Contoso-PROD-HSM");
    expect(row(hsm, "Purge protection", "enabled")).toBeDefined();
    expect(row(hsm, "Soft delete", "enabled, retention 90 days")).toBeDefined();
    expect(row(hsm, "Public network access", "Disabled")).toBeDefined();

    const regions = sectionLines(text, "Regions");
    expect(row(regions, "southindia", "yes", "Succeeded")).toBeDefined();
    expect(row(regions, "centralindia", "no", "Succeeded")).toBeDefined();

    const endpoints = sectionLines(text, "Private endpoints");
    expect(row(endpoints, "pe-contoso-hsm-southindia", "southindia", "Approved")).toBeDefined();
    // The endpoint whose region could not be read says so instead of leaving a blank.
    expect(row(endpoints, "pe-contoso-hsm-centralindia", UNKNOWN, "Approved")).toBeDefined();

    expect(row(sectionLines(text, "Diagnostic settings"), "hsm-audit", "law-contoso-security", "audit")).toBeDefined();
  });

  it("lists one row per key version with the current one marked", () => {
    const keys = sectionLines(text, "Keys (one row per version)");
    expect(keys[0]).toMatch(/^ {2}KEY +TYPE +VERSION +ENABLED +CREATED +EXPIRES +CURRENT$/);
    expect(keys.filter((line) => line.includes("Contoso-SQLMI-CMK"))).toHaveLength(2);
    expect(row(keys, "Contoso-SQLMI-CMK", "RSA-HSM 3072", "59bc4f25", "yes", "2026-11-08 00:00Z", "2027-11-08 00:00Z")?.trimEnd().endsWith("yes")).toBe(true);
    expect(row(keys, "Contoso-SQLMI-CMK", "f9ef3e01", "2026-05-12 00:00Z")?.trimEnd().endsWith("yes")).toBe(false);
    expect(row(sectionLines(text, "Rotation policies"), "Contoso-DISK-CMK", "P1Y", "Rotate P180D after create")).toBeDefined();
  });

  it("shows role assignments with names from the policy when given", () => {
    const plain = sectionLines(text, "Role assignments");
    expect(row(plain, "a1000000-0000-4000-8000-000000000002", "Managed HSM Crypto User", "/")).toBeDefined();
    expect(row(plain, "b2000000-0000-4000-8000-000000000001", "Managed HSM Crypto Service Encryption User", "/keys/Contoso-SQLMI-CMK")).toBeDefined();

    const named = renderInventory(fixture(), { principalNames: new Map([["a1000000-0000-4000-8000-000000000001", "Security officers"]]) });
    expect(row(sectionLines(named, "Role assignments"), "a1000000-0000-4000-8000-000000000001 (Security officers)", "Managed HSM Administrator")).toBeDefined();
  });

  it("shows every kind of consumer", () => {
    expect(row(sectionLines(text, "SQL managed instances"), "contoso-sqlmi-01", "AzureKeyVault", "Contoso-SQLMI-CMK (contoso-prod-hsm)", "59bc4f25", "off")).toBeDefined();
    const des = sectionLines(text, "Disk encryption sets");
    expect(row(des, "des-contoso-centralindia", "centralindia", "Contoso-DISK-CMK", "94997bda", "on")).toBeDefined();
    const disks = sectionLines(text, "Disks and virtual machines");
    expect(row(disks, "contoso-dc-ci-01", "contoso-dc-ci-01-datadisk-0", "data (lun 0)", "EncryptionAtRestWithCustomerKey", "des-contoso-centralindia")).toBeDefined();
    const storage = sectionLines(text, "Storage accounts");
    expect(row(storage, "contosoprodcmkst01", "Contoso-STORAGE-CMK", "versionless", "fe8a4f0a")).toBeDefined();
  });

  it("shows a storage account back on platform-managed keys as such", () => {
    const snapshot = fixture();
    const [account] = snapshot.consumers.storageAccounts ?? [];
    if (account === undefined) throw new Error("fixture has no storage account");
    Object.assign(account, { keySource: "Microsoft.Storage", keyVaultUri: undefined, keyName: undefined, keyReference: null, currentVersionedKeyIdentifier: undefined });
    expect(row(sectionLines(renderInventory(snapshot), "Storage accounts"), "contosoprodcmkst01", "Microsoft.Storage", "platform-managed")).toBeDefined();
  });

  it("lists every collection error with part, resource, code and message", () => {
    const errors = text.slice(text.indexOf("Collection errors\n=================")).split("\n");
    expect(errors).toContain("  1. part       managedHsm.privateEndpoint");
    expect(errors.some((line) => line.includes("resource   /subscriptions/") && line.endsWith("privateEndpoints/pe-contoso-hsm-centralindia"))).toBe(true);
    expect(errors).toContain("     operation  privateEndpoints.get");
    expect(errors).toContain("     code       403 AuthorizationFailed");
    expect(errors.some((line) => line.startsWith("     message    The client 'a1000000-0000-4000-8000-000000000003'"))).toBe(true);
  });

  it("prints unknown parts as unknown, never as blank or none", () => {
    const snapshot = fixture();
    const [hsm] = snapshot.managedHsms;
    if (hsm === undefined) throw new Error("fixture has no HSM");
    hsm.properties = null;
    hsm.regions = null;
    hsm.keys = null;
    hsm.roleAssignments = null;
    const sub = snapshot.subscriptions[0] ?? "";
    snapshot.consumers.storageAccounts = [];
    snapshot.consumers.disks = [];
    pushError(snapshot, { part: "consumers.storageAccounts", resourceId: `/subscriptions/${sub}`, operation: "storageAccounts.list", statusCode: 403, message: "denied" });
    pushError(snapshot, { part: "consumers.disks", resourceId: `/subscriptions/${sub}`, operation: "disks.list", statusCode: 403, message: "denied" });
    const [mi] = snapshot.consumers.sqlManagedInstances ?? [];
    if (mi !== undefined) mi.encryptionProtector = null;

    const rendered = renderInventory(snapshot);
    expect(rendered).toMatch(/^ {2}Properties +unknown \(see collection errors\)$/m);
    for (const title of ["Regions", "Keys (one row per version)", "Rotation policies", "Role assignments"]) {
      expect(sectionLines(rendered, title), title).toEqual([`  ${UNKNOWN}`]);
    }
    expect(sectionLines(rendered, "Storage accounts")).toEqual([`  subscription ${sub}: ${UNKNOWN}`]);
    expect(row(sectionLines(rendered, "SQL managed instances"), "contoso-sqlmi-01", UNKNOWN)).toBeDefined();
    expect(sectionLines(rendered, "Disks and virtual machines")).toContain(`  subscription ${sub}: ${UNKNOWN}`);
  });

  it("tells an empty list from an unknown one", () => {
    const snapshot = fixture();
    snapshot.consumers.storageAccounts = [];
    snapshot.errors = [];
    const rendered = renderInventory(snapshot);
    expect(sectionLines(rendered, "Storage accounts")).toEqual(["  none"]);
    expect(rendered.endsWith("Collection errors\n=================\n  none\n")).toBe(true);
  });

  it("keeps control characters from Azure out of the terminal", () => {
    const snapshot = fixture();
    const [error] = snapshot.errors;
    if (error === undefined) throw new Error("fixture has no error");
    error.message = "first line\nsecond \u001b[31mline";
    const rendered = renderInventory(snapshot);
    expect(rendered).not.toContain("\u001b");
    expect(rendered).toContain("message    first line second [31mline");
  });
});
