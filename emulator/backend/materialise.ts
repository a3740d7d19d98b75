/**
 * Turns a validated fixture into state: HSM key versions with real URLs (host + emulator port) and ARM resource
 * bodies in the shapes the specs define (only spec-defined properties; absent rather than null).
 */
import { createHash } from "node:crypto";
import { addDuration, resolveTime } from "../duration.js";
import type { Fixture, FixtureIdentity, FixtureManagedInstance } from "../fixture.js";
import { resolveManagedInstance } from "../fixture.js";
import { BUILT_IN_ROLES, findBuiltInRole, roleDefinitionId } from "./roles.js";
import { materialiseArmRbac } from "./armRbac.js";
import { materialiseTopics } from "./eventGrid.js";
import { materialiseDataCollectionRules } from "./ingestion.js";
import { materialiseSignals } from "./logAnalytics.js";
import type { Runtime } from "./runtime.js";
import { hsmBaseUrl, keyId } from "./runtime.js";
import type { ArmResource, EstateState, HsmKey, HsmState, KeyVersion } from "./state.js";
import { addResourceGroup, addSubscription, armId, emptyEstate, latestVersion, putResource } from "./state.js";

const hex = (s: string, len = 32): string => createHash("sha256").update(s).digest("hex").slice(0, len);
const uuidFrom = (s: string): string => {
  const h = hex(s);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};
export const thumbprintOf = (uri: string): string => hex(uri, 40).toUpperCase();
export const iso = (d: Date): string => d.toISOString();

export function identityBody(identity: FixtureIdentity | undefined, tenantId: string): Record<string, unknown> | undefined {
  if (!identity) return undefined;
  const body: Record<string, unknown> = { type: identity.type };
  if (identity.principalId) {
    body.principalId = identity.principalId;
    body.tenantId = tenantId;
  }
  if (identity.userAssignedIdentities?.length) {
    body.userAssignedIdentities = Object.fromEntries(
      identity.userAssignedIdentities.map((u) => [u.resourceId, { principalId: u.principalId, clientId: u.clientId }]),
    );
  }
  return body;
}

