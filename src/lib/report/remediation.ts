import type { PolicyDocument } from "../config/types.js";
import type { ControlResult, EvidenceValue } from "../compliance/types.js";
import { parseKeyReference } from "../estate/keyReference.js";
import { parseResourceId, resourceKey } from "../estate/resourceId.js";
import type { Consumer, EstateSnapshot, ManagedHsmSnapshot, RoleAssignmentSnapshot } from "../estate/snapshot.js";

/**
 * Fills a control's remediation command with the names of one finding, so it is ready to copy: the HSM, key,
 * version, resource group, resource, principal and scope come from the result's resource id and evidence, and —
 * when the renderer has them — from the snapshot and policy the report was made from. A value that cannot be
 * known stays a placeholder that says so (`<principal-object-id: not known for this finding>`); a value that is
 * the operator's decision says that (`<setting-name: your choice: a name for the diagnostic setting>`).
 *
 * Every filled value is shell-quoted when it holds anything but [A-Za-z0-9._:/=@+-], so a hostile name in the
 * estate cannot turn a copied command into another one.
 */
export interface RemediationContext {
  snapshot?: EstateSnapshot;
  policy?: PolicyDocument;
}

/** What a placeholder stands for: a fact of the finding, or a decision left to the operator (described). */
type PlaceholderKind = { fact: true } | { choice: string };

const FACT: PlaceholderKind = { fact: true };
const choice = (what: string): PlaceholderKind => ({ choice: what });

/** Every placeholder used in a control's remediation command (the coverage test keeps this list whole). */
export const PLACEHOLDERS: Readonly<Record<string, PlaceholderKind>> = {
  "hsm-name": FACT,
  "hsm-resource-id": FACT,
  "resource-group": FACT,
  "key-name": FACT,
  "key-version": FACT,
  version: FACT,
  "latest-version": FACT,
  "account-name": FACT,
  account: FACT,
  "instance-name": FACT,
  instance: FACT,
  "des-name": FACT,
  des: FACT,
  "disk-name": FACT,
  "principal-object-id": FACT,
  "caller-object-id": FACT,
  "resource-id": FACT,
  // The query API takes the workspace's GUID, which the snapshot does not hold (it has the workspace's ARM id).
  "workspace-customer-id": FACT,
  "consumer-principal-id": FACT,
  scope: FACT,
  region: FACT,
  "missing-region": FACT,
  "extended-region": FACT,
  "role-assignment-id": FACT,
  "stale-role-assignment-id": FACT,
  "broad-role-assignment-id": FACT,
  "regional-des-resource-id": FACT,
  days: FACT,
  "key-size": FACT,
  P180D: FACT,
  P1Y: FACT,
  "allowed-encryption-type": FACT,
  "new-key-name": choice("a name for the new key"),
  "setting-name": choice("a name for the diagnostic setting"),
  "log-analytics-workspace-resource-id": choice("the Log Analytics workspace that keeps the audit log"),
  "network-resource-group": choice("the resource group of the virtual network"),
  "private-endpoint-name": choice("a name for the private endpoint"),
  "connection-name": choice("a name for the private link connection"),
  "vnet-name": choice("the virtual network in that region"),
  "subnet-name": choice("a subnet of it for private endpoints"),
  quorum: choice("how many custodians must join to recover it"),
  "custodian1.cer": choice("a security officer's public key"),
  "custodian2.cer": choice("a security officer's public key"),
  "custodian3.cer": choice("a security officer's public key"),
  "yyyy-mm-ddThh:mm:ssZ": choice("the expiry time, UTC"),
};

const PLACEHOLDER = /<([^<>\n]+)>/g;
/** The HSM endpoint as the commands write it, replaced by the HSM's own URI when it is known (sovereign clouds). */
const PUBLIC_HSM_URL = "https://<hsm-name>.managedhsm.azure.net";

/** True when the filler knows the placeholder (one of PLACEHOLDERS, or a choice written as `<a|b|c>`). */
export function knowsPlaceholder(name: string): boolean {
  return Object.hasOwn(PLACEHOLDERS, name) || name.includes("|");
}

