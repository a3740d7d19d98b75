import type { ControlMetadata } from "../../types.js";

export const metadata: ControlMetadata = {
  id: "keys_estate_error_state",
  area: "keys",
  title: "No resource of the CMK estate reports an error state (failed provisioning, DES auto-rotation error, rejected or disconnected private endpoint, expired storage key version, inaccessible SQL MI)",
  severity: "high",
  risk: "An error Azure reports on the HSM or a consumer means the key path is broken or stuck even where the configured key version looks right: rotations stop being picked up, private access is cut, or data goes inaccessible.",
  remediation: {
    summary: "Read the reported error on the resource, fix its cause (identity, key version, network, a failed deployment), then re-run the operation that failed or re-save the resource's key settings.",
    cli: "az resource show --ids <resource-id> --query \"properties.{provisioningState:provisioningState, state:state, autoKeyRotationError:autoKeyRotationError}\"",
  },
  mappings: {
    pciDss: ["10.7.2", "3.7.4"],
    cis: [],
    azurePolicy: [],
  },
};
