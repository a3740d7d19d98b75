import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "keys_rotation_forecast",
  area: "keys",
  title: "No consumer's key version expires before the next rotation, and no key reaches the version cap within the forecast horizon",
  severity: "high",
  risk: "A consumer left on a version that expires before the key next rotates loses the key (SQL MI databases inaccessible, CMK disks stopped, storage 403); a key that reaches the 100-version cap stops rotating.",
  remediation: {
    summary: "Move the listed consumers to the current version (or rotate now); for a key nearing the cap, plan its replacement by a new key, or rotate less often.",
    cli: "az keyvault key rotate --hsm-name <hsm-name> --name <key-name>",
  },
  mappings: {
    pciDss: ["3.7.4", "3.7.5"],
    cis: [],
    azurePolicy: [],
  },
};