export function materialise(rt: Pick<Runtime, "port">, fixture: Fixture, now: Date): EstateState {
  const defaultSub = fixture.subscriptionId;
  const tenantId = fixture.tenantId;
  const state = emptyEstate(fixture.name, tenantId, defaultSub);
  state.drift = fixture.drift;
  const subOf = (r: { subscriptionId?: string | undefined }): string => r.subscriptionId ?? defaultSub;
  const t = (expr: string): Date => resolveTime(expr, now)!;
  addSubscription(state, defaultSub);
  fixture.subscriptions.forEach((s) => addSubscription(state, s.subscriptionId));
  fixture.resourceGroups.forEach((g) => addResourceGroup(state, subOf(g), g.name));
  /** The subscription is the id's own (ids are built with armId). */
  const add = (r: Omit<ArmResource, "subscriptionId">): void => {
    putResource(state, { ...r, subscriptionId: r.id.split("/")[2]! });
  };

  // ------------------------------------------------------------------ Managed HSMs
  for (const h of fixture.managedHsms) {
    const sub = subOf(h);
    const id = armId(sub, h.resourceGroup, "Microsoft.KeyVault", "managedHSMs", h.name);
    const hsm: HsmState = {
      name: h.name,
      label: h.name.toLowerCase(),
      resourceId: id,
      recoverableDays: h.softDeleteRetentionInDays,
      // UNVERIFIED which level MHSM reports; Key Vault semantics: 90 days → Recoverable[+Purgeable], 7–89 → Customized*.
      recoveryLevel:
        h.softDeleteRetentionInDays >= 90
          ? h.enablePurgeProtection
            ? "Recoverable"
            : "Recoverable+Purgeable"
          : h.enablePurgeProtection
            ? "CustomizedRecoverable"
            : "CustomizedRecoverable+Purgeable",
      keys: new Map(),
      roleAssignments: [],
      roleDefinitions: [
        ...BUILT_IN_ROLES.map((r) => structuredClone(r)),
        ...h.customRoles.map((c) => ({
          name: c.name.toLowerCase(),
          roleName: c.roleName,
          description: "",
          type: "CustomRole" as const,
          assignableScopes: ["/"],
          permissions: [{ actions: [], notActions: [], dataActions: [...c.dataActions], notDataActions: [] }],
        })),
      ],
      settings: new Map([["allowkeymanagementoperationsthrougharm", { name: "AllowKeyManagementOperationsThroughARM", value: String(h.allowKeyManagementOperationsThroughArm), type: "boolean" }]]),
    };
    for (const k of h.keys) {
      const key: HsmKey = {
        name: k.name,
        kty: k.kty,
        keySize: k.kty.startsWith("RSA") ? (k.keySize ?? 2048) : undefined,
        curve: k.kty.startsWith("EC") ? (k.curve ?? "P-256") : undefined,
        exportable: k.exportable,
        versions: k.versions.map((v, i): KeyVersion => {
          const created = t(v.created);
          return {
            version: v.version ?? hex(`${h.name.toLowerCase()}/${k.name.toLowerCase()}/${i}`),
            created,
            updated: created,
            expires: v.expires ? t(v.expires) : v.validity ? addDuration(created, v.validity) : undefined,
            notBefore: v.notBefore ? t(v.notBefore) : undefined,
            enabled: v.enabled ?? true,
            keyOps: [...k.keyOps],
            tags: { ...k.tags },
          };
        }),
        rotationPolicy: k.rotationPolicy
          ? { lifetimeActions: k.rotationPolicy.lifetimeActions, expiryTime: k.rotationPolicy.expiryTime, created: t("-P200D"), updated: t("-P200D") }
          : undefined,
      };
      hsm.keys.set(k.name.toLowerCase(), key);
    }
    for (const ra of h.roleAssignments) {
      const guid = ra.role.toLowerCase();
      const role = hsm.roleDefinitions.find((d) => d.type === "CustomRole" && (d.name === guid || d.roleName.toLowerCase() === guid)) ?? findBuiltInRole(ra.role);
      if (!role) throw new Error(`fixture: managedHsms.${h.name}.roleAssignments: unknown role '${ra.role}'`);
      hsm.roleAssignments.push({
        name: ra.name ?? uuidFrom(`${ra.principalId}|${role.name}|${ra.scope.toLowerCase()}`),
        scope: ra.scope,
        principalId: ra.principalId,
        roleDefinitionId: roleDefinitionId(role.name),
      });
    }
    state.hsms.set(hsm.label, hsm);

    const pecs = h.privateEndpoints.map((pe) => {
      const peSub = pe.subscriptionId ?? sub;
      const peId = armId(peSub, pe.resourceGroup, "Microsoft.Network", "privateEndpoints", pe.name);
      const connectionState = { status: pe.status, description: pe.status === "Approved" ? "Auto-approved" : "", actionsRequired: "None" };
      add({
        id: peId,
        type: "Microsoft.Network/privateEndpoints",
        resourceGroup: pe.resourceGroup,
        name: pe.name,
        body: {
          id: peId,
          name: pe.name,
          type: "Microsoft.Network/privateEndpoints",
          location: pe.location,
          etag: `W/"${uuidFrom(peId)}"`,
          properties: {
            provisioningState: "Succeeded",
            subnet: { id: pe.subnetId ?? armId(peSub, pe.resourceGroup, "Microsoft.Network", "virtualNetworks", `vnet-${pe.location}`, "subnets", "default") },
            networkInterfaces: [{ id: armId(peSub, pe.resourceGroup, "Microsoft.Network", "networkInterfaces", `${pe.name}.nic`) }],
            privateLinkServiceConnections: [
              {
                id: `${peId}/privateLinkServiceConnections/${pe.name}`,
                name: pe.name,
                type: "Microsoft.Network/privateEndpoints/privateLinkServiceConnections",
                etag: `W/"${uuidFrom(peId + "/plsc")}"`,
                properties: {
                  provisioningState: "Succeeded",
                  privateLinkServiceId: id,
                  // UNVERIFIED group id for Managed HSM (private-link docs).
                  groupIds: ["managedhsm"],
                  privateLinkServiceConnectionState: connectionState,
                },
              },
            ],
            manualPrivateLinkServiceConnections: [],
            customDnsConfigs: [{ fqdn: `${hsm.label}.managedhsm.azure.net`, ipAddresses: [pe.privateIp] }],
          },
        },
      });
      return {
        id: `${id}/privateEndpointConnections/${pe.name}`,
        name: pe.name,
        etag: "",
        properties: { privateEndpoint: { id: peId }, privateLinkServiceConnectionState: connectionState, provisioningState: "Succeeded" },
      };
    });

    const hsmProps: Record<string, unknown> = {
      tenantId,
      initialAdminObjectIds: h.initialAdminObjectIds,
      hsmUri: `${hsmBaseUrl(rt as Runtime, hsm)}/`,
      enableSoftDelete: h.enableSoftDelete,
      softDeleteRetentionInDays: h.softDeleteRetentionInDays,
      enablePurgeProtection: h.enablePurgeProtection,
      statusMessage: h.provisioningState === "Failed" ? "The Managed HSM could not be provisioned." : "The Managed HSM is provisioned and ready to use.",
      provisioningState: h.provisioningState,
      regions: h.regions,
      privateEndpointConnections: pecs.map(({ name: _n, ...item }) => item),
      publicNetworkAccess: h.publicNetworkAccess,
      securityDomainProperties: {
        activationStatus: h.securityDomainActivationStatus,
        activationStatusMessage: h.securityDomainActivationStatus === "Active" ? "Your HSM has been activated and can be used for cryptographic operations." : "",
      },
    };
    if (h.networkAcls) {
      hsmProps.networkAcls = {
        bypass: h.networkAcls.bypass,
        defaultAction: h.networkAcls.defaultAction,
        ipRules: h.networkAcls.ipRules.map((value) => ({ value })),
        virtualNetworkRules: h.networkAcls.virtualNetworkRules.map((vid) => ({ id: vid })),
        serviceTags: h.networkAcls.serviceTags.map((tag) => ({ tag })),
      };
    }
    add({
      id,
      type: "Microsoft.KeyVault/managedHSMs",
      resourceGroup: h.resourceGroup,
      name: h.name,
      body: { id, name: h.name, type: "Microsoft.KeyVault/managedHSMs", location: h.location, sku: { family: "B", name: h.sku }, tags: h.tags, properties: hsmProps },
    });
    for (const pec of pecs) {
      add({
        id: pec.id,
        type: "Microsoft.KeyVault/managedHSMs/privateEndpointConnections",
        resourceGroup: h.resourceGroup,
        name: pec.name,
        body: { id: pec.id, name: pec.name, type: "Microsoft.KeyVault/managedHSMs/privateEndpointConnections", etag: pec.etag, properties: pec.properties },
      });
    }
    for (const ds of h.diagnosticSettings) {
      const dsId = `${id}/providers/Microsoft.Insights/diagnosticSettings/${ds.name}`;
      const props: Record<string, unknown> = {
        logs: ds.logs.map((l) => ({ ...l, retentionPolicy: { enabled: false, days: 0 } })),
        metrics: [{ category: "AllMetrics", enabled: false, retentionPolicy: { enabled: false, days: 0 } }],
      };
      if (ds.workspaceId) props.workspaceId = ds.workspaceId;
      if (ds.storageAccountId) props.storageAccountId = ds.storageAccountId;
      if (ds.eventHubAuthorizationRuleId) props.eventHubAuthorizationRuleId = ds.eventHubAuthorizationRuleId;
      add({ id: dsId, type: "Microsoft.Insights/diagnosticSettings", resourceGroup: h.resourceGroup, name: ds.name, body: { id: dsId, name: ds.name, type: "Microsoft.Insights/diagnosticSettings", properties: props } });
    }
  }

  /** `<hsm>/<key>[@sel]` → versioned (or versionless) key URL, and the version record. */
  const resolveRef = (ref: string): { url: string; hsm: HsmState; key: HsmKey; version?: KeyVersion } => {
    const [hsmName = "", rest = ""] = ref.split("/");
    const [keyName = "", sel] = rest.split("@");
    const hsm = state.hsms.get(hsmName.toLowerCase())!;
    const key = hsm.keys.get(keyName.toLowerCase())!;
    let version: KeyVersion | undefined;
    if (sel === "latest") version = latestVersion(key);
    else if (sel && sel.length === 32) version = key.versions.find((v) => v.version === sel.toLowerCase());
    else if (sel) version = key.versions[Number(sel)];
    return { url: keyId(rt as Runtime, hsm, key.name, version?.version), hsm, key, version };
  };

  // ------------------------------------------------------------------ SQL managed instances
  for (const mi of fixture.sqlManagedInstances) {
    const sub = subOf(mi);
    const id = armId(sub, mi.resourceGroup, "Microsoft.Sql", "managedInstances", mi.name);
    const body: Record<string, unknown> = {
      id,
      name: mi.name,
      type: "Microsoft.Sql/managedInstances",
      location: mi.location,
      sku: { name: "GP_Gen5", tier: "GeneralPurpose", family: "Gen5", capacity: 8 },
      properties: {
        provisioningState: mi.provisioningState,
        fullyQualifiedDomainName: `${mi.name}.${hex(mi.name, 12)}.database.windows.net`,
        subnetId: armId(sub, "rg-contoso-network", "Microsoft.Network", "virtualNetworks", `vnet-contoso-${mi.location}`, "subnets", "snet-sqlmi"),
        state: "Ready",
        licenseType: "BasePrice",
        vCores: 8,
        storageSizeInGB: 256,
        dnsZone: hex(mi.name, 12),
        publicDataEndpointEnabled: false,
        minimalTlsVersion: "1.2",
        ...(mi.primaryUserAssignedIdentityId ? { primaryUserAssignedIdentityId: mi.primaryUserAssignedIdentityId } : {}),
      },
    };
    const ident = identityBody(mi.identity, tenantId);
    if (ident) body.identity = ident;
    add({ id, type: "Microsoft.Sql/managedInstances", resourceGroup: mi.resourceGroup, name: mi.name, body });
    for (const ref of mi.keys) {
      const r = resolveRef(ref);
      const v = r.version ?? latestVersion(r.key);
      const keyName = `${r.hsm.name}_${r.key.name}_${v.version}`;
      add(sqlKeyResource(id, mi.resourceGroup, keyName, keyId(rt as Runtime, r.hsm, r.key.name, v.version), v.created));
    }
    if (mi.encryptionProtector) {
      const ep = mi.encryptionProtector;
      let serverKeyName = "ServiceManaged";
      let uri: string | undefined;
      if (ep.serverKeyType === "AzureKeyVault" && ep.key) {
        const r = resolveRef(ep.key);
        const v = r.version ?? latestVersion(r.key);
        serverKeyName = `${r.hsm.name}_${r.key.name}_${v.version}`;
        uri = keyId(rt as Runtime, r.hsm, r.key.name, v.version);
        if (!state.resources.has(`${id}/keys/${serverKeyName}`.toLowerCase())) add(sqlKeyResource(id, mi.resourceGroup, serverKeyName, uri, v.created));
      }
      add(encryptionProtectorResource(id, mi.resourceGroup, ep.serverKeyType, serverKeyName, uri, ep.autoRotationEnabled));
    }
  }

  // ------------------------------------------------------------------ SQL instance failover groups
  // Listed on both sides (each in its instance's resource group and region) with that side's replicationRole;
  // managedInstancePairs is the same on both. UNVERIFIED that the secondary's region lists the group, and how.
  const instanceId = (m: FixtureManagedInstance): string => armId(subOf(m), m.resourceGroup, "Microsoft.Sql", "managedInstances", m.name);
  fixture.sqlFailoverGroups.forEach((g, i) => {
    const primary = resolveManagedInstance(fixture, g.primary, `sqlFailoverGroups.${i}.primary`);
    const partner = resolveManagedInstance(fixture, g.partner, `sqlFailoverGroups.${i}.partner`);
    const readWriteEndpoint: Record<string, unknown> = { failoverPolicy: g.readWriteFailoverPolicy };
    if (g.readWriteFailoverPolicy === "Automatic") readWriteEndpoint.failoverWithDataLossGracePeriodMinutes = g.gracePeriodMinutes ?? 60;
    const pairs = [{ primaryManagedInstanceId: instanceId(primary), partnerManagedInstanceId: instanceId(partner) }];
    for (const [side, other, role, otherRole] of [
      [primary, partner, "Primary", "Secondary"],
      [partner, primary, "Secondary", "Primary"],
    ] as const) {
      const id = armId(subOf(side), side.resourceGroup, "Microsoft.Sql", "locations", side.location, "instanceFailoverGroups", g.name);
      const properties: Record<string, unknown> = {
        ...(g.secondaryType ? { secondaryType: g.secondaryType } : {}),
        readWriteEndpoint,
        readOnlyEndpoint: { failoverPolicy: "Disabled" },
        replicationRole: role,
        replicationState: g.replicationState,
        partnerRegions: [{ location: other.location, replicationRole: otherRole }],
        managedInstancePairs: pairs,
      };
      add({ id, type: INSTANCE_FAILOVER_GROUP, resourceGroup: side.resourceGroup, name: g.name, body: { id, name: g.name, type: INSTANCE_FAILOVER_GROUP, properties } });
    }
  });

  // ------------------------------------------------------------------ disk encryption sets
  for (const des of fixture.diskEncryptionSets) {
    const sub = subOf(des);
    const id = armId(sub, des.resourceGroup, "Microsoft.Compute", "diskEncryptionSets", des.name);
    const props: Record<string, unknown> = {
      encryptionType: des.encryptionType,
      activeKey: { keyUrl: resolveRef(des.activeKey).url },
      previousKeys: des.previousKeys.map((k) => ({ keyUrl: resolveRef(k).url })),
      provisioningState: des.provisioningState,
      rotationToLatestKeyVersionEnabled: des.rotationToLatestKeyVersionEnabled,
    };
    if (des.lastKeyRotation) props.lastKeyRotationTimestamp = iso(t(des.lastKeyRotation));
    if (des.autoKeyRotationError) props.autoKeyRotationError = { ...des.autoKeyRotationError };
    const body: Record<string, unknown> = { id, name: des.name, type: "Microsoft.Compute/diskEncryptionSets", location: des.location, tags: {}, properties: props };
    const ident = identityBody(des.identity, tenantId);
    if (ident) body.identity = ident;
    add({ id, type: "Microsoft.Compute/diskEncryptionSets", resourceGroup: des.resourceGroup, name: des.name, body });
  }

  // ------------------------------------------------------------------ VMs and their managed disks
  for (const vm of fixture.virtualMachines) {
    const sub = subOf(vm);
    const vmId = armId(sub, vm.resourceGroup, "Microsoft.Compute", "virtualMachines", vm.name);
    const desId = vm.diskEncryptionSet
      ? vm.diskEncryptionSet.startsWith("/")
        ? vm.diskEncryptionSet
        : armId(sub, vm.resourceGroup, "Microsoft.Compute", "diskEncryptionSets", vm.diskEncryptionSet)
      : undefined;
    const encryption = desId ? { type: "EncryptionAtRestWithCustomerKey", diskEncryptionSetId: desId } : { type: "EncryptionAtRestWithPlatformKey" };
    const diskNames = [`${vm.name}-osdisk`, ...Array.from({ length: vm.dataDisks }, (_, i) => `${vm.name}-datadisk-${i}`)];
    for (const [i, diskName] of diskNames.entries()) {
      const diskId = armId(sub, vm.resourceGroup, "Microsoft.Compute", "disks", diskName);
      const props: Record<string, unknown> = {
        timeCreated: iso(t("-P400D")),
        creationData: i === 0 ? { createOption: "FromImage" } : { createOption: "Empty" },
        diskSizeGB: vm.diskSizeGB,
        provisioningState: "Succeeded",
        diskState: "Attached",
        encryption,
        networkAccessPolicy: "DenyAll",
        publicNetworkAccess: "Disabled",
      };
      if (i === 0) props.osType = vm.osType;
      add({
        id: diskId,
        type: "Microsoft.Compute/disks",
        resourceGroup: vm.resourceGroup,
        name: diskName,
        body: { id: diskId, name: diskName, type: "Microsoft.Compute/disks", location: vm.location, managedBy: vmId, sku: { name: "Premium_LRS", tier: "Premium" }, properties: props },
      });
    }
    const managedDisk = (name: string): Record<string, unknown> => ({
      id: armId(sub, vm.resourceGroup, "Microsoft.Compute", "disks", name),
      storageAccountType: "Premium_LRS",
      ...(desId ? { diskEncryptionSet: { id: desId } } : {}),
    });
    const extensions = vmExtensions(vm, vmId);
    add({
      id: vmId,
      type: "Microsoft.Compute/virtualMachines",
      resourceGroup: vm.resourceGroup,
      name: vm.name,
      body: {
        id: vmId,
        name: vm.name,
        type: "Microsoft.Compute/virtualMachines",
        location: vm.location,
        properties: {
          vmId: uuidFrom(vmId),
          provisioningState: "Succeeded",
          hardwareProfile: { vmSize: vm.vmSize },
          storageProfile: {
            osDisk: { osType: vm.osType, name: diskNames[0], createOption: "FromImage", caching: "ReadWrite", diskSizeGB: vm.diskSizeGB, managedDisk: managedDisk(diskNames[0]!) },
            dataDisks: diskNames.slice(1).map((n, lun) => ({ lun, name: n, createOption: "Empty", caching: "ReadOnly", diskSizeGB: vm.diskSizeGB, managedDisk: managedDisk(n) })),
          },
        },
        ...(extensions.length ? { resources: extensions } : {}),
      },
    });
  }

  // ------------------------------------------------------------------ storage accounts
  for (const sa of fixture.storageAccounts) {
    const sub = subOf(sa);
    const id = armId(sub, sa.resourceGroup, "Microsoft.Storage", "storageAccounts", sa.name);
    const created = t("-P400D");
    const encryption: Record<string, unknown> = {
      services: {
        blob: { enabled: true, keyType: "Account", lastEnabledTime: iso(created) },
        file: { enabled: true, keyType: "Account", lastEnabledTime: iso(created) },
      },
      keySource: sa.encryption.keySource,
      requireInfrastructureEncryption: false,
    };
    if (sa.encryption.keySource === "Microsoft.Keyvault") {
      const r = resolveRef(sa.encryption.key);
      const current = r.version ?? latestVersion(r.key);
      encryption.keyvaultproperties = {
        keyname: r.key.name,
        keyversion: r.version ? r.version.version : "",
        keyvaulturi: `${hsmBaseUrl(rt as Runtime, r.hsm)}/`,
        currentVersionedKeyIdentifier: keyId(rt as Runtime, r.hsm, r.key.name, current.version),
        lastKeyRotationTimestamp: iso(sa.encryption.lastKeyRotation ? t(sa.encryption.lastKeyRotation) : current.created),
      };
      if (sa.encryption.userAssignedIdentity) encryption.identity = { userAssignedIdentity: sa.encryption.userAssignedIdentity };
    }
    const body: Record<string, unknown> = {
      id,
      name: sa.name,
      type: "Microsoft.Storage/storageAccounts",
      location: sa.location,
      kind: sa.kind,
      sku: { name: sa.sku, tier: sa.sku.startsWith("Premium") ? "Premium" : "Standard" },
      tags: {},
      properties: {
        provisioningState: "Succeeded",
        creationTime: iso(created),
        primaryLocation: sa.location,
        statusOfPrimary: "available",
        primaryEndpoints: { blob: `https://${sa.name}.blob.core.windows.net/`, file: `https://${sa.name}.file.core.windows.net/` },
        encryption,
        accessTier: "Hot",
        supportsHttpsTrafficOnly: true,
        minimumTlsVersion: "TLS1_2",
        allowBlobPublicAccess: false,
      },
    };
    const ident = identityBody(sa.identity, tenantId);
    if (ident) body.identity = ident;
    add({ id, type: "Microsoft.Storage/storageAccounts", resourceGroup: sa.resourceGroup, name: sa.name, body });
  }
  materialiseTopics(fixture, state);
  materialiseDataCollectionRules(fixture, state);
  materialiseSignals(fixture, state, now);
  state.armRbac = materialiseArmRbac(fixture);
  return state;
}

