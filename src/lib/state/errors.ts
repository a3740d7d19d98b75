/**
 * Errors of the state store. Messages name the item and the reason; they never carry a body, a key, a
 * SAS or a connection string (the store's `description` is safe to include).
 */
export class StateStoreError extends Error {
  override readonly name: string = "StateStoreError";
  /** The item concerned, when there is one. */
  readonly item: string | undefined;

  constructor(message: string, options: { item?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.item = options.item;
  }
}

/** A conditional write found the item changed (or gone) since the etag it was given. */
export class StateConflictError extends StateStoreError {
  override readonly name: string = "StateConflictError";
}

/** A lease expired and was taken by someone else, or its item is gone: the holder no longer holds it. */
export class LeaseLostError extends StateStoreError {
  override readonly name: string = "LeaseLostError";
}

/** A name (or list prefix) outside the store's naming rules (see stateName.ts). */
export class InvalidStateNameError extends StateStoreError {
  override readonly name: string = "InvalidStateNameError";
}
