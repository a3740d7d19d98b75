import type { AccessToken, TokenCredential } from "@azure/core-auth";

/**
 * The credential KeyWarden uses against its built-in emulator: a static, unsigned JWT that names the
 * caller's object id, which the emulated Managed HSM local RBAC authorises. Never used against Azure.
 */
export function createEmulatorToken(principalId: string, tenantId = "00000000-0000-0000-0000-000000000000", audience?: string): string {
  const header = base64url(JSON.stringify({ alg: "none", typ: "JWT" }));
  const payload = base64url(JSON.stringify({ oid: principalId, tid: tenantId, iss: "keywarden-emulator", ...(audience ? { aud: audience } : {}) }));
  return `${header}.${payload}.`;
}

/** The audience Entra puts in a token for `<resource>/.default` (the emulated Event Grid checks it; HSM and ARM do not). */
function audienceOf(scopes: string | string[]): string | undefined {
  const scope = Array.isArray(scopes) ? scopes[0] : scopes;
  return scope ? scope.replace(/\/\.default$/, "") : undefined;
}

export function createEmulatorCredential(principalId: string, tenantId?: string): TokenCredential {
  const tokens = new Map<string, string>();
  return {
    async getToken(scopes: string | string[]): Promise<AccessToken> {
      const audience = audienceOf(scopes);
      let token = tokens.get(audience ?? "");
      if (token === undefined) {
        token = createEmulatorToken(principalId, tenantId, audience);
        tokens.set(audience ?? "", token);
      }
      // Far in the future so the SDKs' token refreshers never ask again during a run. Token lifetimes are
      // wall-clock time (the SDK compares them with Date.now()), so the injected Clock does not apply.
      // eslint-disable-next-line no-restricted-properties
      return { token, expiresOnTimestamp: Date.now() + 24 * 3600_000, tokenType: "Bearer" };
    },
  };
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}
