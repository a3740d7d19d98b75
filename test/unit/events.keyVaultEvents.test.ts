import { describe, expect, it } from "vitest";
import { eventIdFor } from "../../src/lib/events/eventIdentity.js";
import { KEY_VAULT_EVENT_TYPES, keyVaultEvents } from "../../src/lib/events/keyVaultEvents.js";
import { planRotation } from "../../src/lib/rotation/planner.js";
import { contosoHsm, contosoPolicy, loadSnapshot } from "../support/snapshots.js";

const policy = contosoPolicy();

describe("keyVaultEvents", () => {
  it("announces each managed key's current version once, in the Key Vault data schema", () => {
    const snapshot = loadSnapshot();
    const events = keyVaultEvents(snapshot, policy, new Date(snapshot.collectedAt));
    const created = events.filter((e) => e.event.type === KEY_VAULT_EVENT_TYPES.newVersion);
    expect(created.map((e) => e.event.subject).sort()).toEqual(["Contoso-DISK-CMK", "Contoso-SQLMI-CMK", "Contoso-STORAGE-CMK"]);
    const hsm = contosoHsm(snapshot);
    const key = hsm.keys?.find((k) => k.name === "Contoso-SQLMI-CMK");
    const event = created.find((e) => e.event.subject === "Contoso-SQLMI-CMK")?.event;
    expect(event?.data).toEqual({
      Id: `${key?.id}/${key?.currentVersion}`,
      VaultName: "contoso-prod-hsm",
      ObjectType: "Key",
      ObjectName: "Contoso-SQLMI-CMK",
      Version: key?.currentVersion,
      NBF: null,
      EXP: Math.floor(Date.parse(String(key?.expiresOn)) / 1000),
    });
    expect(event?.source).toBe(hsm.resourceId);
    expect(event?.dataVersion).toBe("1");
    // no key of the reference estate is near expiry
    expect(events.filter((e) => e.event.type !== KEY_VAULT_EVENT_TYPES.newVersion)).toEqual([]);
  });

  it("says near expiry inside notifyBefore and expired after the expiry, with ids that depend on the fact only", () => {
    const snapshot = loadSnapshot("contoso-drifted");
    const now = new Date(snapshot.collectedAt);
    const near = keyVaultEvents(snapshot, policy, now).filter((e) => e.event.type === KEY_VAULT_EVENT_TYPES.nearExpiry);
    expect(near.map((e) => e.event.subject)).toEqual(["Contoso-STORAGE-CMK"]);
    const later = keyVaultEvents(snapshot, policy, new Date(now.getTime() + 3_600_000)).filter((e) => e.event.type === KEY_VAULT_EVENT_TYPES.nearExpiry);
    expect(later.map((e) => e.event.id)).toEqual(near.map((e) => e.event.id));
    expect(near[0]?.event.id).toBe(eventIdFor(String(near[0]?.identity)));
    expect(near[0]?.event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const storage = contosoHsm(snapshot).keys?.find((k) => k.name === "Contoso-STORAGE-CMK");
    const expiredAt = new Date(Date.parse(String(storage?.expiresOn)) + 1000);
    const after = keyVaultEvents(snapshot, policy, expiredAt).filter((e) => e.event.subject === "Contoso-STORAGE-CMK").map((e) => e.event.type);
    expect(after).toEqual([KEY_VAULT_EVENT_TYPES.newVersion, KEY_VAULT_EVENT_TYPES.expired]);
  });

  it("says nothing of a key that could not be read", () => {
    const snapshot = loadSnapshot();
    const hsm = contosoHsm(snapshot);
    hsm.keys = null;
    expect(keyVaultEvents(snapshot, policy, new Date(snapshot.collectedAt))).toEqual([]);
    // the planner agrees: nothing is known, nothing is planned
    expect(planRotation(snapshot, policy, new Date(snapshot.collectedAt)).steps).toEqual([]);
  });
});
