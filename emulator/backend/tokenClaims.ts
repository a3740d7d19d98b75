/** The claims of an unsigned emulator JWT that the data planes authorise on (the caller's oid, the audience). */
export function tokenClaims(token: string): { oid?: unknown; aud?: unknown } | undefined {
  const parts = token.split(".");
  if (parts.length < 2) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
    return payload && typeof payload === "object" ? (payload as { oid?: unknown; aud?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}
