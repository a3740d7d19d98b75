import type { TokenCredential } from "@azure/core-auth";
import type { HttpMethods } from "@azure/core-rest-pipeline";
import type { CommonClientOptions } from "../pipelineOptions.js";
import { HsmDataPlane } from "./dataPlane.js";

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
  private readonly dataPlane: HsmDataPlane;
  private readonly baseUrl: string;

  constructor(hsmUri: string, credential: TokenCredential, options: CommonClientOptions) {
    this.dataPlane = new HsmDataPlane(hsmUri, credential, options);
    this.baseUrl = this.dataPlane.baseUrl;
  }

  /** Role assignments visible at `scope` ("/", "/keys" or "/keys/<name>"). */
  listRoleAssignments(scope: string, filter?: string): Promise<WireRoleAssignment[]> {
    return this.listAll<WireRoleAssignment>(this.scopedUrl(scope, "roleAssignments", filter));
  }

  /** One role assignment at exactly `scope`, by its name (a GUID). */
  getRoleAssignment(scope: string, name: string): Promise<WireRoleAssignment> {
    return this.sendJson<WireRoleAssignment>("GET", this.scopedUrl(scope, `roleAssignments/${encodeURIComponent(name)}`), [200]);
  }

  /**
   * Assigns `roleDefinitionId` (the role definition's id, e.g. "Microsoft.KeyVault/providers/Microsoft.Authorization/
   * roleDefinitions/<guid>") to `principalId` at `scope`. `name` is the new assignment's GUID. Managed HSM answers 201.
   */
  createRoleAssignment(scope: string, name: string, properties: { roleDefinitionId: string; principalId: string }): Promise<WireRoleAssignment> {
    return this.sendJson<WireRoleAssignment>("PUT", this.scopedUrl(scope, `roleAssignments/${encodeURIComponent(name)}`), [201], { properties });
  }

  /** Deletes a role assignment at `scope`; Managed HSM answers 200 with the deleted assignment. */
  deleteRoleAssignment(scope: string, name: string): Promise<WireRoleAssignment> {
    return this.sendJson<WireRoleAssignment>("DELETE", this.scopedUrl(scope, `roleAssignments/${encodeURIComponent(name)}`), [200]);
  }

  listRoleDefinitions(scope = "/"): Promise<WireRoleDefinition[]> {
    return this.listAll<WireRoleDefinition>(this.scopedUrl(scope, "roleDefinitions"));
  }

  /** One role definition by its name (a GUID); built-in and custom definitions live at scope "/". */
  getRoleDefinition(name: string, scope = "/"): Promise<WireRoleDefinition> {
    return this.sendJson<WireRoleDefinition>("GET", this.scopedUrl(scope, `roleDefinitions/${encodeURIComponent(name)}`), [200]);
  }

  /**
   * Creates or replaces the custom role definition `name` (a GUID of the caller's choosing, so a rerun names the same
   * one). Managed HSM keeps role definitions at "/" only, and answers 201 to a create and to an update.
   */
  createOrUpdateRoleDefinition(
    name: string,
    properties: { roleName: string; description: string; permissions: { actions: string[]; notActions: string[]; dataActions: string[]; notDataActions: string[] }[]; assignableScopes: string[] },
  ): Promise<WireRoleDefinition> {
    return this.sendJson<WireRoleDefinition>("PUT", this.scopedUrl("/", `roleDefinitions/${encodeURIComponent(name)}`), [201], { properties: { ...properties, type: "CustomRole" } });
  }

  /** `resource` is the path under Microsoft.Authorization: a collection, or a collection and an item name. */
  private scopedUrl(scope: string, resource: string, filter?: string): string {
    const prefix = scope.replace(/\/+$/, "");
    const query = new URLSearchParams({ "api-version": RBAC_API_VERSION });
    if (filter) query.set("$filter", filter);
    return `${this.baseUrl}${prefix}/providers/Microsoft.Authorization/${resource}?${query.toString()}`;
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

  private getJson<T>(url: string): Promise<T> {
    return this.sendJson<T>("GET", url, [200]);
  }

  private sendJson<T>(method: HttpMethods, url: string, expected: readonly number[], body?: unknown): Promise<T> {
    return this.dataPlane.sendJson<T>(method, url, expected, body);
  }
}
