/**
 * The emulator clock: frozen unless moved here. Every change goes through these functions, so that whatever
 * follows the clock (LROs, auto-rotation, consumer access) has one place to hook in.
 */
import { addDuration } from "../duration.js";
import type { Duration } from "../duration.js";
import type { Runtime } from "./runtime.js";

export function advanceClock(rt: Runtime, by: Duration): Date {
  return setClock(rt, addDuration(rt.clock.now, by));
}

export function setClock(rt: Runtime, to: Date): Date {
  rt.clock.now = new Date(to.getTime());
  return new Date(rt.clock.now.getTime());
}
