/**
 * Durable commit for the SQLite store: transactions commit at synchronous=NORMAL and this module
 * makes them durable by fdatasync-ing the WAL itself, mostly off the event loop. It knows which
 * committed batches wait for a sync, which readers wait for a position, and the last durable
 * position that readers of the log may see.
 *
 * Why: the fsync of a commit used to block the event loop for the disk's latency. Now a batch is
 * committed at NORMAL and made durable by an fsync of the WAL started after that commit: on the
 * event loop right away while the disk syncs fast (see `inlineSyncPolicy`), otherwise off the loop
 * (one at a time: batches committed meanwhile share the next), while the loop serves other
 * requests and commits the next batch. Until that fsync returns, the batch's events are
 * committed but not durable: a power loss may take them back (SQLite recovers the WAL up to the
 * last synced frame). So nothing may act on them or show them yet:
 *   - readAll, subscriptions, headPosition and readSignatures stop at `readerCap()`;
 *   - readStream and findIdempotentAppend, which the command path needs current (deciding on
 *     an older version would only conflict), wait for the events they return (`whenDurable`);
 *   - a duplicate of a key, or an append that lost to a not yet durable one, settles with its batch.
 * Commits by another process on the same file are synced by this store too before its readers
 * see them (PRAGMA data_version shows them). A failed sync fails the store
 * (EventStoreDurabilityError) rather than guess what reached the disk.
 */
import { closeSync, fdatasync, fdatasyncSync, fstatSync, openSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type Database from 'better-sqlite3';
import { EventStoreDurabilityError } from '../errors.js';
import { WalCheckpointer, type WalCheckpointOptions } from './wal-checkpoints.js';

/** What the store provides: its view of the log and how a batch is settled. */
export interface WalDurabilityHost<B> {
  readonly adapterName: string;
  /** The committed head this connection sees (other connections' commits included). */
  head(): number;
  /** PRAGMA data_version: it changes when another connection commits. */
  dataVersion(): number;
  /** Settles a batch once a sync covered it (the store resolves its appends, in order). */
  settle(batch: B): void;
  /** Fails a batch that waited for a sync that failed. */
  reject(batch: B, failure: EventStoreDurabilityError): void;
  /** The durable position moved: wake the subscriptions. */
  advanced(): void;
}

interface DurableWaiter {
  position: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

// fdatasync: the data and the file size needed to read it back, without the timestamps (about
// 130 against 170 µs median per sync on this machine). SQLite's own os_unix.c holds that
// "an fdatasync() is always adequate" for its files; its bundled build here calls fsync only
// because it is not compiled with HAVE_FDATASYNC.
export const syncOffLoop = (fd: number): Promise<void> =>
  new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));

/**
 * When a committed batch is synced on the event loop rather than on the thread pool. An off-loop
 * sync costs two thread hand-overs and, under load, a whole turn of the loop before its appends
 * settle (its callback waits behind the requests that arrived meanwhile); an inline one blocks the
 * loop for the fdatasync itself, 0.1-0.3 ms on this machine's disk (p50 0.11, p99 0.27, worst
 * 3.8 ms in 3,000). Measured on `npm run bench -- e2e`, 3 alternating pairs (2026-12-05 18:38):
 * every batch synced inline when no sync ran took 13% less CPU per request, for `registerAsset`
 * and `analyseRisk` alike, and answered 8-17% more requests a second. A slow disk turns that
 * around (the loop would wait out each sync), so an inline sync slower than `slowMs` sends the next
 * `offLoopAfterSlow` syncs off the loop before one is tried inline again. A lone batch while nothing
 * overlapped lately (one writer awaiting each append) is synced inline whatever the disk: nothing
 * else could use the loop meanwhile. Tests replace `now` to play a slow disk.
 */
export const inlineSyncPolicy = { slowMs: 2, offLoopAfterSlow: 100, now: (): number => performance.now() };

export class WalDurability<B> {
  /** Every event at or below this position is on disk; readers of the log stop here. */
  private durable: number;
  /** data_version as the readers last saw it: another connection's commits need our sync. */
  private readerDataVersion: number;
  /** Whether readerCap asked for data_version in this turn of the event loop (reset by nextTurn). */
  private askedThisTurn = false;
  private readonly nextTurn = (): void => {
    this.askedThisTurn = false;
  };
  private unsynced: B[] = [];
  private waiters: DurableWaiter[] = [];
  private syncing: Promise<void> | null = null;
  private again = false;
  /** No appends overlapped lately: a lone batch is synced inline (see committed()). */
  private quiet: boolean;
  /** Off-loop syncs still to make since an inline one was slow (inlineSyncPolicy). */
  private offLoopLeft = 0;
  private failed: EventStoreDurabilityError | null = null;
  syncs = 0;
  inlineSyncs = 0;
  /** Checkpoints the file off the event loop, when asked for (wal-checkpoints.ts). */
  private checkpointer: WalCheckpointer | null = null;

