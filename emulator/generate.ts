/**
 * Generated estates for the benchmark and scale tests: one Managed HSM like Contoso's (primary southindia,
 * extended centralindia, three keys for SQL, disks and storage) and `consumers` consumers spread over
 * `subscriptions` subscriptions, with a KeyWarden policy document naming the HSM, its keys and every subscription.
 *
 * The mix is fixed: 10 % SQL managed instances, 40 % VMs (an OS disk and one data disk each, behind their
 * region's DES), 50 % storage accounts; consumer i lives in subscription i mod N, in southindia or centralindia
 * alternately. Every subscription has a DES in each region. `platformKeyFraction` of each kind (chosen by the
 * seed) use platform keys: SQL MI service-managed TDE, VM disks without a DES, Microsoft.Storage keys. The policy
 * lists the platform-keyed SQL MIs and storage accounts (and every DES) as expected consumers, so a scan fails
 * exactly those; platform-keyed VMs are out of KeyWarden's scope (no VM consumer kind) and pass silently.
 *
 * Consumers reach their keys through three user-assigned identities (SQL, disks, storage), each a Crypto Service
 * Encryption User at its own key's scope: per-consumer system identities would exceed Managed HSM's limit of
 * role assignments per key scope, which KeyWarden reports.
 */
import { createHash } from "node:crypto";
import type { PolicyDocumentInput } from "../src/lib/config/policySchema.js";
import type { FixtureInput } from "./fixture.js";

export interface GenerateOptions {
  subscriptions: number;
  /** SQL MIs + VMs + storage accounts. */
  consumers: number;
  /** Share of each consumer kind on platform keys, 0..1 (default 0.1). */
  platformKeyFraction?: number;
  /** Same seed, same estate (default 1). */
  seed?: number;
}

export interface GeneratedEstate {
  fixture: FixtureInput;
  policy: PolicyDocumentInput;
  /** Names of the consumers deliberately on platform keys (a scan fails the SQL MIs and storage accounts among them). */
  platformKeyed: { sqlManagedInstances: string[]; virtualMachines: string[]; storageAccounts: string[] };
}

export class GenerateOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GenerateOptionsError";
  }
}

/** The mix of consumer kinds (fractions of `consumers`); storage takes the remainder. */
export const CONSUMER_MIX = { sqlManagedInstances: 0.1, virtualMachines: 0.4, storageAccounts: 0.5 } as const;

const TENANT_ID = "8f3d2c1b-6a5e-4d7c-9b8a-1e2f3a4b5c6d";
const HSM = "Contoso-PROD-HSM";
const REGIONS = ["southindia", "centralindia"] as const;
const KEYS = { sql: "Contoso-SQLMI-CMK", disk: "Contoso-DISK-CMK", storage: "Contoso-STORAGE-CMK" } as const;
/** Contoso's people and KeyWarden itself (emulator/keywardenEnv.ts). */
const ADMINS = "a1000000-0000-4000-8000-000000000001";
const KEY_TEAM = "a1000000-0000-4000-8000-000000000002";
const KEYWARDEN = "a1000000-0000-4000-8000-000000000003";
/** The custom role the Contoso fixtures give KeyWarden to read HSM account settings (only Administrator holds settings/read among built-ins). */
const KEYWARDEN_SETTINGS_READER = {
  name: "f3b1c8a2-5d4e-4c6b-9a7f-2e8d1c0b3a95",
  roleName: "KeyWarden Settings Reader",
  dataActions: ["Microsoft.KeyVault/managedHsm/settings/read/action"],
};

/** KeyWarden's custom ARM role (src/lib/permissions.ts CONSUMER_OPERATOR_ROLE, CONSUMER_OPERATOR_ACTIONS), as the Contoso fixtures define it. */
const KEYWARDEN_CONSUMER_OPERATOR = {
  name: "6f0a3c2e-9b1d-4e57-8c4a-2d7e5b9f1a63",
  roleName: "KeyWarden Consumer Key Operator",
  actions: ["Microsoft.Sql/managedInstances/keys/write", "Microsoft.Sql/managedInstances/encryptionProtector/write", "Microsoft.Compute/diskEncryptionSets/write", "Microsoft.Storage/storageAccounts/write"],
};

/**
 * The estate's Azure RBAC: the security officers own and the key team contributes to every subscription; KeyWarden
 * holds exactly its documented ARM grants (Reader and its consumer operator role on each subscription, and the data
 * roles on its own topic, rule and state storage account). No Log Analytics Reader: the HSM's workspace is in the
 * first subscription, where Reader covers the query.
 */
