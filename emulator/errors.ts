/**
 * The one place error responses are made. Handlers and the backend throw `ServiceError`; the server turns it
 * into Azure's JSON error shape `{"error":{"code","message"}}` (ARM and Key Vault use the same outer shape).
 * Codes marked UNVERIFIED in comments are our best guess; azure-wire.md §7 lists what was not observed.
 */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Extra members of the `error` object (e.g. compute's `target`). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ServiceError";
  }

  toBody(): { error: Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.extra } };
  }
}

export function ensureError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

// ---------------------------------------------------------------- generic
export const notImplemented = (method: string, path: string): ServiceError =>
  new ServiceError(501, "NotImplemented", `The emulator does not implement ${method} ${path}.`);

export const methodNotAllowed = (method: string, path: string, allowed: string[]): ServiceError =>
  new ServiceError(405, "MethodNotAllowed", `The method ${method} is not allowed on ${path}. Allowed: ${allowed.join(", ")}.`, {
    allow: allowed.join(", "),
  });

/** Bad input to a /_emulator control endpoint; the message names the field. */
export const badControlInput = (field: string, reason: string): ServiceError =>
  new ServiceError(400, "InvalidControlInput", `${field}: ${reason}`);

// ---------------------------------------------------------------- ARM
export const armAuthenticationFailed = (): ServiceError =>
  new ServiceError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.");

export const armMissingApiVersion = (): ServiceError =>
  new ServiceError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");

export const armInvalidApiVersion = (apiVersion: string, resourceType: string, supported: string[]): ServiceError =>
  new ServiceError(
    400,
    "InvalidApiVersionParameter",
    `The api-version '${apiVersion}' is invalid. The supported versions for resource type '${resourceType}' are '${supported.join(", ")}'.`,
  );

export const armResourceNotFound = (type: string, name: string, resourceGroup?: string): ServiceError =>
  new ServiceError(
    404,
    "ResourceNotFound",
    `The Resource '${type}/${name}'${resourceGroup ? ` under resource group '${resourceGroup}'` : ""} was not found.`,
  );

export const armResourceGroupNotFound = (resourceGroup: string): ServiceError =>
  new ServiceError(404, "ResourceGroupNotFound", `Resource group '${resourceGroup}' could not be found.`);

export const armSubscriptionNotFound = (subscriptionId: string): ServiceError =>
  new ServiceError(404, "SubscriptionNotFound", `The subscription '${subscriptionId}' could not be found.`);

/** Compute (CRP/DiskRP) style 400: code InvalidParameter with a `target`. */
export const armInvalidParameter = (target: string, message: string): ServiceError =>
  new ServiceError(400, "InvalidParameter", message, {}, { target });

export const armBadRequest = (code: string, message: string): ServiceError => new ServiceError(400, code, message);

export const invalidRequestContent = (message: string): ServiceError =>
  new ServiceError(400, "InvalidRequestContent", message);

// ---------------------------------------------------------------- Key Vault / Managed HSM data plane
export const kvBadParameter = (message: string): ServiceError => new ServiceError(400, "BadParameter", message);

export const kvUnauthorized = (challenge: string, message: string): ServiceError =>
  new ServiceError(401, "Unauthorized", message, { "www-authenticate": challenge });

export const kvForbidden = (message: string): ServiceError => new ServiceError(403, "Forbidden", message);

export const kvKeyNotFound = (name: string, version?: string): ServiceError =>
  new ServiceError(
    404,
    "KeyNotFound",
    version ? `A key with (name/id) ${name}/${version} was not found in this key vault.` : `A key with (name/id) ${name} was not found in this key vault.`,
  );

export const kvRoleAssignmentNotFound = (name: string): ServiceError =>
  new ServiceError(404, "RoleAssignmentNotFound", `Requested role assignment not found (Name: ${name}).`);

export const kvRoleDefinitionNotFound = (name: string): ServiceError =>
  new ServiceError(404, "RoleDefinitionNotFound", `Requested role definition not found (Name: ${name}).`);

/** UNVERIFIED: the code and message Managed HSM gives for a setting name it does not know. */
export const kvSettingNotFound = (name: string): ServiceError => new ServiceError(404, "SettingNotFound", `The setting '${name}' does not exist on this Managed HSM.`);

export const kvHsmNotFound = (host: string): ServiceError =>
  new ServiceError(404, "NotFound", `No Managed HSM serves host '${host}' in the emulated estate.`);

// ---------------------------------------------------------------- Event Grid data plane (custom topics)
/**
 * Event Grid's error body: `{"error":{"code","message","details":[{"code","message"}]}}`, the detail repeating the
 * message under a more specific code. UNVERIFIED against the live service: the shape and the Unauthorized messages
 * follow the Azure SDK for Python's live tests and two third-party simulators (emulator/README.md).
 */
export const eventGridError = (status: number, code: string, message: string, detailCode = code): ServiceError =>
  new ServiceError(status, code, message, {}, { details: [{ code: detailCode, message }] });

export const egUnauthorized = (message: string): ServiceError => eventGridError(401, "Unauthorized", message);

export const egBadRequest = (message: string, detailCode = "InputJsonInvalid"): ServiceError => eventGridError(400, "BadRequest", message, detailCode);

export const egTooLarge = (message: string): ServiceError => eventGridError(413, "RequestEntityTooLarge", message, "PayloadTooLarge");

export const egTopicNotFound = (host: string): ServiceError =>
  eventGridError(404, "NotFound", `No Event Grid topic serves host '${host}' in the emulated estate.`, "ResourceNotFound");

// ---------------------------------------------------------------- Logs Ingestion data plane (data collection endpoints)
/**
 * Azure Monitor's `{"error":{"code","message"}}`. Verified wording (SDK troubleshooting guides, recorded responses):
 * 404 NotFound "Data collection rule with immutable Id '<id>' not found." and 403 OperationFailed "The authentication
 * token provided does not have access to ingest data for the data collection rule with immutable Id '<id>'." The
 * other codes and messages are UNVERIFIED (emulator/README.md "Modelling choices not verified against Azure").
 */
export const ingestionError = (status: number, code: string, message: string, headers: Record<string, string> = {}): ServiceError =>
  new ServiceError(status, code, message, { "x-ms-error-code": code, ...headers });

const INGESTION_CHALLENGE = 'Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", resource_id="https://monitor.azure.com"';

export const ingestUnauthorized = (code: string, message: string): ServiceError => ingestionError(401, code, message, { "www-authenticate": INGESTION_CHALLENGE });

export const ingestRuleNotFound = (immutableId: string): ServiceError => ingestionError(404, "NotFound", `Data collection rule with immutable Id '${immutableId}' not found.`);

export const ingestForbidden = (immutableId: string, principalId: string): ServiceError =>
  ingestionError(
    403,
    "OperationFailed",
    `The authentication token provided does not have access to ingest data for the data collection rule with immutable Id '${immutableId}'. Message: Required authorization action was not found for objectId ${principalId} (the rule's ingestors, or with ARM RBAC modelled its role assignments, do not grant it Microsoft.Insights/Telemetry/Write).`,
  );

export const ingestBadRequest = (code: string, message: string): ServiceError => ingestionError(400, code, message);

export const ingestTooLarge = (message: string): ServiceError => ingestionError(413, "RequestEntityTooLarge", message);

export const ingestEndpointNotFound = (host: string): ServiceError => ingestionError(404, "NotFound", `No data collection endpoint serves host '${host}' in the emulated estate.`);
