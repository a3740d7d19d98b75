import { cleanCell, renderFields, renderTable } from "../text/table.js";
import type {
  CollectionError,
  EstateSnapshot,
  KeyReference,
  KeySnapshot,
  ManagedHsmSnapshot,
  RoleAssignmentSnapshot,
  SnapshotPart,
} from "../estate/snapshot.js";

/** What a part that could not be read shows: never a blank that reads as "none". */
export const UNKNOWN = "unknown (see collection errors)";

export interface RenderInventoryOptions {
  /** Display names by principal object id (lower case), e.g. from the policy, shown next to role assignments. */
  principalNames?: ReadonlyMap<string, string>;
}

/** The estate snapshot as plain-text sections and tables for a terminal. */
export function renderInventory(snapshot: EstateSnapshot, options: RenderInventoryOptions = {}): string {
  const sections: string[] = [
    renderFields([
      ["Collected at", formatTime(snapshot.collectedAt)],
      ["Cloud", snapshot.cloud],
      ["Subscriptions", snapshot.subscriptions.join(", ") || "none"],
      ["Managed HSMs", String(snapshot.managedHsms.length)],
      ["Collection errors", snapshot.errors.length === 0 ? "none" : `${snapshot.errors.length} (listed at the end)`],
    ]),
  ];
  for (const hsm of snapshot.managedHsms) sections.push(...renderManagedHsm(hsm, options));
  sections.push(...renderConsumers(snapshot));
  sections.push(section("Collection errors", renderErrors(snapshot.errors)));
  return `KeyWarden estate snapshot\n\n${sections.join("\n\n")}\n`;
}

function section(title: string, body: string): string {
  return `${title}\n${"=".repeat(title.length)}\n${body}`;
}

function subsection(title: string, body: string): string {
  return `${title}\n${body}`;
}

/** Renders a list that may be unknown (null) or empty. */
function listOrNote<T>(items: readonly T[] | null, render: (items: readonly T[]) => string, none = "none"): string {
  if (items === null) return `  ${UNKNOWN}`;
  if (items.length === 0) return `  ${none}`;
  return render(items);
}

function renderManagedHsm(hsm: ManagedHsmSnapshot, options: RenderInventoryOptions): string[] {
  const props = hsm.properties;
  const fields: [string, string][] = [
    ["Resource id", hsm.resourceId],
    ["Location", hsm.location ?? UNKNOWN],
    ["Data plane", hsm.hsmUri ?? UNKNOWN],
  ];
  if (props === null) {
    fields.push(["Properties", UNKNOWN]);
  } else {
    const acls = props.networkAcls;
    fields.push(
      ["Provisioning state", text(props.provisioningState)],
      ["Security domain", text(props.securityDomainActivationStatus)],
      ["Soft delete", `${flag(props.enableSoftDelete)}, retention ${props.softDeleteRetentionInDays === undefined ? "not reported" : `${props.softDeleteRetentionInDays} days`}`],
      ["Purge protection", flag(props.enablePurgeProtection)],
      ["Public network access", text(props.publicNetworkAccess)],
      [
        "Network ACLs",
        acls === undefined
          ? "not reported"
          : `default action ${text(acls.defaultAction)}, bypass ${text(acls.bypass)}, ${acls.ipRules.length} IP rule(s), ${acls.virtualNetworkRules.length} VNet rule(s)${acls.serviceTags && acls.serviceTags.length > 0 ? `, service tags ${acls.serviceTags.join(", ")}` : ""}`,
      ],
      ["Tenant", text(props.tenantId)],
      ["Initial administrators", props.initialAdminObjectIds.join(", ") || "none"],
    );
  }

  const regions = listOrNote(hsm.regions, (items) =>
    renderTable(["REGION", "PRIMARY", "STATE"], items.map((region) => [region.name, region.isPrimary ? "yes" : "no", text(region.provisioningState)]), "  "),
  );
  const privateEndpoints = listOrNote(hsm.privateEndpointConnections, (items) =>
    renderTable(
      ["PRIVATE ENDPOINT", "REGION", "STATUS", "STATE"],
      items.map((connection) => [
        lastSegment(connection.privateEndpointId ?? connection.id),
        connection.privateEndpointLocation ?? UNKNOWN,
        text(connection.status),
        text(connection.provisioningState),
      ]),
      "  ",
    ),
  );
  const diagnostics = listOrNote(hsm.diagnosticSettings, (items) =>
    renderTable(
      ["NAME", "DESTINATION", "LOGS ENABLED"],
      items.map((setting) => [
        setting.name,
        [setting.workspaceId, setting.storageAccountId, setting.eventHubAuthorizationRuleId]
          .filter((id): id is string => id !== undefined)
          .map(lastSegment)
          .join(", ") || "none",
        setting.logs.filter((log) => log.enabled).map((log) => log.category ?? log.categoryGroup ?? "?").join(", ") || "none",
      ]),
      "  ",
    ),
  );

  return [
    section(`Managed HSM ${hsm.name}`, renderFields(fields, "  ")),
    subsection("Regions", regions),
    subsection("Private endpoints", privateEndpoints),
    subsection("Diagnostic settings", diagnostics),
    subsection("Keys (one row per version)", listOrNote(hsm.keys, renderKeyVersions)),
    subsection("Rotation policies", listOrNote(hsm.keys, renderRotationPolicies)),
    subsection("Role assignments", listOrNote(hsm.roleAssignments, (items) => renderRoleAssignments(items, options))),
  ];
}

