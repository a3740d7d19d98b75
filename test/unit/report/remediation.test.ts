import { describe, expect, it } from "vitest";
import { REGISTERED_CONTROLS } from "../../../src/lib/compliance/checks/index.js";
import { evaluate, type ComplianceReport } from "../../../src/lib/compliance/evaluate.js";
import { loadControls } from "../../../src/lib/compliance/registry.js";
import type { ControlResult } from "../../../src/lib/compliance/types.js";
import type { EstateSnapshot } from "../../../src/lib/estate/snapshot.js";
import { fillRemediation, knowsPlaceholder, PLACEHOLDERS, placeholdersOf, remediationIndex, shellQuote } from "../../../src/lib/report/remediation.js";
import { contosoPolicy, loadSnapshot } from "../../support/snapshots.js";

const policy = contosoPolicy();
const controls = loadControls(REGISTERED_CONTROLS);
const HSM = "/subscriptions/5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10/resourceGroups/rg-contoso-hsm/providers/Microsoft.KeyVault/managedHSMs/Contoso-PROD-HSM";

/** The drifted estate with purge protection off, a short soft-delete retention and no private endpoints. */
function driftedFurther(): EstateSnapshot {
  const s = loadSnapshot("contoso-drifted");
  for (const h of s.managedHsms) {
    if (h.properties) {
      h.properties.enablePurgeProtection = false;
      h.properties.softDeleteRetentionInDays = 7;
    }
    h.privateEndpointConnections = [];
  }
  return s;
}

function filled(snapshot: EstateSnapshot, report: ComplianceReport = evaluate(snapshot, policy, controls, { now: new Date(snapshot.collectedAt) })): Map<string, string[]> {
  const index = remediationIndex({ snapshot, policy });
  const out = new Map<string, string[]>();
  for (const o of report.controls) {
    for (const r of o.results) if (r.status !== "PASS") out.set(o.metadata.id, [...(out.get(o.metadata.id) ?? []), fillRemediation(o.metadata.remediation.cli, r, index)]);
  }
  return out;
}

