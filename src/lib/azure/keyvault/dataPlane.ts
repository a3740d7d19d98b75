import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  type HttpClient,
  type HttpMethods,
  type Pipeline,
  RestError,
} from "@azure/core-rest-pipeline";
import { keyVaultAuthenticationPolicy } from "@azure/keyvault-common";
import type { TokenCredential } from "@azure/core-auth";
import type { CommonClientOptions } from "../pipelineOptions.js";

/**
 * The JSON transport of the Managed HSM data-plane clients without an SDK on our registry (RBAC, settings):
 * core-rest-pipeline with Key Vault's challenge-auth policy — the same stack KeyClient uses — and the request
 * layer's retry, TLS, agent and HTTP client options.
 */
export class HsmDataPlane {
  private readonly pipeline: Pipeline;
  private readonly httpClient: HttpClient;
  /** The HSM's data-plane URI without a trailing slash. */
  readonly baseUrl: string;

  constructor(hsmUri: string, credential: TokenCredential, options: CommonClientOptions) {
    this.baseUrl = hsmUri.replace(/\/+$/, "");
    this.pipeline = createPipelineFromOptions({
      retryOptions: options.retryOptions,
      ...(options.agent ? { agent: options.agent } : {}),
    });
    this.pipeline.addPolicy(keyVaultAuthenticationPolicy(credential, {}));
    this.httpClient = options.httpClient ?? createDefaultHttpClient();
  }

  /** Sends a request (JSON body if given) and parses the JSON answer; any status outside `expected` is a RestError. */
  async sendJson<T>(method: HttpMethods, url: string, expected: readonly number[], body?: unknown): Promise<T> {
    const headers = createHttpHeaders({ accept: "application/json" });
    if (body !== undefined) headers.set("content-type", "application/json");
    const request = createPipelineRequest({ url, method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const response = await this.pipeline.sendRequest(this.httpClient, request);
    const text = response.bodyAsText ?? "";
    if (!expected.includes(response.status)) {
      let code: string | undefined;
      let message = `Managed HSM answered ${response.status}`;
      try {
        const error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        code = error?.code;
        if (error?.message) message = error.message;
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