function renderKeyVersions(keys: readonly KeySnapshot[]): string {
  const rows: string[][] = [];
  for (const key of keys) {
    const size = key.keySize === undefined ? text(key.keyType) : `${text(key.keyType)} ${key.keySize}`;
    if (key.versions === null) {
      rows.push([key.name, size, UNKNOWN, "", "", "", ""]);
      continue;
    }
    if (key.versions.length === 0) {
      rows.push([key.name, size, "no versions", "", "", "", ""]);
      continue;
    }
    const newestFirst = [...key.versions].sort((a, b) => (b.createdOn ?? "").localeCompare(a.createdOn ?? ""));
    for (const version of newestFirst) {
      rows.push([
        key.name,
        size,
        shortVersion(version.version),
        flag(version.enabled, "yes", "no"),
        formatTime(version.createdOn),
        formatTime(version.expiresOn),
        version.version === key.currentVersion ? "yes" : "",
      ]);
    }
  }
  return renderTable(["KEY", "TYPE", "VERSION", "ENABLED", "CREATED", "EXPIRES", "CURRENT"], rows, "  ");
}

function renderRotationPolicies(keys: readonly KeySnapshot[]): string {
  const rows = keys.map((key) => {
    const policy = key.rotationPolicy;
    if (policy === null) return [key.name, UNKNOWN, "", ""];
    const actions = policy.lifetimeActions.map((action) => {
      const when = action.timeAfterCreate !== undefined ? `${action.timeAfterCreate} after create` : action.timeBeforeExpiry !== undefined ? `${action.timeBeforeExpiry} before expiry` : "no trigger";
      return `${action.action} ${when}`;
    });
    return [key.name, policy.expiresIn ?? "not set", actions.join("; ") || "none (no automatic rotation)", formatTime(policy.updatedOn)];
  });
  return renderTable(["KEY", "EXPIRES IN", "LIFETIME ACTIONS", "UPDATED"], rows, "  ");
}

function renderRoleAssignments(assignments: readonly RoleAssignmentSnapshot[], options: RenderInventoryOptions): string {
  const rows = [...assignments]
    .sort((a, b) => a.scope.localeCompare(b.scope) || (a.roleName ?? "").localeCompare(b.roleName ?? ""))
    .map((assignment) => {
      const displayName = options.principalNames?.get(assignment.principalId.toLowerCase());
      return [
        displayName === undefined ? assignment.principalId : `${assignment.principalId} (${displayName})`,
        assignment.roleName ?? `${lastSegment(assignment.roleDefinitionId)} (unresolved)`,
        assignment.scope,
      ];
    });
  return renderTable(["PRINCIPAL", "ROLE", "SCOPE"], rows, "  ");
}

