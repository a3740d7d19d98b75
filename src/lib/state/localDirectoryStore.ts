import { createHash, randomUUID } from "node:crypto";
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Clock } from "../clock.js";
import { LeaseLostError, StateConflictError, StateStoreError } from "./errors.js";
import { assertLeaseDuration, assertStateName, assertStatePrefix } from "./stateName.js";
import type { Lease, StateStore, StoredItem } from "./stateStore.js";

/**
 * Files under `dir`:
 *   items/<segment>/…/<last segment>#   one file per item; "#" is not a name character, so a file ("a#")
 *                                       never collides with the directory of "a/b"
 *   leases/<same layout>                the lease record of a leased name (JSON: leaseId, owner, expiresAtMs)
 *   mutex/<hash of name>/               held only for the read-modify-write of one item or lease record
 *   tmp/                                bodies being written, linked or renamed into place when complete
 */
const ITEM_SUFFIX = "#";

/** A mutex older than this belongs to a process that died inside its few-millisecond critical section. */
const STALE_MUTEX_MS = 10_000;
/** How long to wait for a mutex before giving up (it is held for milliseconds at a time). */
const MUTEX_WAIT_MS = 30_000;

export interface LocalDirectoryStoreOptions {
  /** Lease expiry is judged by this clock. */
  clock: Clock;
}

interface LeaseRecord {
  leaseId: string;
  owner: string;
  expiresAtMs: number;
}