export const INSTANCE_FAILOVER_GROUP = "Microsoft.Sql/locations/instanceFailoverGroups";

/**
 * A VM's extensions as VM GET returns them in `resources` (VirtualMachineExtension); the VM list shows only their ids
 * (handlers/arm.ts). ASR's is SiteRecovery-<osType>, publisher Microsoft.Azure.RecoveryServices.SiteRecovery, type
 * Windows|Linux (UNVERIFIED settings and version; a Linux VM also gets a SiteRecovery-Linux<Distro>, not modelled).
 */
function vmExtensions(vm: Fixture["virtualMachines"][number], vmId: string): Record<string, unknown>[] {
  const all = [
    ...(vm.siteRecovery ? [{ name: `SiteRecovery-${vm.osType}`, publisher: "Microsoft.Azure.RecoveryServices.SiteRecovery", type: vm.osType, typeHandlerVersion: "1.0" }] : []),
    ...vm.extensions,
  ];
  return all.map((e) => ({
    id: `${vmId}/extensions/${e.name}`,
    name: e.name,
    type: "Microsoft.Compute/virtualMachines/extensions",
    location: vm.location,
    properties: { publisher: e.publisher, type: e.type, typeHandlerVersion: e.typeHandlerVersion, autoUpgradeMinorVersion: true, provisioningState: "Succeeded" },
  }));
}