  /**
   * The files this store writes, as it opened them (the database and its WAL): a path that no
   * longer names the same file (removed, or another file moved over it) means the commits went
   * to a file nobody will open again (operations probe 10-c, M3: `rm events.sqlite*` under a
   * running server, then 686 writes acknowledged and lost at the restart). Looked at after each
   * sync, before anything is acknowledged (two stat calls, ~2 µs).
   */
  private readonly files: { path: string; dev: number; ino: number }[] = [];

  private constructor(
    private fd: number | null,
    private readonly host: WalDurabilityHost<B>,
    private readonly syncWal: (fd: number) => Promise<void>,
    private readonly inlineAllowed: boolean,
  ) {
    this.durable = host.head();
    this.readerDataVersion = host.dataVersion();
    this.quiet = inlineAllowed;
  }

  /**
   * Opens the WAL for the store's own syncs and switches commits to synchronous=NORMAL, after
   * syncing what the file holds (a process that died before its sync may have left committed
   * frames in the page cache only). Without a WAL file to open (in memory), SQLite syncs each
   * commit itself (synchronous=FULL stays) and every committed batch is durable at once.
   */
  static open<B>(db: Database.Database, path: string | null, host: WalDurabilityHost<B>, syncWal?: (fd: number) => Promise<void>, checkpoints?: WalCheckpointOptions): WalDurability<B> {
    let fd: number | null = null;
    if (path !== null) {
      try {
        fd = openSync(`${path}-wal`, 'r+');
      } catch {
        fd = null;
      }
    }
    if (fd !== null) {
      try {
        fdatasyncSync(fd);
        db.pragma('synchronous = NORMAL');
      } catch (error) {
        closeSync(fd);
        throw error;
      }
    }
    const durability = new WalDurability(fd, host, syncWal ?? syncOffLoop, syncWal === undefined);
    if (fd !== null && path !== null) {
      const { dev, ino } = statSync(path);
      const wal = fstatSync(fd);
      durability.files.push({ path, dev, ino }, { path: `${path}-wal`, dev: wal.dev, ino: wal.ino });
    }
    if (checkpoints && path !== null) durability.checkpointer = WalCheckpointer.start(db, checkpoints);
    return durability;
  }

  /** The store's own syncs are off: SQLite syncs each commit. */
  get bySqlite(): boolean {
    return this.fd === null;
  }

  /** Set once a sync failed: nothing more is acknowledged. */
  get failure(): EventStoreDurabilityError | null {
    return this.failed;
  }

  /**
   * A batch was committed. `alone`: it is the only thing in flight (nothing queued behind it).
   * With no sync running, it is synced right here while the disk syncs fast, and, whatever the
   * disk, when it is a lone batch while nothing overlapped lately (one writer awaiting each
   * append: the thread pool would add two thread wake-ups to a wait nothing else can use; the
   * one-writer bench measured 0.55 of raw that way, 0.75 inline). See `inlineSyncPolicy`.
   * Otherwise the sync runs off the loop, and batches committed meanwhile share the next one.
   * `head`: the log's head right after this commit (the committing connection held the write
   * lock, so nothing else was in between); an inline sync covers up to it without asking SQLite.
   */
  committed(batch: B, alone: boolean, head: number): void {
    if (this.fd === null) {
      this.host.settle(batch);
      return;
    }
    this.unsynced.push(batch);
    if (this.inlineAllowed && !this.syncing && this.unsynced.length === 1 && (this.offLoopLeft === 0 || (this.quiet && alone))) {
      this.syncInline(head);
      return;
    }
    this.quiet = false;
    this.request();
  }

