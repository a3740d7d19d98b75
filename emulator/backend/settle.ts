/**
 * What happens after every state-changing request and clock step, in order: long-running operations that were only
 * waiting for emulator time complete; native auto-rotation carries due key versions to consumers; the access model is
 * re-derived (recording any consumer that lost or regained access).
 */
import { refreshAccess } from "./access.js";
import { completeDueOperations, followDueKeyVersions } from "./consumers.js";
import type { Runtime } from "./runtime.js";

export function settle(rt: Runtime): void {
  completeDueOperations(rt);
  followDueKeyVersions(rt);
  refreshAccess(rt);
}