export function sqlKeyResource(instanceId: string, resourceGroup: string, keyName: string, uri: string, created: Date): Omit<ArmResource, "subscriptionId"> {
  const id = `${instanceId}/keys/${keyName}`;
  return {
    id,
    type: "Microsoft.Sql/managedInstances/keys",
    resourceGroup,
    name: keyName,
    body: {
      id,
      name: keyName,
      type: "Microsoft.Sql/managedInstances/keys",
      kind: "azurekeyvault",
      properties: { serverKeyType: "AzureKeyVault", uri, thumbprint: thumbprintOf(uri), creationDate: iso(created), autoRotationEnabled: false },
    },
  };
}

export function encryptionProtectorResource(
  instanceId: string,
  resourceGroup: string,
  serverKeyType: "AzureKeyVault" | "ServiceManaged",
  serverKeyName: string,
  uri: string | undefined,
  autoRotationEnabled: boolean,
): Omit<ArmResource, "subscriptionId"> {
  const id = `${instanceId}/encryptionProtector/current`;
  const props: Record<string, unknown> = { serverKeyName, serverKeyType, autoRotationEnabled };
  if (uri) {
    props.uri = uri;
    props.thumbprint = thumbprintOf(uri);
  }
  return {
    id,
    type: "Microsoft.Sql/managedInstances/encryptionProtector",
    resourceGroup,
    name: "current",
    body: { id, name: "current", type: "Microsoft.Sql/managedInstances/encryptionProtector", kind: serverKeyType === "AzureKeyVault" ? "azurekeyvault" : "servicemanaged", properties: props },
  };
}
