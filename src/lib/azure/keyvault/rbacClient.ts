import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  type HttpClient,
  type Pipeline,
  RestError,
} from "@azure/core-rest-pipeline";
import { keyVaultAuthenticationPolicy } from "@azure/keyvault-common";
import type { TokenCredential } from "@azure/core-auth";
import type { CommonClientOptions } from "../pipelineOptions.js";

/**
 * Managed HSM local RBAC (role definitions and assignments), REST per the data-plane spec
 * `rbac.json`. @azure/keyvault-admin is not available to us, so this is a thin client over
 * core-rest-pipeline with Key Vault's challenge-auth policy — the same stack KeyClient uses.
 */
export const RBAC_API_VERSION = "2025-07-01";

export interface WireRoleAssignment {
  id?: string;
  name?: string;
  type?: string;
  properties?: { scope?: string; roleDefinitionId?: string; principalId?: string };
}

export interface WireRoleDefinition {
  id?: string;
  name?: string;
  type?: string;
  properties?: {
    roleName?: string;
    description?: string;
    type?: string;
    permissions?: { actions?: string[]; notActions?: string[]; dataActions?: string[]; notDataActions?: string[] }[];
    assignableScopes?: string[];
  };
}

export class ManagedHsmRbacClient {
  private readonly pipeline: Pipeline;
  private readonly httpClient: HttpClient;
  private readonly baseUrl: string;

  constructor(hsmUri: string, credential: TokenCredential, options: CommonClientOptions) {
    this.baseUrl = hsmUri.replace(/\/+$/, "");
    this.pipeline = createPipelineFromOptions({
      retryOptions: options.retryOptions,
      ...(options.tlsOptions ? { tlsOptions: options.tlsOptions } : {}),
      ...(options.agent ? { agent: options.agent } : {}),
    });
    this.pipeline.addPolicy(keyVaultAuthenticationPolicy(credential, {}));
    this.httpClient = createDefaultHttpClient();
  }

  /** Role assignments visible at `scope` ("/", "/keys" or "/keys/<name>"). */
  listRoleAssignments(scope: string, filter?: string): Promise<WireRoleAssignment[]> {
    return this.listAll<WireRoleAssignment>(this.scopedUrl(scope, "roleAssignments", filter));
  }

  listRoleDefinitions(scope = "/"): Promise<WireRoleDefinition[]> {
    return this.listAll<WireRoleDefinition>(this.scopedUrl(scope, "roleDefinitions"));
  }

  private scopedUrl(scope: string, collection: string, filter?: string): string {
    const prefix = scope.replace(/\/+$/, "");
    const query = new URLSearchParams({ "api-version": RBAC_API_VERSION });
    if (filter) query.set("$filter", filter);
    return `${this.baseUrl}${prefix}/providers/Microsoft.Authorization/${collection}?${query.toString()}`;
  }

  private async listAll<T>(firstUrl: string): Promise<T[]> {
    const items: T[] = [];
    const seen = new Set<string>();
    let url: string | undefined = firstUrl;
    while (url) {
      if (seen.has(url)) throw new Error(`Managed HSM returned a nextLink loop at ${url}`);
      seen.add(url);
      const page: { value?: T[]; nextLink?: string | null } = await this.getJson(url);
      if (!Array.isArray(page.value)) throw new Error(`Managed HSM list response from ${new URL(url).pathname} has no "value" array`);
      items.push(...page.value);
      url = page.nextLink ?? undefined;
      // Follow-up pages keep the api-version, as the SDKs do.
      if (url && !new URL(url).searchParams.has("api-version")) url += `${url.includes("?") ? "&" : "?"}api-version=${RBAC_API_VERSION}`;
    }
    return items;
  }

  private async getJson<T>(url: string): Promise<T> {
    const request = createPipelineRequest({ url, method: "GET", headers: createHttpHeaders({ accept: "application/json" }) });
    const response = await this.pipeline.sendRequest(this.httpClient, request);
    const text = response.bodyAsText ?? "";
    if (response.status !== 200) {
      let code: string | undefined;
      let message = `Managed HSM answered ${response.status}`;
      try {
        const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
        code = body.error?.code;
        if (body.error?.message) message = body.error.message;
      } catch {
        // Not JSON: keep the status-only message.
      }
      throw new RestError(message, { statusCode: response.status, ...(code ? { code } : {}), request, response });
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new RestError(`Managed HSM returned a body that is not JSON for ${new URL(url).pathname}`, { statusCode: response.status, request, response });
    }
  }
}
