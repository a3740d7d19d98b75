/**
 * Joins identical reads that are in flight at the same moment, and nothing more: a read that has finished is
 * never handed to a later caller, so every caller still gets an answer Azure gave after its read was asked for
 * or, at worst, while it was being asked (the preconditions stay fresh). Hundreds of one key's consumer steps
 * checking their identity's access at once then cost one read of each role scope instead of four reads each,
 * which matters on Managed HSM: its local RBAC answers about 5 operations a second (azure-facts: MHSM RBAC ops).
 */
export class InFlightReads {
  private readonly pending = new Map<string, Promise<unknown>>();
  private started = 0;
  private joined = 0;

  read<T>(key: string, start: () => Promise<T>): Promise<T> {
    const existing = this.pending.get(key);
    if (existing) {
      this.joined++;
      return existing as Promise<T>;
    }
    this.started++;
    const read: Promise<T> = start().finally(() => {
      if (this.pending.get(key) === read) this.pending.delete(key);
    });
    this.pending.set(key, read);
    return read;
  }

  /** Reads sent, and reads that joined one already in flight. */
  stats(): { started: number; joined: number } {
    return { started: this.started, joined: this.joined };
  }
}