  /** Resolves once `position` is durable; null when it already is. */
  whenDurable(position: number): Promise<void> | null {
    if (position <= this.durable || this.fd === null) return null;
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ position, resolve, reject });
      this.request();
    });
  }

  /** The last position readers of the log may see. */
  readerCap(): number {
    // SQLite synced every commit: the committed head (a fixed bound: a page read up to it stays
    // the same page, which the followers' shared page relies on).
    if (this.fd === null) return this.host.head();
    // Another process committed: visible to this connection, durable only once synced (by its
    // writer, unknown to us, or by the sync requested here, which wakes the subscriptions).
    // Asked once per turn of the event loop: the followers a sync wakes all read in one turn
    // (about seven asks per commit under the e2e bench, 8 µs each). A reader is shown what is
    // durable either way and never waits for this sync, so a commit made after this turn's ask
    // is noticed by the next turn's first reader (the followers poll when idle).
    if (!this.askedThisTurn) {
      this.askedThisTurn = true;
      setImmediate(this.nextTurn);
      const dataVersion = this.host.dataVersion();
      if (dataVersion !== this.readerDataVersion) {
        this.readerDataVersion = dataVersion;
        this.request();
      }
    }
    return this.durable;
  }

  /** Syncs and settles everything committed, then closes the WAL handle (and stops the checkpointer). */
  async close(): Promise<void> {
    await this.checkpointer?.close();
    while (!this.failed && (this.syncing || this.unsynced.length > 0 || this.waiters.length > 0)) {
      if (!this.syncing) this.request();
      await this.syncing;
    }
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** Starts a sync unless one runs (then another follows it); it covers the head read first. */
  private request(): void {
    if (this.syncing) {
      this.again = true;
      return;
    }
    if (this.fd === null || this.failed) return;
    this.again = false;
    const upTo = this.host.head();
    const settling = this.unsynced;
    this.unsynced = [];
    this.syncs++;
    if (this.offLoopLeft > 0) this.offLoopLeft--;
    this.syncing = this.syncWal(this.fd).then(
      () => {
        this.syncing = null;
        const replaced = this.replacedFile();
        if (replaced) {
          this.fail(replaced, settling);
          return;
        }
        this.synced(upTo, settling);
        if (this.again || this.unsynced.length > 0 || this.waiters.length > 0) this.request();
        else this.quiet = this.inlineAllowed;
      },
      (error: unknown) => {
        this.syncing = null;
        this.fail(error, settling);
      },
    );
  }

  private syncInline(upTo: number): void {
    const settling = this.unsynced;
    this.unsynced = [];
    this.syncs++;
    this.inlineSyncs++;
    const started = inlineSyncPolicy.now();
    try {
      fdatasyncSync(this.fd!);
    } catch (error) {
      this.fail(error, settling);
      return;
    }
    if (inlineSyncPolicy.now() - started > inlineSyncPolicy.slowMs) this.offLoopLeft = inlineSyncPolicy.offLoopAfterSlow;
    const replaced = this.replacedFile();
    if (replaced) {
      this.fail(replaced, settling);
      return;
    }
    this.synced(upTo, settling);
  }

  /** A sync that covered every event up to `upTo` returned: settle, release, wake. */
  private synced(upTo: number, settling: B[]): void {
    const advanced = upTo > this.durable;
    if (advanced) this.durable = upTo;
    for (const batch of settling) this.host.settle(batch);
    if (this.waiters.length > 0) {
      const waiting = this.waiters;
      this.waiters = [];
      for (const w of waiting) {
        if (w.position <= this.durable) w.resolve();
        else this.waiters.push(w);
      }
    }
    if (advanced) this.host.advanced();
  }

  /** Why the files synced are no longer the store's files at their paths, or null (see `files`). */
  private replacedFile(): Error | null {
    for (const file of this.files) {
      let now: { dev: number; ino: number };
      try {
        now = statSync(file.path);
      } catch (error) {
        return new Error(`${basename(file.path)} was removed while the store had it open (${(error as NodeJS.ErrnoException).code ?? 'gone'}): what it committed since cannot be read back. Restore the store and restart`);
      }
      if (now.ino !== file.ino || now.dev !== file.dev) {
        return new Error(`${basename(file.path)} was replaced by another file while the store had it open: what it committed since went to the old file. Restore the store and restart`);
      }
    }
    return null;
  }

  /**
   * After a failed sync the kernel may have dropped the written pages: nothing that waited is
   * acknowledged, and the store takes no further append until it is reopened.
   */
  private fail(cause: unknown, settling: B[]): void {
    const failure = new EventStoreDurabilityError(this.host.adapterName, cause);
    this.failed = failure;
    for (const batch of [...settling, ...this.unsynced]) this.host.reject(batch, failure);
    this.unsynced = [];
    for (const w of this.waiters) w.reject(failure);
    this.waiters = [];
  }
}