/**
 * A consumer list read per subscription: the table of what was read, then a line per subscription
 * whose list could not be read (its consumers are not in the table).
 */
function consumerList<T>(snapshot: EstateSnapshot, parts: SnapshotPart[], items: readonly T[], render: (items: readonly T[]) => string): string {
  const wanted = new Set(parts);
  const unread = [...new Set(snapshot.errors.filter((e) => wanted.has(e.part) && e.about.kind === "subscription").map((e) => (e.about as { subscription: string }).subscription))];
  const table = items.length === 0 ? (unread.length > 0 ? "" : "  none") : render(items);
  const notes = unread.map((sub) => `  subscription ${sub}: ${UNKNOWN}`);
  return [table, ...notes].filter((line) => line !== "").join("\n");
}

function renderConsumers(snapshot: EstateSnapshot): string[] {
  const { sqlManagedInstances, diskEncryptionSets, storageAccounts } = snapshot.consumers;

  const sql = consumerList(snapshot, ["consumers.sqlManagedInstances"], sqlManagedInstances, (items) =>
    renderTable(
      ["SQL MANAGED INSTANCE", "REGION", "PROTECTOR", "KEY", "VERSION", "AUTO-ROTATION"],
      items.map((mi) => {
        const protector = mi.encryptionProtector;
        if (protector === null) return [mi.name, mi.location, UNKNOWN, "", "", ""];
        return [
          mi.name,
          mi.location,
          text(protector.serverKeyType),
          keyName(protector.keyReference, protector.serverKeyType === "ServiceManaged" ? "service-managed" : protector.uri),
          keyVersion(protector.keyReference),
          flag(protector.autoRotationEnabled, "on", "off"),
        ];
      }),
      "  ",
    ),
  );

  const des = consumerList(snapshot, ["consumers.diskEncryptionSets"], diskEncryptionSets, (items) =>
    renderTable(
      ["DISK ENCRYPTION SET", "REGION", "KEY", "VERSION", "ROTATE TO LATEST", "ERROR"],
      items.map((set) => [
        set.name,
        set.location,
        keyName(set.keyReference, set.activeKeyUrl),
        keyVersion(set.keyReference),
        flag(set.rotationToLatestKeyVersionEnabled, "on", "off"),
        set.autoKeyRotationError === undefined
          ? ""
          : [set.autoKeyRotationError.code, set.autoKeyRotationError.message].filter((part) => part !== undefined).join(": "),
      ]),
      "  ",
    ),
  );

  const storage = consumerList(snapshot, ["consumers.storageAccounts"], storageAccounts, (items) =>
    renderTable(
      ["STORAGE ACCOUNT", "REGION", "KEY SOURCE", "KEY", "VERSION", "VERSION IN USE"],
      items.map((account) => {
        const customerKey = account.keySource?.toLowerCase() === "microsoft.keyvault";
        return [
          account.name,
          account.location,
          text(account.keySource),
          customerKey ? keyName(account.keyReference, account.keyName) : "platform-managed",
          customerKey ? (account.keyVersion === undefined || account.keyVersion === "" ? "versionless" : shortVersion(account.keyVersion)) : "",
          account.currentVersionedKeyIdentifier === undefined ? "" : shortVersion(lastSegment(account.currentVersionedKeyIdentifier)),
        ];
      }),
      "  ",
    ),
  );

  return [
    section("Consumers", subsection("SQL managed instances", sql)),
    subsection("Disk encryption sets", des),
    subsection("Disks and virtual machines", renderDisks(snapshot)),
    subsection("Storage accounts", storage),
  ];
}