/** The placeholders a command uses, in order of appearance, without repeats. */
export function placeholdersOf(command: string): string[] {
  return [...new Set([...command.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
}

/**
 * Lookups over the snapshot and policy, built once per report (Maps by lower-cased id), so filling every
 * finding's command stays linear in the estate.
 */
export interface RemediationIndex {
  context: RemediationContext;
  hsmByHost: Map<string, ManagedHsmSnapshot>;
  hsmById: Map<string, ManagedHsmSnapshot>;
  consumerById: Map<string, Consumer>;
  /** Expected consumer id -> the HSM (ARM id) and key the policy binds it to. */
  expectedKey: Map<string, { hsmId: string; keyName: string; minKeySize: number; rotateAfter: string; expireAfter: string }>;
  /** Key name (lower-cased) of the policy -> its key policy facts, per HSM id. */
  keyPolicy: Map<string, { minKeySize: number; rotateAfter: string; expireAfter: string }>;
  /** `<hsm id>|<key name>` (lower-cased) -> the key's current version. */
  currentVersion: Map<string, string>;
  /** `<hsm id>|<principal id>` (lower-cased) -> its role assignments. */
  assignmentsByPrincipal: Map<string, RoleAssignmentSnapshot[]>;
}

export function remediationIndex(context: RemediationContext = {}): RemediationIndex {
  const { snapshot, policy } = context;
  const index: RemediationIndex = {
    context,
    hsmByHost: new Map(),
    hsmById: new Map(),
    consumerById: new Map(),
    expectedKey: new Map(),
    keyPolicy: new Map(),
    currentVersion: new Map(),
    assignmentsByPrincipal: new Map(),
  };
  for (const hsm of snapshot?.managedHsms ?? []) {
    index.hsmById.set(resourceKey(hsm.resourceId), hsm);
    const host = hostOf(hsm.hsmUri);
    if (host) index.hsmByHost.set(host, hsm);
    for (const k of hsm.keys ?? []) if (k.currentVersion) index.currentVersion.set(`${resourceKey(hsm.resourceId)}|${k.name.toLowerCase()}`, k.currentVersion);
    for (const a of hsm.roleAssignments ?? []) {
      const k = `${resourceKey(hsm.resourceId)}|${a.principalId.toLowerCase()}`;
      const list = index.assignmentsByPrincipal.get(k) ?? [];
      list.push(a);
      index.assignmentsByPrincipal.set(k, list);
    }
  }
  if (snapshot) {
    const { sqlManagedInstances, diskEncryptionSets, storageAccounts } = snapshot.consumers;
    for (const c of [...sqlManagedInstances, ...diskEncryptionSets, ...storageAccounts]) index.consumerById.set(resourceKey(c.resourceId), c);
  }
  for (const hsmPolicy of policy?.managedHsms ?? []) {
    for (const key of hsmPolicy.keys) {
      const facts = { minKeySize: key.minKeySize, rotateAfter: key.rotation.rotateAfter.iso, expireAfter: key.rotation.expireAfter.iso };
      index.keyPolicy.set(`${resourceKey(hsmPolicy.resourceId)}|${key.name.toLowerCase()}`, facts);
      for (const id of key.expectedConsumers) index.expectedKey.set(resourceKey(id), { hsmId: hsmPolicy.resourceId, keyName: key.name, ...facts });
    }
  }
  return index;
}

/** The command with this result's names filled in. Pure. */
export function fillRemediation(command: string, result: ControlResult, index: RemediationIndex = remediationIndex()): string {
  const facts = factsOf(result, index);
  const hsmUri = facts.hsmUri;
  const base = hsmUri !== undefined && command.includes(PUBLIC_HSM_URL) ? command.replaceAll(PUBLIC_HSM_URL, shellQuote(hsmUri.replace(/\/+$/, ""))) : command;
  return base.replace(PLACEHOLDER, (whole, name: string) => {
    const value = facts.values.get(name);
    if (value !== undefined) return shellQuote(value);
    const hint = facts.hints.get(name);
    if (hint !== undefined) return `<${name}: ${hint}>`;
    const kind = PLACEHOLDERS[name];
    if (kind && "choice" in kind) return `<${name}: your choice: ${kind.choice}>`;
    if (name.includes("|")) return `<one of ${name}: your choice>`;
    return kind ? `<${name}: not known for this finding>` : whole;
  });
}

interface Facts {
  values: Map<string, string>;
  /** For a placeholder with several candidate values: which (the operator runs the command once for each). */
  hints: Map<string, string>;
  hsmUri?: string;
}

/** The finding's own names, from its resource id and evidence, then the snapshot and policy. */
function factsOf(result: ControlResult, index: RemediationIndex): Facts {
  const values = new Map<string, string>();
  const hints = new Map<string, string>();
  const set = (name: string, value: string | undefined): void => {
    if (value !== undefined && value !== "" && !values.has(name)) values.set(name, value);
  };
  const [resourceId = "", fragment] = result.resourceId.split("#", 2);
  let hsm: ManagedHsmSnapshot | undefined;
  let hsmId: string | undefined;
  let hsmName: string | undefined;
  let keyName: string | undefined;
  let keyVersion: string | undefined;

  const arm = parseResourceId(resourceId);
  const key = parseKeyReference(resourceId);
  const consumer = index.consumerById.get(resourceKey(resourceId));
  if (arm) {
    set("resource-id", resourceId);
    set("resource-group", arm.resourceGroup);
    const hsmMatch = /^(.*\/providers\/Microsoft\.KeyVault\/managedHSMs\/([^/]+))(?:\/principals\/([^/]+))?$/i.exec(resourceId);
    if (hsmMatch) {
      hsmId = hsmMatch[1];
      hsmName = hsmMatch[2];
      set("principal-object-id", hsmMatch[3]);
    }
    const type = arm.type.toLowerCase();
    if (type === "storageaccounts") ["account-name", "account"].forEach((n) => set(n, arm.name));
    if (type === "managedinstances") ["instance-name", "instance"].forEach((n) => set(n, arm.name));
    if (type === "diskencryptionsets") ["des-name", "des"].forEach((n) => set(n, arm.name));
    if (type === "disks") set("disk-name", arm.name);
  } else if (key) {
    hsm = index.hsmByHost.get(key.host);
    hsmName = key.host.split(".")[0];
    keyName = key.keyName;
    keyVersion = key.version ?? undefined;
  }
  if (fragment) set("region", fragment);

  // The key the finding is about: its URLs in the evidence (observed first), else the consumer's own reference,
  // else the key the policy binds the consumer to.
  const observedUrls = keyUrlsIn(result.evidence.observed);
  const expectedUrls = keyUrlsIn(result.evidence.expected);
  const consumerRef = consumer ? consumerKeyUrl(consumer) : undefined;
  const ref = observedUrls[0] ?? (consumerRef ? parseKeyReference(consumerRef) : null) ?? expectedUrls[0];
  if (ref) {
    hsm ??= index.hsmByHost.get(ref.host);
    hsmName ??= ref.host.split(".")[0];
    keyName ??= ref.keyName;
    keyVersion ??= ref.version ?? undefined;
  }
  const bound = index.expectedKey.get(resourceKey(resourceId));
  if (bound && !keyName) {
    keyName = bound.keyName;
    hsmId ??= bound.hsmId;
  }
  hsm ??= hsmId ? index.hsmById.get(resourceKey(hsmId)) : undefined;
  if (hsm) {
    hsmName ??= hsm.name;
    hsmId ??= hsm.resourceId;
    set("resource-group", hsm.resourceGroup);
  }
  keyName ??= keyNameOfScopes(result.evidence.expected);

  set("hsm-name", hsm?.name ?? hsmName);
  set("hsm-resource-id", hsmId);
  set("key-name", keyName);
  set("key-version", keyVersion);
  set("version", keyVersion);
  const latest = expectedUrls.find((u) => u.version)?.version ?? (hsmId && keyName ? index.currentVersion.get(`${resourceKey(hsmId)}|${keyName.toLowerCase()}`) : undefined);
  set("latest-version", latest ?? undefined);

  // Principals and scopes: the finding's own principal, else the consumer's identity.
  const principals = stringsAt(result.evidence.observed, "principalId");
  set("consumer-principal-id", principals[0] ?? consumer?.identity?.principalId);
  set("principal-object-id", principals[0]);
  const scopes = unique(stringsAt(result.evidence.observed, "scope"));
  if (scopes.length === 1) set("scope", scopes[0]);
  // Callers the HSM refused (hsm_denied_requests_reviewed): one command per caller.
  const callers = unique(stringsAt(result.evidence.observed, "objectId"));
  if (callers.length === 1) set("caller-object-id", callers[0]);
  else if (callers.length > 1) hints.set("caller-object-id", `each of ${callers.join(", ")} (one command per caller)`);

  // Role assignments of the principal on this HSM: the ones to remove.
  const principal = values.get("principal-object-id") ?? values.get("consumer-principal-id");
  const assignments = hsmId && principal ? (index.assignmentsByPrincipal.get(`${resourceKey(hsmId)}|${principal.toLowerCase()}`) ?? []) : [];
  const withScopes = assignments.filter((a) => scopes.length === 0 || scopes.includes(a.scope));
  const broad = assignments.filter((a) => a.scope === "/" || a.scope === "/keys");
  if (withScopes.length > 0) {
    set("role-assignment-id", withScopes.map((a) => a.id).join(" "));
    set("stale-role-assignment-id", withScopes.map((a) => a.id).join(" "));
  }
  if (broad.length > 0) set("broad-role-assignment-id", broad.map((a) => a.id).join(" "));

  // Regions the finding names as missing (hsm_private_endpoint_every_region, hsm_extended_region_provisioned).
  const missing = missingRegions(result.evidence);
  if (missing.length === 1) {
    set("missing-region", missing[0]);
    set("extended-region", missing[0]);
  } else if (missing.length > 1) {
    for (const name of ["missing-region", "extended-region", "region"]) hints.set(name, `each of ${missing.join(", ")} (one command per region)`);
  }
  const region = stringsAt(result.evidence.expected, "region")[0];
  set("region", region);
  if (missing.length === 1) set("region", missing[0]);
  if (scopes.length > 1) hints.set("scope", `each of ${scopes.join(", ")}`);

  // Numbers the policy sets.
  const { policy } = index.context;
  set("days", numberAt(result.evidence.expected, "minSoftDeleteRetentionInDays") ?? (policy ? String(policy.thresholds.softDeleteRetentionMinDays) : undefined));
  const keyFacts = (hsmId && keyName ? index.keyPolicy.get(`${resourceKey(hsmId)}|${keyName.toLowerCase()}`) : undefined) ?? bound;
  set("key-size", numberAt(result.evidence.expected, "minKeySize") ?? numberAt(result.evidence.expected, "keySize") ?? (keyFacts ? String(keyFacts.minKeySize) : undefined));
  set("P180D", keyFacts?.rotateAfter);
  set("P1Y", keyFacts?.expireAfter);
  set("allowed-encryption-type", policy?.thresholds.allowedDiskEncryptionTypes[0]);

  return { values, hints, ...(hsm?.hsmUri ? { hsmUri: hsm.hsmUri } : {}) };
}

function consumerKeyUrl(consumer: Consumer): string | undefined {
  switch (consumer.kind) {
    case "sqlManagedInstance":
      return consumer.encryptionProtector?.keyReference?.url;
    case "diskEncryptionSet":
      return consumer.keyReference?.url;
    case "storageAccount":
      return consumer.keyReference?.url;
  }
}

function hostOf(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  try {
    return new URL(uri).host.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Every string in the evidence that is a Managed HSM / Key Vault key URL, in document order. */
function keyUrlsIn(value: EvidenceValue): NonNullable<ReturnType<typeof parseKeyReference>>[] {
  const out: NonNullable<ReturnType<typeof parseKeyReference>>[] = [];
  walk(value, (_key, v) => {
    if (typeof v === "string" && v.startsWith("https://")) {
      const ref = parseKeyReference(v);
      if (ref) out.push(ref);
    }
  });
  return out;
}

/** Values of every string field (or string array field) named `field`, in document order. */
function stringsAt(value: EvidenceValue, field: string): string[] {
  const out: string[] = [];
  walk(value, (key, v) => {
    if (key !== field) return;
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) for (const item of v) if (typeof item === "string") out.push(item);
  });
  return out;
}

function numberAt(value: EvidenceValue, field: string): string | undefined {
  let found: string | undefined;
  walk(value, (key, v) => {
    if (found === undefined && key === field && typeof v === "number") found = String(v);
  });
  return found;
}

/** `/keys/<name>` in the expected scopes names the key (rbac controls about a consumer identity). */
function keyNameOfScopes(expected: EvidenceValue): string | undefined {
  for (const scope of [...stringsAt(expected, "scopes"), ...stringsAt(expected, "consumerScopes"), ...stringsAt(expected, "roleAtScopeCovering")]) {
    const m = /^\/keys\/([^/]+)$/.exec(scope);
    if (m) return m[1];
  }
  return undefined;
}

/** Regions the expected evidence requires that the observed evidence does not show (as a name or a region). */
function missingRegions(evidence: ControlResult["evidence"]): string[] {
  const named = stringsAt(evidence.observed, "regionsWithoutApprovedEndpoint");
  if (named.length > 0) return unique(named);
  const required = [...stringsAt(evidence.expected, "approvedPrivateEndpointIn"), ...namesIn(evidence.expected, "extended")];
  if (required.length === 0) return [];
  const seen = new Set<string>();
  walk(evidence.observed, (key, v) => {
    if ((key === "name" || key === "region" || key === "location") && typeof v === "string") seen.add(v.toLowerCase());
  });
  return unique(required.filter((r) => !seen.has(r.toLowerCase())));
}

function namesIn(value: EvidenceValue, field: string): string[] {
  const out: string[] = [];
  walk(value, (key, v) => {
    if (key === field && Array.isArray(v)) for (const item of v) if (item && typeof item === "object" && !Array.isArray(item) && typeof item.name === "string") out.push(item.name);
  });
  return out;
}

function walk(value: EvidenceValue, visit: (key: string | undefined, value: EvidenceValue) => void, key?: string, depth = 0): void {
  if (depth > 8) return;
  visit(key, value);
  if (Array.isArray(value)) for (const item of value) walk(item, visit, key, depth + 1);
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, visit, k, depth + 1);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** POSIX shell quoting for a value pasted into a command. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9._:/=@+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
