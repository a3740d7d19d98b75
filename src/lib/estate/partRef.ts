import type { PartRef } from "./snapshot.js";
import { subscriptionOf } from "./resourceId.js";

/** Builders of the typed references collection errors carry (ids as Azure spells them). */
export const hsmRef = (hsm: string): PartRef => ({ kind: "managedHsm", hsm });
export const privateEndpointRef = (hsm: string, privateEndpoint: string): PartRef => ({ kind: "privateEndpoint", hsm, privateEndpoint });
export const keyRef = (hsm: string, key: string): PartRef => ({ kind: "key", hsm, key });
export const rbacScopeRef = (hsm: string, scope: string): PartRef => ({ kind: "rbacScope", hsm, scope });
export const subscriptionRef = (subscription: string): PartRef => ({ kind: "subscription", subscription });
export function consumerRef(resource: string): PartRef {
  return { kind: "consumer", subscription: subscriptionOf(resource) ?? "", resource };
}

type Field = "hsm" | "privateEndpoint" | "key" | "scope" | "subscription" | "resource";
const FIELDS: readonly Field[] = ["hsm", "privateEndpoint", "key", "scope", "subscription", "resource"];

function field(ref: PartRef, name: Field): string | undefined {
  const value = (ref as Partial<Record<Field, string>>)[name];
  return value === undefined ? undefined : name === "scope" ? normalScope(value) : value.toLowerCase();
}

function normalScope(scope: string): string {
  return (scope.replace(/\/+$/, "") || "/").toLowerCase();
}

/**
 * Whether an error about `error` bears on `query`: both are under the same HSM or the same
 * subscription, and they agree on every finer field both name. So an error about an HSM bears on each
 * of its keys, one about a subscription on each of its consumers, and one about a key on a query
 * about the whole HSM; an error about another key, scope or consumer does not.
 */
export function refersTo(error: PartRef, query: PartRef): boolean {
  const root = (ref: PartRef) => (field(ref, "hsm") !== undefined ? `hsm:${field(ref, "hsm")}` : `subscription:${field(ref, "subscription")}`);
  if (root(error) !== root(query)) return false;
  return FIELDS.every((name) => {
    const a = field(error, name);
    const b = field(query, name);
    return a === undefined || b === undefined || a === b;
  });
}
