import { describe, expect, it } from "vitest";
import { REGISTERED_CONTROLS } from "../../src/lib/compliance/checks/index.js";
import { ControlRegistryError, loadControls, registryProblems, type RegisteredControl } from "../../src/lib/compliance/registry.js";

describe("the control registry", () => {
  it("loads every control: ids equal their folders, are unique, and every mapping is a real control", () => {
    expect(registryProblems(REGISTERED_CONTROLS)).toEqual([]);
    const controls = loadControls(REGISTERED_CONTROLS);
    expect(controls.length).toBe(REGISTERED_CONTROLS.length);
    expect(new Set(controls.map((c) => c.metadata.id)).size).toBe(controls.length);
  });

  it("covers every area of the catalogue", () => {
    const areas = new Set(REGISTERED_CONTROLS.map((c) => c.metadata.area));
    expect([...areas].sort()).toEqual(["disks", "hsm", "keys", "rbac", "sql", "storage"]);
  });

  const sample = REGISTERED_CONTROLS[0]!;
  const variant = (change: (c: RegisteredControl) => RegisteredControl) => [change({ ...sample, metadata: { ...sample.metadata, mappings: { ...sample.metadata.mappings } } })];

  it("refuses a control whose id differs from its folder", () => {
    expect(() => loadControls(variant((c) => ({ ...c, folder: "hsm_something_else" })))).toThrow(ControlRegistryError);
    expect(registryProblems(variant((c) => ({ ...c, folder: "hsm_something_else" })))[0]).toMatch(/differs from its folder name/);
  });

  it("refuses a mapping that names no known requirement, recommendation or policy", () => {
    const problems = registryProblems(
      variant((c) => ({ ...c, metadata: { ...c.metadata, mappings: { pciDss: ["99.9"], cis: ["9.9.9 1.1"], azurePolicy: ["00000000-0000-0000-0000-000000000000"] } } })),
    );
    expect(problems).toEqual([
      expect.stringMatching(/PCI DSS mapping "99.9" is not a known requirement/),
      expect.stringMatching(/CIS mapping "9.9.9 1.1" is not a known recommendation/),
      expect.stringMatching(/Azure Policy mapping "00000000-0000-0000-0000-000000000000" is not a known built-in/),
    ]);
  });

  it("refuses duplicate ids and ids without their area prefix", () => {
    expect(registryProblems([sample, sample]).some((p) => /used twice/.test(p))).toBe(true);
    const unprefixed = variant((c) => ({ ...c, folder: "purge_protection", metadata: { ...c.metadata, id: "purge_protection" } }));
    expect(registryProblems(unprefixed).some((p) => /not prefixed by its area/.test(p))).toBe(true);
  });
});
