import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "hsm_security_domain_activated",
  area: "hsm",
  title: "Managed HSM security domain is activated",
  severity: "high",
  risk: "An HSM whose security domain is not active serves no key operations, and no security-domain backup under a custodian quorum exists to recover it in a disaster.",
  remediation: {
    summary:
      "Activate the HSM by downloading its security domain, wrapped by at least three custodian RSA keys with a quorum of two or more; keep the file and the private keys offline and apart.",
    cli: "az keyvault security-domain download --hsm-name <hsm-name> --sd-wrapping-keys <custodian1.cer> <custodian2.cer> <custodian3.cer> --sd-quorum <quorum> --security-domain-file <hsm-name>-SD.json",
  },
  mappings: {
    pciDss: ["3.6.1.2", "3.7.6", "12.10.1"],
    cis: ["4.0.0 9.3.10"],
    azurePolicy: [],
  },
};