export function createLocalDirectoryStore(dir: string, options: LocalDirectoryStoreOptions): StateStore {
  const root = resolve(dir);
  const { clock } = options;
  const itemPath = (name: string) => join(root, "items", ...segmentsOf(name)) + ITEM_SUFFIX;
  const leasePath = (name: string) => join(root, "leases", ...segmentsOf(name)) + ITEM_SUFFIX;
  const tmpDir = join(root, "tmp");
  const mutexDir = join(root, "mutex");

  /** Writes body to a new temp file, durably, and returns its path. */
  async function writeTemp(body: string): Promise<string> {
    await mkdir(tmpDir, { recursive: true });
    const path = join(tmpDir, randomUUID());
    const handle = await open(path, "wx");
    try {
      await handle.writeFile(body, "utf8");
      // The journal must survive a crash: the body is on disk before its name points at it.
      await handle.datasync();
    } finally {
      await handle.close();
    }
    return path;
  }

  /** Puts body at path atomically (readers see the old file or the new one, never a part). */
  async function replaceFile(path: string, body: string): Promise<void> {
    const temp = await writeTemp(body);
    try {
      await mkdir(dirname(path), { recursive: true });
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  /** Creates path with body unless it exists: link() fails with EEXIST rather than overwrite. */
  async function createFile(path: string, body: string): Promise<boolean> {
    const temp = await writeTemp(body);
    try {
      await mkdir(dirname(path), { recursive: true });
      await link(temp, path);
      return true;
    } catch (error) {
      if (codeOf(error) === "EEXIST") return false;
      throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /** The file system's own "now", so a mutex's age is measured on the clock that stamped it. */
  async function fileSystemNowMs(): Promise<number> {
    await mkdir(tmpDir, { recursive: true });
    const probe = join(tmpDir, `probe-${randomUUID()}`);
    await (await open(probe, "wx")).close();
    try {
      return (await stat(probe)).mtimeMs;
    } finally {
      await unlink(probe).catch(() => undefined);
    }
  }

  /**
   * Runs fn holding the per-name mutex: mkdir succeeds for exactly one process at a time. A mutex left by a
   * process that died holding it is broken once it is older than STALE_MUTEX_MS.
   */
  async function withMutex<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const path = join(mutexDir, createHash("sha256").update(name).digest("hex").slice(0, 40));
    await mkdir(mutexDir, { recursive: true });
    let waitedMs = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(path);
        break;
      } catch (error) {
        if (codeOf(error) !== "EEXIST") throw storeError(`cannot take the mutex of ${name}`, name, error);
      }
      if (attempt % 50 === 49 && (await breakIfStale(path))) continue;
      if (waitedMs >= MUTEX_WAIT_MS) {
        throw new StateStoreError(`State item ${name} in local directory ${root} stayed busy for ${MUTEX_WAIT_MS} ms (another process holds its mutex)`, { item: name });
      }
      const delay = Math.min(25, 1 + attempt) * (0.5 + Math.random());
      waitedMs += delay;
      await sleep(delay);
    }
    try {
      return await fn();
    } finally {
      await rm(path, { recursive: true, force: true });
    }
  }

  async function breakIfStale(path: string): Promise<boolean> {
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(path)).mtimeMs;
    } catch (error) {
      if (codeOf(error) === "ENOENT") return true;
      throw error;
    }
    if ((await fileSystemNowMs()) - mtimeMs < STALE_MUTEX_MS) return false;
    // Rename first: of several processes breaking the same stale mutex, one rename succeeds.
    const broken = `${path}.broken-${randomUUID()}`;
    try {
      await rename(path, broken);
    } catch (error) {
      if (codeOf(error) === "ENOENT") return true;
      throw error;
    }
    await rm(broken, { recursive: true, force: true });
    return true;
  }

  async function readItem(name: string): Promise<StoredItem | undefined> {
    const body = await readText(itemPath(name), name);
    return body === undefined ? undefined : { name, body, etag: etagOf(body) };
  }

  async function readText(path: string, name: string): Promise<string | undefined> {
    try {
      return await readFile(path, "utf8");
    } catch (error) {
      if (codeOf(error) === "ENOENT") return undefined;
      throw storeError(`cannot read ${name}`, name, error);
    }
  }

  async function readLease(name: string): Promise<LeaseRecord | undefined> {
    const text = await readText(leasePath(name), name);
    if (text === undefined) return undefined;
    try {
      const record = JSON.parse(text) as Partial<LeaseRecord>;
      if (typeof record.leaseId === "string" && typeof record.owner === "string" && typeof record.expiresAtMs === "number") {
        return { leaseId: record.leaseId, owner: record.owner, expiresAtMs: record.expiresAtMs };
      }
    } catch {
      // fall through: a record we cannot read is reported, never treated as free
    }
    throw new StateStoreError(`The lease record of ${name} in local directory ${root} is not valid JSON of a lease`, { item: name });
  }

  function storeError(what: string, name: string, error: unknown): StateStoreError {
    const code = codeOf(error);
    return new StateStoreError(`State store local directory ${root} ${what}${code ? ` (${code})` : ""}`, { item: name, cause: error });
  }

  function leaseOf(name: string, owner: string, leaseId: string, durationMs: number): Lease {
    return {
      name,
      owner,
      renew: () =>
        withMutex(name, async () => {
          const record = await readLease(name);
          if (record?.leaseId !== leaseId) {
            throw new LeaseLostError(`The lease on ${name} held by ${owner} was lost: ${record ? `${record.owner} holds it now` : "it is no longer there"}`, { item: name });
          }
          // As in Blob Storage, an expired lease nobody else took can still be renewed.
          await replaceFile(leasePath(name), JSON.stringify({ ...record, expiresAtMs: clock.now().getTime() + durationMs }));
        }),
      release: () =>
        withMutex(name, async () => {
          const record = await readLease(name);
          if (record?.leaseId === leaseId) await unlink(leasePath(name)).catch(ignoreMissing);
        }),
    };
  }

  return {
    description: `local directory ${root}`,

    async create(name, body) {
      assertStateName(name);
      try {
        return await createFile(itemPath(name), body);
      } catch (error) {
        throw storeError(`cannot create ${name}`, name, error);
      }
    },

    async put(name, body, putOptions) {
      assertStateName(name);
      const ifMatch = putOptions?.ifMatch;
      // Every write takes the mutex, so a conditional write's check and its write are one step.
      return withMutex(name, async () => {
        if (ifMatch !== undefined) {
          const current = await readItem(name);
          if (current?.etag !== ifMatch) {
            throw new StateConflictError(`State item ${name} ${current ? "changed" : "is gone"} since etag ${ifMatch}; it was not written`, { item: name });
          }
        }
        try {
          await replaceFile(itemPath(name), body);
        } catch (error) {
          throw storeError(`cannot write ${name}`, name, error);
        }
        return { etag: etagOf(body) };
      });
    },

    async get(name) {
      assertStateName(name);
      return readItem(name);
    },

    async list(prefix) {
      assertStatePrefix(prefix);
      // Start at the deepest directory the prefix names; filter the rest by the prefix's text.
      const fixed = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
      const names: string[] = [];
      await walk(join(root, "items", ...segmentsOf(fixed)), fixed, names);
      return names.filter((name) => name.startsWith(prefix)).sort(compareNames);
    },

    async delete(name) {
      assertStateName(name);
      return withMutex(name, async () => {
        try {
          await unlink(itemPath(name));
          return true;
        } catch (error) {
          if (codeOf(error) === "ENOENT") return false;
          throw storeError(`cannot delete ${name}`, name, error);
        }
      });
    },

    async acquireLease(name, { durationMs, owner }) {
      assertStateName(name);
      assertLeaseDuration(name, durationMs);
      return withMutex(name, async () => {
        const record = await readLease(name);
        const now = clock.now().getTime();
        if (record && record.expiresAtMs > now) return undefined;
        // Like the Blob store, a leased name exists as an (empty) item.
        await createFile(itemPath(name), "");
        const leaseId = randomUUID();
        await replaceFile(leasePath(name), JSON.stringify({ leaseId, owner, expiresAtMs: now + durationMs } satisfies LeaseRecord));
        return leaseOf(name, owner, leaseId, durationMs);
      });
    },
  };
}

function segmentsOf(name: string): string[] {
  return name === "" ? [] : name.split("/");
}

async function walk(dir: string, name: string, into: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (codeOf(error) === "ENOENT" || codeOf(error) === "ENOTDIR") return;
    throw error;
  }
  for (const entry of entries) {
    const full = name === "" ? entry.name : `${name}/${entry.name}`;
    if (entry.isDirectory()) await walk(join(dir, entry.name), full, into);
    else if (entry.isFile() && entry.name.endsWith(ITEM_SUFFIX)) into.push(full.slice(0, -ITEM_SUFFIX.length));
  }
}

/** Names are ASCII (stateName.ts), so code-unit order is Blob Storage's byte order. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The etag is a hash of the content: the same body has the same etag. */
function etagOf(body: string): string {
  return `"sha256-${createHash("sha256").update(body, "utf8").digest("hex").slice(0, 32)}"`;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function ignoreMissing(error: unknown): void {
  if (codeOf(error) !== "ENOENT") throw error;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