describe("fillRemediation", () => {
  it("knows every placeholder any control's command uses", () => {
    const used = new Map<string, string[]>();
    for (const { metadata } of REGISTERED_CONTROLS) for (const p of placeholdersOf(metadata.remediation.cli)) used.set(p, [...(used.get(p) ?? []), metadata.id]);
    expect(used.size).toBeGreaterThan(30);
    const unknown = [...used].filter(([p]) => !knowsPlaceholder(p)).map(([p, ids]) => `<${p}> in ${ids.join(", ")}`);
    expect(unknown).toEqual([]);
    // and lists none that no control uses any more
    expect(Object.keys(PLACEHOLDERS).filter((p) => !used.has(p))).toEqual([]);
  });

  it("fills the HSM, key, version, resource group and resource of each finding from the estate", () => {
    const commands = filled(driftedFurther());
    expect(commands.get("disks_des_current_version")).toEqual([
      "az disk-encryption-set update --resource-group rg-contoso-identity --name des-contoso-centralindia --key-url https://contoso-prod-hsm.managedhsm.azure.net/keys/Contoso-DISK-CMK/94997bdafc619c1e407363537debd449 --enable-auto-key-rotation true",
    ]);
    expect(commands.get("hsm_purge_protection_enabled")).toEqual(["az keyvault update-hsm --hsm-name Contoso-PROD-HSM --resource-group rg-contoso-hsm --enable-purge-protection true"]);
    expect(commands.get("keys_days_to_expiry")).toEqual(["az keyvault key rotate --hsm-name Contoso-PROD-HSM --name Contoso-STORAGE-CMK"]);
  });

  it("fills numbers the policy sets: the soft-delete retention", () => {
    expect(filled(driftedFurther()).get("hsm_soft_delete_retention")).toEqual([
      `az keyvault update-hsm --hsm-name Contoso-PROD-HSM --resource-group rg-contoso-hsm --set properties.softDeleteRetentionInDays=${policy.thresholds.softDeleteRetentionMinDays}`,
    ]);
  });

  it("fills principals, scopes and the role assignments to remove", () => {
    const commands = filled(driftedFurther());
    expect(commands.get("rbac_key_management_crypto_user")).toEqual([
      'az keyvault role assignment create --hsm-name Contoso-PROD-HSM --role "Managed HSM Crypto User" --assignee a1000000-0000-4000-8000-000000000002 --scope /keys && az keyvault role assignment delete --hsm-name Contoso-PROD-HSM --role "Managed HSM Crypto Officer" --assignee a1000000-0000-4000-8000-000000000002 --scope /',
    ]);
    const assignment = "/providers/Microsoft.Authorization/roleAssignments/82f25352-0590-4f7f-8d05-dc87d904ecba";
    expect(commands.get("rbac_service_identity_key_scoped")).toEqual([
      `az keyvault role assignment create --hsm-name Contoso-PROD-HSM --role "Managed HSM Crypto Service Encryption User" --assignee-object-id b2000000-0000-4000-8000-000000000004 --assignee-principal-type ServicePrincipal --scope /keys/Contoso-STORAGE-CMK && az keyvault role assignment delete --hsm-name Contoso-PROD-HSM --ids ${assignment}`,
    ]);
    expect(commands.get("rbac_unexpected_principals")).toEqual([`az keyvault role assignment delete --hsm-name Contoso-PROD-HSM --ids ${assignment}`]);
  });

  it("says which regions when there are several, and which values are the operator's choice", () => {
    const [command] = filled(driftedFurther()).get("hsm_private_endpoint_every_region") ?? [];
    expect(command).toContain(`--private-connection-resource-id ${HSM} `);
    expect(command).toMatch(/--location <missing-region: each of [a-z]+, [a-z]+ \(one command per region\)> /);
    expect(command).toContain("--name <private-endpoint-name: your choice: a name for the private endpoint>");
    expect(command).toContain("--vnet-name <vnet-name: your choice: the virtual network in that region>");
  });

  it("fills a missing region when there is one", () => {
    const s = loadSnapshot("contoso-reference");
    const hsm = s.managedHsms[0];
    if (!hsm?.privateEndpointConnections) throw new Error("fixture has no private endpoints");
    const dropped = hsm.privateEndpointConnections.pop();
    const [command] = filled(s).get("hsm_private_endpoint_every_region") ?? [];
    expect(dropped?.privateEndpointLocation).toBeTruthy();
    expect(command).toContain(`--location ${dropped?.privateEndpointLocation ?? "?"} `);
  });

  it("leaves a placeholder that says it is not known when nothing names the value", () => {
    const result: ControlResult = {
      controlId: "rbac_unexpected_principals",
      status: "FAIL",
      severity: "high",
      resourceId: "",
      resourceName: "(none)",
      message: "m",
      evidence: { observed: null, expected: null, observedAt: "2026-11-28T00:00:00.000Z" },
    };
    expect(fillRemediation("az keyvault role assignment delete --hsm-name <hsm-name> --ids <role-assignment-id> <custodian1.cer> <a|b>", result)).toBe(
      "az keyvault role assignment delete --hsm-name <hsm-name: not known for this finding> --ids <role-assignment-id: not known for this finding> <custodian1.cer: your choice: a security officer's public key> <one of a|b: your choice>",
    );
  });

  it("fills from the resource id alone when there is no snapshot: an ARM id, a key URL, a principal", () => {
    const at = (resourceId: string): ControlResult => ({
      controlId: "c",
      status: "FAIL",
      severity: "high",
      resourceId,
      resourceName: "n",
      message: "m",
      evidence: { observed: null, expected: null, observedAt: "2026-11-28T00:00:00.000Z" },
    });
    const sub = "/subscriptions/s/resourceGroups/rg-st/providers";
    expect(fillRemediation("--name <account-name> -g <resource-group>", at(`${sub}/Microsoft.Storage/storageAccounts/st01`))).toBe("--name st01 -g rg-st");
    expect(fillRemediation("--mi <instance-name>", at(`${sub}/Microsoft.Sql/managedInstances/mi01`))).toBe("--mi mi01");
    expect(fillRemediation("--name <disk-name>", at(`${sub}/Microsoft.Compute/disks/d01`))).toBe("--name d01");
    expect(fillRemediation("--hsm-name <hsm-name> --name <key-name> --version <key-version>", at("https://hsm-a.managedhsm.azure.net/keys/k1/v1"))).toBe("--hsm-name hsm-a --name k1 --version v1");
    expect(fillRemediation("--hsm-name <hsm-name> --assignee <principal-object-id>", at(`${sub}/Microsoft.KeyVault/managedHSMs/hsm-b/principals/p-1`))).toBe("--hsm-name hsm-b --assignee p-1");
  });

  it("uses the HSM's own endpoint (sovereign clouds) and shell-quotes a hostile name", () => {
    // the same estate in Azure China: every HSM URL on managedhsm.azure.cn
    const s = JSON.parse(JSON.stringify(driftedFurther()).replaceAll(".managedhsm.azure.net", ".managedhsm.azure.cn")) as EstateSnapshot;
    const [command] = filled(s).get("disks_des_current_version") ?? [];
    expect(command).toContain("--key-url https://contoso-prod-hsm.managedhsm.azure.cn/keys/Contoso-DISK-CMK/");
    expect(shellQuote("a'b; rm -rf /")).toBe(`'a'\\''b; rm -rf /'`);
    expect(shellQuote("rg-contoso_01.x")).toBe("rg-contoso_01.x");
  });

  it("names the refused caller, one command per caller when there are several, and the resource of an error state", () => {
    const denied = (objectIds: string[]): ControlResult => ({
      controlId: "hsm_denied_requests_reviewed",
      status: "FAIL",
      severity: "medium",
      resourceId: HSM,
      resourceName: "Contoso-PROD-HSM",
      message: "refused",
      evidence: { observed: { denied: objectIds.map((objectId) => ({ objectId, operation: "KeyGet", statusCode: 403 })) }, expected: {}, observedAt: "2026-12-01T00:00:00Z" },
    });
    const command = "az keyvault role assignment list --hsm-name <hsm-name> --assignee <caller-object-id>";
    const one = "b2000000-0000-4000-8000-0000000000aa";
    expect(fillRemediation(command, denied([one]))).toBe(`az keyvault role assignment list --hsm-name Contoso-PROD-HSM --assignee ${one}`);
    const two = "b2000000-0000-4000-8000-0000000000bb";
    expect(fillRemediation(command, denied([one, two]))).toContain(`<caller-object-id: each of ${one}, ${two} (one command per caller)>`);
    const des = "/subscriptions/5f1c2b7e-9a41-4c0e-8d7b-2f6a1e3c9b10/resourceGroups/rg-contoso-identity/providers/Microsoft.Compute/diskEncryptionSets/des-contoso-centralindia";
    const errorState: ControlResult = { ...denied([]), controlId: "keys_estate_error_state", resourceId: des, resourceName: "des-contoso-centralindia", evidence: { observed: {}, expected: {}, observedAt: "2026-12-01T00:00:00Z" } };
    expect(fillRemediation("az resource show --ids <resource-id>", errorState)).toBe(`az resource show --ids ${des}`);
    // the workspace's GUID is not in the snapshot: the placeholder says so
    expect(fillRemediation("--workspace <workspace-customer-id>", errorState)).toBe("--workspace <workspace-customer-id: not known for this finding>");
  });

  it("leaves no bare placeholder in any finding's command", () => {
    const bare = [...filled(driftedFurther())].flatMap(([id, commands]) => commands.flatMap((c) => [...c.matchAll(/<([^<>:\n]+)>/g)].map((m) => `${id}: <${m[1] ?? ""}>`)));
    expect(bare).toEqual([]);
  });
});
