import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../emulator/test-support.js";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { contosoWithRisks, MI_ALONE, MI_PRIMARY } from "../support/riskFixture.js";

const PROTECTOR = "encryptionProtector/current?api-version=2020-11-01-preview";
const serverKey = (version: 0 | 1, keys: Record<string, string>) => keys[`@${version}`] ?? "";

/**
 * Azure wants the new protector's key on the geo-secondary before the primary's protector moves (TDE BYOK
 * overview, §Geo-replication); the emulator refuses the protector otherwise, so the fault matrix's ordering is tested.
 */
describe("emulator: an encryption protector in a failover group needs its key on the partner first", () => {
  let t: TestEmulator;
  const keyNames: Record<string, string> = {};
  beforeAll(async () => {
    const fixture = contosoWithRisks();
    // The geo-secondary holds only version 1: version 0 is on the primary alone.
    const instances = fixture.sqlManagedInstances ?? [];
    const secondary = instances[1];
    if (!secondary?.keys || secondary.keys.length !== 2) throw new Error("contosoWithRisks changed: its secondary no longer holds two keys");
    secondary.keys = secondary.keys.slice(1);
    t = await startTestEmulator(fixture as unknown as string);
    await t.control("POST", "/_emulator/config", { lroRetryAfterSeconds: 0 });
    const listed = await call(t.emulator, "GET", `${MI_PRIMARY}/keys?api-version=2020-11-01-preview`);
    const names = (listed.body as { value: { name: string }[] }).value.map((k) => k.name).sort();
    expect(names.length).toBe(2);
    // <hsm>_<key>_<version>; the fixture's version 0 was created first.
    const created = (listed.body as { value: { name: string; properties: { creationDate: string } }[] }).value.sort((a, b) => a.properties.creationDate.localeCompare(b.properties.creationDate));
    keyNames["@0"] = created[0]?.name ?? "";
    keyNames["@1"] = created[1]?.name ?? "";
  });
  afterAll(() => t?.close());

  const put = (instanceId: string, version: 0 | 1) =>
    call(t.emulator, "PUT", `${instanceId}/${PROTECTOR}`, { body: { properties: { serverKeyType: "AzureKeyVault", serverKeyName: serverKey(version, keyNames) } } });

  it("refuses the primary's protector on a version its partner does not hold, naming the partner", async () => {
    const r = await put(MI_PRIMARY, 0);
    expect([r.status, (r.body as { error: { code: string } }).error.code]).toEqual([400, "SameKeyMaterialNotFoundOnRemoteServer"]);
    expect((r.body as { error: { message: string } }).error.message).toContain("contoso-sqlmi-dr-01");
  });

  it("accepts it on a version the partner holds, and on an instance in no group", async () => {
    expect((await put(MI_PRIMARY, 1)).status).toBe(202);
    expect((await put(MI_ALONE, 0)).status).toBe(202);
  });
});