function armRoleAssignmentsFor(subs: readonly string[]): NonNullable<FixtureInput["armRoleAssignments"]> {
  const home = `/subscriptions/${subs[0]!}/resourceGroups/rg-contoso-hsm/providers`;
  return [
    ...subs.flatMap((sub) => [
      { principalId: ADMINS, role: "Owner", scope: `/subscriptions/${sub}` },
      { principalId: KEY_TEAM, role: "Contributor", scope: `/subscriptions/${sub}` },
      { principalId: KEYWARDEN, role: "Reader", scope: `/subscriptions/${sub}` },
      { principalId: KEYWARDEN, role: KEYWARDEN_CONSUMER_OPERATOR.roleName, scope: `/subscriptions/${sub}` },
    ]),
    { principalId: KEYWARDEN, role: "Storage Blob Data Owner", scope: `${home}/Microsoft.Storage/storageAccounts/contosokeywardenst01` },
    { principalId: KEYWARDEN, role: "EventGrid Data Sender", scope: `${home}/Microsoft.EventGrid/topics/contoso-keywarden-events` },
    { principalId: KEYWARDEN, role: "Monitoring Metrics Publisher", scope: `${home}/Microsoft.Insights/dataCollectionRules/${KEYWARDEN_DATA_COLLECTION_RULE.name}` },
  ];
}

const columns = (spec: string): { name: string; type: "string" | "datetime" | "dynamic" }[] =>
  spec.split(" ").map((c) => {
    const [name = "", type = "string"] = c.split(":");
    return { name, type: type as "string" | "datetime" | "dynamic" };
  });

/** KeyWarden's data collection rule (as in contoso-reference.json and contoso-drifted.json). */
export const KEYWARDEN_DATA_COLLECTION_RULE = {
  name: "dcr-keywarden",
  resourceGroup: "rg-contoso-hsm",
  location: "southindia",
  streams: [
    {
      name: "Custom-KeyWardenFindings_CL",
      columns: columns("TimeGenerated:datetime Fingerprint Transition ControlId Severity PreviousSeverity Status ResourceId ResourceName Message Evidence:dynamic FirstSeen:datetime ScanId"),
    },
    {
      name: "Custom-KeyWardenRotations_CL",
      columns: columns("TimeGenerated:datetime Fingerprint Transition KeyId KeyName ResourceId ResourceName Version RunId Message Details:dynamic"),
    },
  ],
};

function validate(o: GenerateOptions): Required<GenerateOptions> {
  const int = (name: string, v: unknown, min: number, max: number): number => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw new GenerateOptionsError(`generateEstate: '${name}' must be an integer from ${min} to ${max} (got ${String(v)}).`);
    return v;
  };
  const fraction = o.platformKeyFraction ?? 0.1;
  if (typeof fraction !== "number" || !(fraction >= 0 && fraction <= 1)) throw new GenerateOptionsError(`generateEstate: 'platformKeyFraction' must be a number from 0 to 1 (got ${String(fraction)}).`);
  return {
    subscriptions: int("subscriptions", o.subscriptions, 1, 1000),
    consumers: int("consumers", o.consumers, 0, 1_000_000),
    platformKeyFraction: fraction,
    seed: int("seed", o.seed ?? 1, 0, 2 ** 31 - 1),
  };
}

