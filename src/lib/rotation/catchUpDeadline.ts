import { parseIsoDuration } from "../config/durations.js";

/** When a consumer that moves on its own must have caught up: the version's creation plus its catch-up time. */
export function catchUpDeadline(createdOn: string, catchUpWithin: string): Date {
  return new Date(Date.parse(createdOn) + parseIsoDuration(catchUpWithin).days * 86_400_000);
}
