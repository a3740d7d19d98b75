import { ComputeManagementClient } from "@azure/arm-compute";
import { MonitorClient } from "@azure/arm-monitor";
import { NetworkManagementClient } from "@azure/arm-network";
import { SqlManagementClient } from "@azure/arm-sql";
import { StorageManagementClient } from "@azure/arm-storage";
import type { TokenCredential } from "@azure/core-auth";
import type { AppSettings } from "../config/types.js";
import { ComputeArm } from "./compute.js";
import { createCredential } from "./credential.js";
import { ManagedHsmKeys } from "./keyvault/keys.js";
import { ManagedHsmRbacClient } from "./keyvault/rbacClient.js";
import { ManagedHsmSettingsClient } from "./keyvault/settingsClient.js";
import { ManagedHsmRoles } from "./keyvault/roles.js";
import { createKeyVaultManagementClient, ManagedHsmsArm } from "./managedHsms.js";
import { DiagnosticSettingsArm } from "./monitor.js";
import { PrivateEndpointsArm } from "./network.js";
import { armClientOptions, dataPlaneClientOptions, monitorClientOptions } from "./pipelineOptions.js";
import { createHsmSignalsReader, type HsmSignalsReader } from "./hsmSignals.js";
import { sharedRequestLayer, type Deadline, type RequestLayer } from "./requests.js";
import { SqlManagedInstancesArm } from "./sql.js";
import { StorageArm } from "./storage.js";

/**
 * Every Azure client KeyWarden uses, built from the settings by one factory. ARM clients are made
 * per subscription on first use; data-plane clients per HSM. Every one of them sends through `requests`
 * (by default the process's shared layer: one concurrency cap and one set of ARM buckets).
 */
export interface AzureClients {
  managedHsms: ManagedHsmsArm;
  privateEndpoints: PrivateEndpointsArm;
  diagnosticSettings: DiagnosticSettingsArm;
  sql: SqlManagedInstancesArm;
  compute: ComputeArm;
  storage: StorageArm;
  /** Keys of one Managed HSM (its data-plane URI). */
  hsmKeys(hsmUri: string): ManagedHsmKeys;
  /** Local RBAC of one Managed HSM (wire types; reads and writes). */
  hsmRbac(hsmUri: string): ManagedHsmRbacClient;
  /** Local RBAC of one Managed HSM, read in the estate's types. */
  hsmRoles(hsmUri: string): ManagedHsmRoles;
  /** The HSMs' own signals: AuditEvent rows in Log Analytics, and Azure Monitor metrics. */
  hsmSignals: HsmSignalsReader;
  /** Account settings of one Managed HSM. */
  hsmSettings(hsmUri: string): ManagedHsmSettingsClient;
  /**
   * The same clients over the same request layer (one cap, one set of buckets), every call through them
   * under `deadline`: a collection's overall deadline. Its SDK clients are made afresh, on first use.
   */
  underDeadline(deadline: Deadline): AzureClients;
}

export function createAzureClients(
  settings: AppSettings,
  credential: TokenCredential = createCredential(settings),
  requests: RequestLayer = sharedRequestLayer(settings),
): AzureClients {
  const endpoint = settings.emulator?.endpoint ?? settings.cloud.resourceManager;
  const audience = settings.cloud.resourceManagerAudience.replace(/\/+$/, "");
  const scopes = [`${audience}/.default`];
  const arm = armClientOptions(settings, requests);
  const dataPlane = dataPlaneClientOptions(settings, requests);
  // core-client SDKs (sql, network, monitor) take credentialScopes; modular ones take credentials.scopes.
  const coreClientOptions = { ...arm, endpoint, credentialScopes: scopes };
  const modularOptions = { ...arm, endpoint, credentials: { scopes } };

  const perSubscription = <T>(make: (subscriptionId: string) => T) => {
    const cache = new Map<string, T>();
    return (subscriptionId: string): T => {
      let client = cache.get(subscriptionId);
      if (!client) {
        client = make(subscriptionId);
        cache.set(subscriptionId, client);
      }
      return client;
    };
  };
  const perHsm = <T>(make: (hsmUri: string) => T) => {
    const cache = new Map<string, T>();
    return (hsmUri: string): T => {
      const key = hsmUri.toLowerCase();
      let client = cache.get(key);
      if (!client) {
        client = make(hsmUri);
        cache.set(key, client);
      }
      return client;
    };
  };

  const hsmRbac = perHsm((uri) => new ManagedHsmRbacClient(uri, credential, dataPlane));
  return {
    managedHsms: new ManagedHsmsArm(perSubscription((s) => createKeyVaultManagementClient(credential, s, endpoint, audience, arm))),
    privateEndpoints: new PrivateEndpointsArm(perSubscription((s) => new NetworkManagementClient(credential, s, coreClientOptions))),
    diagnosticSettings: new DiagnosticSettingsArm(perSubscription((s) => new MonitorClient(credential, s, coreClientOptions))),
    sql: new SqlManagedInstancesArm(perSubscription((s) => new SqlManagementClient(credential, s, coreClientOptions))),
    compute: new ComputeArm(perSubscription((s) => new ComputeManagementClient(credential, s, modularOptions))),
    storage: new StorageArm(perSubscription((s) => new StorageManagementClient(credential, s, modularOptions))),
    hsmKeys: perHsm((uri) => new ManagedHsmKeys(uri, credential, dataPlane)),
    hsmRbac,
    hsmRoles: perHsm((uri) => new ManagedHsmRoles(hsmRbac(uri))),
    hsmSignals: createHsmSignalsReader(credential, settings.cloud, monitorClientOptions(settings, requests), settings.emulator ? new URL(settings.emulator.endpoint).port : undefined),
    hsmSettings: perHsm((uri) => new ManagedHsmSettingsClient(uri, credential, dataPlane)),
    underDeadline: (deadline) => createAzureClients(settings, credential, requests.underDeadline(deadline)),
  };
}