/** mulberry32: a small seeded PRNG, so an estate depends on its seed only. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct indices from 0..n-1, chosen by the PRNG (partial Fisher–Yates). */
function pick(rand: () => number, n: number, count: number): Set<number> {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rand() * (n - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return new Set(idx.slice(0, count));
}

const guidFrom = (s: string): string => {
  const h = createHash("sha256").update(s).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export function generateEstate(options: GenerateOptions): GeneratedEstate {
  const o = validate(options);
  const rand = prng(o.seed);
  const subs = Array.from({ length: o.subscriptions }, (_, i) => guidFrom(`keywarden-generated/${o.seed}/subscription/${i}`));
  const home = subs[0]!;
  const hsmId = `/subscriptions/${home}/resourceGroups/rg-contoso-hsm/providers/Microsoft.KeyVault/managedHSMs/${HSM}`;
  const uami = (kind: string) => {
    const resourceId = `/subscriptions/${home}/resourceGroups/rg-contoso-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami-${kind}-cmk`;
    return { resourceId, principalId: guidFrom(`${o.seed}/uami/${kind}/principal`), clientId: guidFrom(`${o.seed}/uami/${kind}/client`) };
  };
  const ids = { sql: uami("sql"), disk: uami("disk"), storage: uami("storage") };
  const userAssigned = (u: (typeof ids)[keyof typeof ids]) => ({ type: "UserAssigned" as const, userAssignedIdentities: [u] });

  const sqlCount = Math.round(o.consumers * CONSUMER_MIX.sqlManagedInstances);
  const vmCount = Math.round(o.consumers * CONSUMER_MIX.virtualMachines);
  const storageCount = o.consumers - sqlCount - vmCount;
  const platform = (n: number) => pick(rand, n, Math.round(n * o.platformKeyFraction));
  const platformSql = platform(sqlCount);
  const platformVm = platform(vmCount);
  const platformStorage = platform(storageCount);
  const place = (i: number) => ({ subscriptionId: subs[i % subs.length]!, location: REGIONS[Math.floor(i / subs.length) % REGIONS.length]! });
  const platformKeyed: GeneratedEstate["platformKeyed"] = { sqlManagedInstances: [], virtualMachines: [], storageAccounts: [] };

  const key = (name: string) => ({
    name,
    kty: "RSA-HSM" as const,
    keySize: 3072,
    keyOps: ["wrapKey", "unwrapKey"],
    exportable: false,
    versions: [
      { created: "-P200D", validity: "P1Y" },
      { created: "-P20D", validity: "P1Y" },
    ],
    rotationPolicy: { lifetimeActions: [{ action: "Rotate" as const, timeAfterCreate: "P180D" }], expiryTime: "P1Y" },
  });
  const serviceUser = (principalId: string, keyName: string) => ({ principalId, role: "Managed HSM Crypto Service Encryption User", scope: `/keys/${keyName}` });
  const hsmNetwork = `/subscriptions/${home}/resourceGroups/rg-contoso-network/providers/Microsoft.Network/virtualNetworks`;

  const fixture: FixtureInput = {
    name: `generated-${o.subscriptions}x${o.consumers}-seed${o.seed}`,
    description: `Generated: ${o.consumers} consumers over ${o.subscriptions} subscriptions, ${o.platformKeyFraction} of each kind on platform keys.`,
    tenantId: TENANT_ID,
    subscriptionId: home,
    subscriptions: subs.map((subscriptionId, i) => ({ subscriptionId, displayName: `generated-${i}` })),
    resourceGroups: [{ name: "rg-contoso-monitor", location: "southindia" }],
    principals: [
      { id: ADMINS, displayName: "Contoso security officers" },
      { id: KEY_TEAM, displayName: "Contoso key-management team" },
      { id: KEYWARDEN, displayName: "KeyWarden managed identity" },
      { id: ids.sql.principalId, displayName: "uami-sql-cmk" },
      { id: ids.disk.principalId, displayName: "uami-disk-cmk" },
      { id: ids.storage.principalId, displayName: "uami-storage-cmk" },
    ],
    managedHsms: [
      {
        name: HSM,
        resourceGroup: "rg-contoso-hsm",
        location: "southindia",
        regions: REGIONS.map((name, i) => ({ name, isPrimary: i === 0 })),
        softDeleteRetentionInDays: 90,
        enablePurgeProtection: true,
        publicNetworkAccess: "Disabled",
        networkAcls: { defaultAction: "Deny", bypass: "None" },
        initialAdminObjectIds: [ADMINS],
        privateEndpoints: REGIONS.map((region, i) => ({
          name: `pe-contoso-hsm-${region}`,
          resourceGroup: "rg-contoso-network",
          location: region,
          subnetId: `${hsmNetwork}/vnet-contoso-${region}/subnets/snet-private-endpoints`,
          privateIp: `10.${(i + 1) * 10}.1.4`,
        })),
        diagnosticSettings: [
          {
            name: "hsm-audit",
            workspaceId: `/subscriptions/${home}/resourceGroups/rg-contoso-monitor/providers/Microsoft.OperationalInsights/workspaces/law-contoso-security`,
            logs: [{ category: "AuditEvent", enabled: true }],
          },
        ],
        // KeyWarden's previous scan, an hour before: the audit events arrive.
        auditEvents: [{ time: "-PT1H", operation: "KeyList", caller: KEYWARDEN }],
        keys: [key(KEYS.sql), key(KEYS.disk), key(KEYS.storage)],
        customRoles: [KEYWARDEN_SETTINGS_READER],
        roleAssignments: [
          { principalId: ADMINS, role: "Managed HSM Administrator", scope: "/" },
          { principalId: KEY_TEAM, role: "Managed HSM Crypto User", scope: "/" },
          { principalId: KEYWARDEN, role: "Managed HSM Crypto Auditor", scope: "/" },
          // KeyWarden: Crypto User on each key it rotates, no wider (src/lib/permissions.ts hsm-crypto-user).
          ...Object.values(KEYS).map((k) => ({ principalId: KEYWARDEN, role: "Managed HSM Crypto User", scope: `/keys/${k}` })),
          { principalId: KEYWARDEN, role: KEYWARDEN_SETTINGS_READER.roleName, scope: "/" },
          serviceUser(ids.sql.principalId, KEYS.sql),
          serviceUser(ids.disk.principalId, KEYS.disk),
          serviceUser(ids.storage.principalId, KEYS.storage),
        ],
      },
    ],
    sqlManagedInstances: [],
    diskEncryptionSets: [],
    virtualMachines: [],
    storageAccounts: [],
    // KeyWarden publishes its Managed HSM key events here (Managed HSM emits none of its own).
    eventGridTopics: [{ name: "contoso-keywarden-events", resourceGroup: "rg-contoso-hsm", location: "southindia" }],
    // KeyWarden sends its alert rows here through the Logs Ingestion API (the built-in fixtures carry the same rule).
    dataCollectionRules: [KEYWARDEN_DATA_COLLECTION_RULE],
    armRoleDefinitions: [KEYWARDEN_CONSUMER_OPERATOR],
    armRoleAssignments: armRoleAssignmentsFor(subs),
  };

  const desName = (region: string) => `des-gen-${region}`;
  for (const subscriptionId of subs) {
    for (const location of REGIONS) {
      fixture.diskEncryptionSets!.push({
        name: desName(location),
        subscriptionId,
        resourceGroup: "rg-gen-compute",
        location,
        identity: userAssigned(ids.disk),
        activeKey: `${HSM}/${KEYS.disk}@1`,
        rotationToLatestKeyVersionEnabled: true,
        lastKeyRotation: "-P20D",
      });
    }
  }
  for (let i = 0; i < sqlCount; i++) {
    const name = `gen-sqlmi-${i}`;
    const onPlatform = platformSql.has(i);
    if (onPlatform) platformKeyed.sqlManagedInstances.push(name);
    fixture.sqlManagedInstances!.push({
      name,
      ...place(i),
      resourceGroup: "rg-gen-sql",
      ...(onPlatform
        ? { encryptionProtector: { serverKeyType: "ServiceManaged" } }
        : {
            identity: userAssigned(ids.sql),
            primaryUserAssignedIdentityId: ids.sql.resourceId,
            keys: [`${HSM}/${KEYS.sql}@1`],
            encryptionProtector: { key: `${HSM}/${KEYS.sql}@1`, serverKeyType: "AzureKeyVault" },
          }),
    });
  }
  for (let i = 0; i < vmCount; i++) {
    const name = `gen-vm-${i}`;
    const onPlatform = platformVm.has(i);
    if (onPlatform) platformKeyed.virtualMachines.push(name);
    const p = place(i);
    fixture.virtualMachines!.push({ name, ...p, resourceGroup: "rg-gen-compute", osType: "Linux", dataDisks: 1, ...(onPlatform ? {} : { diskEncryptionSet: desName(p.location) }) });
  }
  for (let i = 0; i < storageCount; i++) {
    const name = `genst${o.seed}x${i}`.slice(0, 24);
    const onPlatform = platformStorage.has(i);
    if (onPlatform) platformKeyed.storageAccounts.push(name);
    fixture.storageAccounts!.push({
      name,
      ...place(i),
      resourceGroup: "rg-gen-storage",
      ...(onPlatform
        ? { encryption: { keySource: "Microsoft.Storage" } }
        : { identity: userAssigned(ids.storage), encryption: { keySource: "Microsoft.Keyvault", key: `${HSM}/${KEYS.storage}`, userAssignedIdentity: ids.storage.resourceId, lastKeyRotation: "-P20D" } }),
    });
  }

  // The platform-keyed SQL MIs and storage accounts are expected consumers, so a scan reports them (rather than
  // leaving them out of scope); so are the DES. VMs are no consumer kind: platform-keyed VM disks are out of scope.
  const idOf = (provider: string, x: { subscriptionId?: string | undefined; resourceGroup: string; name: string }) =>
    `/subscriptions/${x.subscriptionId ?? home}/resourceGroups/${x.resourceGroup}/providers/${provider}/${x.name}`;
  const platformSqlNames = new Set(platformKeyed.sqlManagedInstances);
  const platformStorageNames = new Set(platformKeyed.storageAccounts);
  const expectedSql = fixture.sqlManagedInstances!.filter((m) => platformSqlNames.has(m.name)).map((m) => idOf("Microsoft.Sql/managedInstances", m));
  const expectedStorage = fixture.storageAccounts!.filter((a) => platformStorageNames.has(a.name)).map((a) => idOf("Microsoft.Storage/storageAccounts", a));
  const expectedDes = fixture.diskEncryptionSets!.map((d) => idOf("Microsoft.Compute/diskEncryptionSets", d));

  const rotation = { rotateAfter: "P180D", expireAfter: "P1Y", notifyBefore: "P30D" };
  const policy: PolicyDocumentInput = {
    version: 1,
    subscriptions: subs,
    managedHsms: [
      {
        resourceId: hsmId,
        regions: { primary: REGIONS[0], extended: [REGIONS[1]] },
        keys: [
          { name: KEYS.sql, keyType: "RSA-HSM", minKeySize: 3072, consumers: ["sqlManagedInstance"], rotation, expectedConsumers: expectedSql },
          { name: KEYS.disk, keyType: "RSA-HSM", minKeySize: 3072, consumers: ["diskEncryptionSet"], rotation, expectedConsumers: expectedDes },
          { name: KEYS.storage, keyType: "RSA-HSM", minKeySize: 3072, consumers: ["storageAccount"], rotation, expectedConsumers: expectedStorage },
        ],
        keyManagementPrincipals: [{ principalId: KEY_TEAM, displayName: "Key management team" }],
        administratorPrincipals: [{ principalId: ADMINS, displayName: "Security officers" }],
        // KeyWarden holds Crypto User per key only, so it is not a key-management principal (which holds it at "/keys").
        otherExpectedPrincipals: [{ principalId: KEYWARDEN, displayName: "KeyWarden" }],
      },
    ],
  };
  return { fixture, policy, platformKeyed };
}

/** The mix of a rotation estate's consumers (fractions of `consumers`); versionless storage takes the remainder. */
export const ROTATION_CONSUMER_MIX = { sqlManagedInstances: 0.2, diskEncryptionSets: 0.1, pinnedStorageAccounts: 0.4 } as const;
/** The one key every consumer of a rotation estate shares. */
export const ROTATION_KEY = "Contoso-SHARED-CMK";

export interface RotationEstateOptions {
  subscriptions: number;
  /** SQL MIs + DES + storage accounts, all on ROTATION_KEY. */
  consumers: number;
}

/**
 * The rotation benchmark's estate: the HSM, subscriptions, principals, topic and data collection rule of
 * generateEstate, with ONE key that is due (its current version is 200 days old, rotateAfter P180D) and `consumers`
 * consumers of it spread over the subscriptions, every one on the key's current version: 20 % SQL MIs (a
 * managed-instance key and the TDE protector), 10 % DES (each behind two VMs with an OS and a data disk, automatic
 * rotation off, so KeyWarden moves it), 40 % storage accounts pinned to the version and 30 % versionless ones (which
 * catch up by themselves: verified, not changed). One user-assigned identity, Crypto Service Encryption User at the
 * key's scope, serves them all. A rotation of it rotates the key once and moves every SQL MI, DES and pinned account.
 */
export function generateRotationEstate(options: RotationEstateOptions): { fixture: FixtureInput; policy: PolicyDocumentInput } {
  const o = validate({ subscriptions: options.subscriptions, consumers: options.consumers, platformKeyFraction: 0 });
  const base = generateEstate({ subscriptions: o.subscriptions, consumers: 0, platformKeyFraction: 0 });
  const fixture = base.fixture;
  const subs = fixture.subscriptions!.map((s) => s.subscriptionId);
  const home = fixture.subscriptionId!;
  const hsm = fixture.managedHsms![0]!;
  const identityId = `/subscriptions/${home}/resourceGroups/rg-contoso-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami-rotation-cmk`;
  const uami = { resourceId: identityId, principalId: guidFrom(`rotation/uami/principal`), clientId: guidFrom(`rotation/uami/client`) };
  const identity = { type: "UserAssigned" as const, userAssignedIdentities: [uami] };
  const current = `${HSM}/${ROTATION_KEY}@1`;

  fixture.name = `rotation-${o.subscriptions}x${o.consumers}`;
  fixture.description = `Generated for the rotation benchmark: ${o.consumers} consumers of ${ROTATION_KEY} over ${o.subscriptions} subscriptions, all on its current version, which is due.`;
  fixture.principals = [...fixture.principals!, { id: uami.principalId, displayName: "uami-rotation-cmk" }];
  hsm.keys = [
    {
      name: ROTATION_KEY,
      kty: "RSA-HSM",
      keySize: 3072,
      keyOps: ["wrapKey", "unwrapKey"],
      exportable: false,
      versions: [
        { created: "-P380D", validity: "P1Y" },
        { created: "-P200D", validity: "P1Y" },
      ],
      rotationPolicy: { lifetimeActions: [{ action: "Rotate", timeAfterCreate: "P180D" }], expiryTime: "P1Y" },
    },
  ];
  // The generated estate's service identities serve its three keys; this estate's one identity serves its one key.
  hsm.roleAssignments = [
    ...hsm.roleAssignments!.filter((a) => !a.scope.startsWith("/keys/")),
    { principalId: uami.principalId, role: "Managed HSM Crypto Service Encryption User", scope: `/keys/${ROTATION_KEY}` },
    { principalId: KEYWARDEN, role: "Managed HSM Crypto User", scope: `/keys/${ROTATION_KEY}` },
  ];

  const sqlCount = Math.round(o.consumers * ROTATION_CONSUMER_MIX.sqlManagedInstances);
  const desCount = Math.round(o.consumers * ROTATION_CONSUMER_MIX.diskEncryptionSets);
  const pinnedCount = Math.round(o.consumers * ROTATION_CONSUMER_MIX.pinnedStorageAccounts);
  const versionlessCount = o.consumers - sqlCount - desCount - pinnedCount;
  const place = (i: number) => ({ subscriptionId: subs[i % subs.length]!, location: REGIONS[Math.floor(i / subs.length) % REGIONS.length]! });

  fixture.sqlManagedInstances = Array.from({ length: sqlCount }, (_, i) => ({
    name: `rot-sqlmi-${i}`,
    ...place(i),
    resourceGroup: "rg-rot-sql",
    identity,
    primaryUserAssignedIdentityId: identityId,
    keys: [current],
    encryptionProtector: { key: current, serverKeyType: "AzureKeyVault" as const },
  }));
  fixture.diskEncryptionSets = Array.from({ length: desCount }, (_, i) => ({
    name: `des-rot-${i}`,
    ...place(i),
    resourceGroup: "rg-rot-compute",
    identity,
    activeKey: current,
    rotationToLatestKeyVersionEnabled: false,
    lastKeyRotation: "-P200D",
  }));
  fixture.virtualMachines = fixture.diskEncryptionSets.flatMap((des, i) =>
    [0, 1].map((j) => ({ name: `rot-vm-${i}-${j}`, subscriptionId: des.subscriptionId, location: des.location, resourceGroup: "rg-rot-compute", osType: "Linux" as const, dataDisks: 1, diskEncryptionSet: des.name })),
  );
  const storage = (i: number, pinned: boolean) => ({
    name: `rotst${pinned ? "p" : "v"}${i}`,
    ...place(i),
    resourceGroup: "rg-rot-storage",
    identity,
    encryption: { keySource: "Microsoft.Keyvault" as const, key: pinned ? current : `${HSM}/${ROTATION_KEY}`, userAssignedIdentity: identityId, lastKeyRotation: "-P200D" },
  });
  fixture.storageAccounts = [...Array.from({ length: pinnedCount }, (_, i) => storage(i, true)), ...Array.from({ length: versionlessCount }, (_, i) => storage(i, false))];

  const policyHsm = base.policy.managedHsms[0]!;
  const policy: PolicyDocumentInput = {
    ...base.policy,
    managedHsms: [
      {
        ...policyHsm,
        keys: [{ name: ROTATION_KEY, keyType: "RSA-HSM", minKeySize: 3072, consumers: ["sqlManagedInstance", "diskEncryptionSet", "storageAccount"], rotation: { rotateAfter: "P180D", expireAfter: "P1Y", notifyBefore: "P30D" } }],
      },
    ],
  };
  return { fixture, policy };
}
