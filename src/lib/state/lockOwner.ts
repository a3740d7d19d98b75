import { hostname } from "node:os";

/** Who holds a lease: this host and process, and the run or invocation on whose behalf. */
export function lockOwner(id: string): string {
  return `${hostname()}:${process.pid}:${id}`;
}