function renderDisks(snapshot: EstateSnapshot): string {
  const { disks, virtualMachines } = snapshot.consumers;
  const diskById = new Map(disks.map((disk) => [disk.resourceId.toLowerCase(), disk]));
  const listed = new Set<string>();
  const rows: string[][] = [];
  for (const vm of virtualMachines) {
    for (const vmDisk of vm.disks) {
      const disk = vmDisk.diskId === undefined ? undefined : diskById.get(vmDisk.diskId.toLowerCase());
      if (disk !== undefined) listed.add(disk.resourceId.toLowerCase());
      rows.push([
        vm.name,
        vmDisk.name ?? disk?.name ?? lastSegment(vmDisk.diskId ?? "?"),
        vmDisk.role === "os" ? "os" : `data (lun ${vmDisk.lun ?? "?"})`,
        disk?.encryptionType ?? "",
        lastSegment(vmDisk.diskEncryptionSetId ?? disk?.diskEncryptionSetId ?? "") || "none",
      ]);
    }
  }
  for (const disk of disks) {
    if (listed.has(disk.resourceId.toLowerCase())) continue;
    const owner = disk.managedBy === undefined ? "(unattached)" : `${lastSegment(disk.managedBy)} (not listed)`;
    rows.push([owner, disk.name, "", text(disk.encryptionType), lastSegment(disk.diskEncryptionSetId ?? "") || "none"]);
  }
  // VMs and disks are in scope through their subscription's DES, so any of the three lists unread leaves them unknown.
  return consumerList(snapshot, ["consumers.virtualMachines", "consumers.disks", "consumers.diskEncryptionSets"], rows, (items) =>
    renderTable(["VM", "DISK", "ROLE", "ENCRYPTION", "DISK ENCRYPTION SET"], items as string[][], "  "),
  );
}

function renderErrors(errors: readonly CollectionError[]): string {
  if (errors.length === 0) return "  none";
  // A numbered list rather than a table: resource ids and Azure's messages are too long for columns.
  const markerWidth = `${errors.length}. `.length;
  return errors
    .map((error, index) => {
      const code = [error.statusCode, error.code].filter((part) => part !== undefined).join(" ");
      const lines = renderFields([
        ["part", error.part],
        ["resource", error.resourceId],
        ["operation", error.operation],
        ["code", code === "" ? "not reported" : code],
        ["message", error.message],
      ]).split("\n");
      const marker = `${index + 1}.`.padEnd(markerWidth);
      return lines.map((line, lineIndex) => `  ${lineIndex === 0 ? marker : " ".repeat(markerWidth)}${line}`).join("\n");
    })
    .join("\n");
}

function keyName(reference: KeyReference | null, fallback: string | undefined): string {
  // The HSM's name (first DNS label) is enough to spot a key in the wrong HSM without flooding the row.
  if (reference !== null) return `${reference.keyName} (${reference.host.split(".")[0] ?? reference.host})`;
  return fallback === undefined || fallback === "" ? "none" : fallback;
}

function keyVersion(reference: KeyReference | null): string {
  if (reference === null) return "";
  return reference.version === null ? "versionless" : shortVersion(reference.version);
}

/** Managed HSM versions are 32 hex digits; the first 8 tell them apart on a screen. */
export function shortVersion(version: string): string {
  return version.length > 8 ? version.slice(0, 8) : version;
}

function lastSegment(id: string): string {
  const segments = id.split("/").filter((segment) => segment !== "");
  return segments[segments.length - 1] ?? id;
}

function text(value: string | undefined): string {
  return value === undefined || value === "" ? "not reported" : cleanCell(value);
}

function flag(value: boolean | undefined, yes = "enabled", no = "disabled"): string {
  if (value === undefined) return "not reported";
  return value ? yes : no;
}

/** ISO time → "2025-03-01 14:05Z" (UTC, minutes), or "" when absent. */
function formatTime(iso: string | undefined): string {
  if (iso === undefined) return "";
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return iso;
  return `${time.toISOString().slice(0, 16).replace("T", " ")}Z`;
}
