/**
 * The access log (Art. 23(2): every access is recorded and can be checked).
 *
 * One row per GraphQL operation, allowed or not, and per request under /documents/ and
 * /evidence/, in its own SQLite file (DATA_DIR/access-log.sqlite; ':memory:' with the in-memory
 * event store): who (or nobody: an unauthenticated request), what (operation name and type, root
 * fields, the ids it targeted), the outcome and the correlation id. Never a token, never an
 * input's content.
 *
 * Append-only twice over: triggers make the file refuse UPDATE and DELETE, and each row carries
 * the hash of the previous one (hash over the row's canonical JSON and prevHash), so an edit made
 * around the triggers shows in verify(). Each batch ends with a signed head, and the last one is
 * also kept in the anchor file next to the log: see access-log-chain.ts for what that shows.
 *
 * Writes are queued and written together, in one transaction, shortly after (flushDelayMs), so a
 * request never waits for the disk; the transaction's fsync and the anchor's are issued off the
 * event loop (see settleSoon); close() writes what is still queued, syncs it and anchors it. In
 * the server, the batches are written by a worker thread instead (writeInThread). The queue is
 * bounded, and while it cannot be written requests' commands are refused (access-log-backlog.ts).
 */
import { ACCESS_LOG_FILE } from '../../config/own-files.js';
import { randomUUID, type KeyObject } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { signingKeyOf, type HeadSignature, type SigningKeys } from '../../event-store/signing.js';
import { WalCheckpointer, type WalCheckpointOptions } from '../../event-store/sqlite/wal-checkpoints.js';
import { syncOffLoop } from '../../event-store/sqlite/wal-durability.js';
import type { JsonLogger } from '../../shared/logging/json-logger.js';
import {
  ACCESS_LOG_COLUMNS,
  ACCESS_LOG_GENESIS,
  accessEntryHash,
  anchorPathFor,
  discontinuityRecord,
  metaValue,
  migrateAccessLog,
  missingAccessLog,
  readAnchor,
  verifyAccessLogDatabaseInSlices,
  writeAnchor,
  writeAnchorFile,
  type AccessLogAnchor,
  type AccessLogEntry,
  type AccessLogVerification,
  type AccessRecord,
  type Discontinuity,
} from './access-log-chain.js';
import { SharedVerification } from './shared-verification.js';
import { commitsIn, correlationsIn, entriesIn, firstEntryIn, systemEntriesIn, type AccessLogFilter } from './access-log-lookups.js';
import { AccessLogRefusedError, startupFindings } from './access-log-startup.js';
import { AccessLogWriterThread, builtAccessLogWriter } from './access-log-writer-thread.js';
import { systemEntryRecord, type HeadAtStart, type SystemEntry } from './access-log-system-entries.js';
import { verifyAccessLogAgainstEvents, type LoggedCommit } from './access-log-crosscheck.js';
import type { EventStore } from '../../event-store/event-store.port.js';
import { AccessLogBacklog, WRITE_FAILED } from './access-log-backlog.js';
import type { CheckableAccessLog } from './access-log-port.js';

export {
  ACCESS_LOG_GENESIS,
  accessEntryHash,
  type AccessLogEntry,
  type AccessLogVerification,
  type AccessOutcome,
  type AccessRecord,
  type OperationType,
} from './access-log-chain.js';
export { AccessLogRefusedError, AccessLogSchemaError } from './access-log-startup.js';
export type { AccessLogFilter } from './access-log-lookups.js';
export { ACCESS_LOG, type AccessLog, type CheckableAccessLog } from './access-log-port.js';

export interface AccessLogOptions {
  /** How long an entry may wait in the queue before the batch is written. Default 25 ms. */
  flushDelayMs?: number;
  /** Queue length that triggers a write at once. Default 500. */
  maxBatch?: number;
  /** Entries held unwritten at most (ACCESS_LOG_MAX_QUEUED, access-log-backlog.ts). Default 10,000. */
  maxQueued?: number;
  logger?: Pick<JsonLogger, 'warn' | 'error'>;
  /** Called after each batch this store commits (the writer thread confirms its batches by it). */
  written?: () => void;
  /** Signs each batch's head (scope 'access-log') and verifies the signatures. Without it: the unkeyed chain only. */
  signing?: SigningKeys | null;
  /**
   * Checkpoint the file's WAL from a worker thread instead of inside a batch's commit on the event
   * loop (the event store's WalCheckpointer, with the same options as the store's). The server
   * turns it on; off by default, so that a test opening many logs starts no thread each.
   */
  checkpointOffLoop?: WalCheckpointOptions;
  /** The anchor file (the last signed head, outside the log). Default with open(): next to the log; with the constructor: none. */
  anchorPath?: string | null;
  /** The event log verify() checks the log against (access-log-crosscheck.ts), in the same shared run; none: the log alone. */
  events?: EventStore | null;
}

export interface AccessLogOpenOptions extends AccessLogOptions {
  /** ACCESS_LOG_RESET=1: go on over a missing, truncated or unsigned log, recording that as an entry. */
  reset?: boolean;
  /** Why there must have been an access log already (e.g. "the event log already holds events"), or null. */
  priorState?: () => Promise<string | null>;
  /** The previous run stopped uncleanly, leaving this event log head: recorded before any request (access-log-system-entries.ts). */
  uncleanStop?: HeadAtStart | null;
  /**
   * Write the batches in a worker thread (access-log-writer-thread.ts): true for the built worker
   * beside this module when there is one (none when running from the TypeScript sources), or the
   * worker's file. The server turns it on; a file log only.
   */
  writeOffLoop?: boolean | URL;
}

interface Head {
  seq: number;
  hash: string;
}

export class AccessLogStore implements CheckableAccessLog {
  private readonly db: Database.Database;
  private queue: AccessRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly flushDelayMs: number;
  private readonly maxBatch: number;
  private readonly insert: Database.Statement;
  private readonly insertHead: Database.Statement;
  private readonly head: Database.Statement;
  private readonly writeBatch: Database.Transaction<(records: AccessRecord[]) => { head: Head; signature: HeadSignature | null }>;
  readonly anchorPath: string | null;
  /** This log's id (a replaced file has another). */
  readonly logId: string;
  /** The head this process last wrote (or found): another writer's rows show as a difference. */
  private known: Head;
  /** The last head this process signed, and the highest one renamed into the anchor file. */
  private lastSigned: { head: Head; signature: HeadSignature } | null = null;
  private anchoredSeq = -1;
  /**
   * The WAL file, which this process fsyncs itself (off the event loop) before an anchor names
   * what it holds; null when SQLite syncs each commit (synchronous=FULL) or the log is in memory.
   */
  private walFd: number | null = null;
  private checkpointer: WalCheckpointer | null = null;
  private readonly startCheckpointer: () => void;
  /** Batches committed since the last background sync began, and the newest signed head among them. */
  private unsynced = false;
  private toAnchor: { head: Head; signature: HeadSignature } | null = null;
  private settling = false;
  /** The anchor file being renamed into place in the background, if any (close() cancels it). */
  private renaming: { tmp: string; cancelled: boolean } | null = null;
  /** Names this store's background anchor file apart from any other store's on the same path. */
  private readonly tmpSuffix = randomUUID().slice(0, 8);
  /** The verification under way, which concurrent verify() calls share. */
  private readonly verification = new SharedVerification(() => this.options.logger);
  /** The thread that writes the batches (writeInThread), or null: this one writes them. */
  private writer: AccessLogWriterThread | null = null;
  readonly backlog: AccessLogBacklog;

  /**
   * Opens the log for the server: refuses (AccessLogRefusedError) to go on over a log that is
   * missing, truncated, replaced, has unsigned entries at its end or lost its anchor, unless
   * `reset`, in which case each finding is recorded as a discontinuity entry, signed.
   */
  static async open(path: string, options: AccessLogOpenOptions = {}): Promise<AccessLogStore> {
    const anchorPath = options.anchorPath === undefined ? anchorPathFor(path) : options.anchorPath;
    const inMemory = path === ':memory:';
    const existed = !inMemory && existsSync(path);
    const anchor = anchorPath ? readAnchor(anchorPath) : null;
    const findings: Discontinuity[] = [];
    if (!inMemory && !existed) {
      if (anchor) findings.push({ kind: 'ACCESS_LOG_MISSING', fromSeq: 1, note: missingAccessLog(path, anchorPath).reason! });
      else {
        const prior = await options.priorState?.();
        if (prior) {
          findings.push({ kind: 'ACCESS_LOG_MISSING', fromSeq: 1, note: `there is no access log at ${path} (nor its anchor), but ${prior}: an access log that existed may have been deleted` });
        }
      }
      if (findings.length && !options.reset) throw new AccessLogRefusedError(findings);
    }
    const store = new AccessLogStore(path, { ...options, anchorPath });
    try {
      if (existed) findings.push(...startupFindings(store.db, { path, anchorPath, logId: store.logId, head: store.known, signs: !!options.signing }, anchor));
      if (findings.length && !options.reset) throw new AccessLogRefusedError(findings);
      if (findings.length) {
        options.logger?.error('access log discontinuity acknowledged with ACCESS_LOG_RESET=1: recorded in the access log, verifyAccessLog reports it', { findings });
        store.writeNow(findings.map((f) => discontinuityRecord(f, new Date().toISOString())));
      } else if (anchorPath && options.signing && anchor === null && store.known.seq === 0 && !options.uncleanStop) {
        // A new log: anchor its genesis at once, so that deleting it before its first entry also shows.
        store.anchor({ seq: 0, hash: ACCESS_LOG_GENESIS }, options.signing.signer.sign('access-log', '0', ACCESS_LOG_GENESIS));
      }
      // Before any request: the entries the previous run lost are acknowledged by this one, signed.
      if (options.uncleanStop) store.writeNow([systemEntryRecord({ kind: 'uncleanStop', head: options.uncleanStop }, new Date().toISOString())]);
      const writerEntry = options.writeOffLoop === true ? builtAccessLogWriter() : options.writeOffLoop || null;
      // A signer whose key cannot be handed over (not one of signerFor's) keeps the writing here.
      const signingKey = options.signing ? signingKeyOf(options.signing.signer) : null;
      if (writerEntry && !inMemory && (signingKey || !options.signing)) store.writeInThread(writerEntry, signingKey);
    } catch (error) {
      store.close();
      throw error;
    }
    return store;
  }

  constructor(readonly path: string, private readonly options: AccessLogOptions = {}) {
    this.flushDelayMs = options.flushDelayMs ?? 25;
    this.maxBatch = options.maxBatch ?? 500;
    this.backlog = new AccessLogBacklog({ queued: () => this.queue.length + (this.writer?.queued() ?? 0), retrying: () => this.writer?.retrying() ?? false }, options.maxQueued);
    this.anchorPath = options.anchorPath ?? null;
    const inMemory = path === ':memory:';
    if (!inMemory) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new Database(path);
    this.db.pragma('busy_timeout = 5000');
    const wal = this.db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
    // One fsync per batch, not per request.
    this.db.pragma('synchronous = FULL');
    migrateAccessLog(this.db);
    this.db.prepare(`INSERT OR IGNORE INTO access_log_meta (key, value) VALUES ('log_id', ?), ('created_at', ?)`).run(randomUUID(), new Date().toISOString());
    this.logId = metaValue(this.db, 'log_id')!;
    this.insert = this.db.prepare(`INSERT INTO access_log (${ACCESS_LOG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.insertHead = this.db.prepare('INSERT INTO access_log_heads (seq, hash, kid, signature, signed_at) VALUES (?, ?, ?, ?, ?)');
    this.head = this.db.prepare('SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1');
    this.known = this.readHead();
    if (wal && !inMemory) {
      // The batches of flush() are committed without SQLite's fsync (synchronous=NORMAL: still
      // crash-safe, a power loss loses only a suffix) and made durable by an fdatasync of the WAL
      // that this process issues off the event loop, before the anchor moves to them (see
      // settleSoon), as the event store does (wal-durability.ts: syncOffLoop, and why fdatasync
      // suffices). A batch's commit then blocks the event loop for its writes, not for the disk.
      try {
        this.walFd = openSync(`${path}-wal`, 'r+');
        this.db.pragma('synchronous = NORMAL');
      } catch {
        this.walFd = null;
      }
    }
    this.startCheckpointer = () => {
      if (wal && !inMemory && options.checkpointOffLoop && !this.checkpointer) this.checkpointer = WalCheckpointer.start(this.db, options.checkpointOffLoop);
    };
    this.startCheckpointer();
    this.writeBatch = this.db.transaction((records: AccessRecord[]) => {
      // The head is read inside the write transaction. Rows this process did not write are not
      // silently covered by the next signature: the batch first records that they appeared.
      const last = this.readHead();
      if (last.seq !== this.known.seq || last.hash !== this.known.hash) {
        const note = `access log entries after ${this.known.seq} were written or removed by another writer (the file's head was ${last.seq}, expected ${this.known.seq})`;
        records = [discontinuityRecord({ kind: 'ACCESS_LOG_FOREIGN_WRITE', fromSeq: Math.min(last.seq, this.known.seq) + 1, note }, new Date().toISOString()), ...records];
      }
      let seq = last.seq;
      let prev = last.hash;
      for (const r of records) {
        seq++;
        const hash = accessEntryHash(seq, r, prev);
        this.insert.run(
          seq,
          r.at,
          r.actorId,
          r.actorName,
          r.actorRoles === null ? null : JSON.stringify(r.actorRoles),
          r.operationName,
          r.operationType,
          JSON.stringify(r.fields),
          JSON.stringify(r.targetIds),
          r.outcome,
          r.errorCode,
          r.correlationId,
          prev,
          hash,
          r.note ?? null,
          r.committed?.position ?? null,
          r.committed?.eventId ?? null,
        );
        prev = hash;
      }
      const head = { seq, hash: prev };
      const signature = this.options.signing ? this.options.signing.signer.sign('access-log', String(seq), prev) : null;
      if (signature) this.insertHead.run(seq, prev, signature.kid, signature.signature, new Date().toISOString());
      return { head, signature };
    });
  }

  private readHead(): Head {
    const last = this.head.get() as Head | undefined;
    return last ?? { seq: 0, hash: ACCESS_LOG_GENESIS };
  }

  private anchorOf(head: Head, signature: HeadSignature): AccessLogAnchor {
    return { version: 1, logId: this.logId, seq: head.seq, hash: head.hash, kid: signature.kid, signature: signature.signature, signedAt: new Date().toISOString() };
  }

  /** Writes the anchor now, on the event loop (at start and at close). */
  private anchor(head: Head, signature: HeadSignature): void {
    if (!this.anchorPath) return;
    try {
      writeAnchor(this.anchorPath, this.anchorOf(head, signature));
      this.anchoredSeq = Math.max(this.anchoredSeq, head.seq);
    } catch (error) {
      this.options.logger?.error('access log: could not write its anchor', { path: this.anchorPath, error: (error as Error).message });
    }
  }

  /** The log's committed batches made durable now (the WAL fsynced), on the event loop. */
  private syncLog(): void {
    if (this.walFd === null) return;
    try {
      fdatasyncSync(this.walFd);
    } catch (error) {
      this.options.logger?.error('access log: could not sync its file', { path: this.path, error: (error as Error).message });
    }
  }

  /**
   * After a batch committed by flush(): made durable and anchored in the background. The WAL is
   * fsynced off the event loop (one fsync covers every batch committed before it; one at a time,
   * so batches committed meanwhile share the next one), then the anchor file is written and
   * fsynced off the loop too, and renamed into place (off the loop as well: a rename waits for the
   * file system's journal, behind the fsyncs), unless the log was closed (close() syncs and
   * anchors the last head itself, cancelling a rename under way) or a newer head is already
   * there. The anchor never runs ahead of the durable log: the head it names was fsynced before
   * it is written.
   */
  private settleSoon(head: Head, signature: HeadSignature | null): void {
    if (this.walFd === null) {
      // Nothing to sync (in memory, or a file at synchronous=FULL): anchor at once.
      if (signature) this.anchor(head, signature);
      return;
    }
    this.unsynced = true;
    if (signature) this.toAnchor = { head, signature };
    if (!this.settling) void this.settleInBackground();
  }

  private async settleInBackground(): Promise<void> {
    this.settling = true;
    try {
      while (this.unsynced && !this.closed) {
        this.unsynced = false;
        const next = this.toAnchor;
        this.toAnchor = null;
        try {
          await syncOffLoop(this.walFd!);
          if (!next || !this.anchorPath || this.closed || next.head.seq <= this.anchoredSeq) continue;
          // A name of this store's own: a store closed in the same process (a restart, a test)
          // whose background write was still under way removed the next store's file of the same
          // name, whose rename then failed with ENOENT (logged as an error; seen once at load 10).
          const tmp = `${this.anchorPath}.next-${this.tmpSuffix}.tmp`;
          await writeAnchorFile(tmp, this.anchorOf(next.head, next.signature));
          if (this.closed || next.head.seq <= this.anchoredSeq) {
            await rm(tmp, { force: true });
            continue;
          }
          const renaming = (this.renaming = { tmp, cancelled: false });
          try {
            await rename(tmp, this.anchorPath);
          } catch (error) {
            // close() removed the file before it was renamed: it anchors the last head itself.
            if (renaming.cancelled) break;
            throw error;
          } finally {
            this.renaming = null;
          }
          this.anchoredSeq = Math.max(this.anchoredSeq, next.head.seq);
        } catch (error) {
          this.options.logger?.error('access log: could not sync its file or write its anchor; will retry', { path: this.path, error: (error as Error).message });
          // Again with the next batch, or in a second.
          this.toAnchor ??= next;
          this.unsynced = true;
          if (!this.closed) setTimeout(() => !this.settling && this.unsynced && void this.settleInBackground(), 1000).unref();
          break;
        }
      }
    } finally {
      this.settling = false;
      if (this.closed) this.closeWal();
    }
  }

  /** The writer thread writes, syncs and anchors what it was sent, and stops; what it could not write is written here. */
  private closeWriter(writer: AccessLogWriterThread): void {
    this.writer = null;
    const unwritten = writer.close();
    if (unwritten === null) {
      this.options.logger?.error('access log: its writer thread did not finish in time; the entries it had not committed may be lost', { path: this.path });
      return;
    }
    if (!unwritten.length) return;
    try {
      this.known = this.readHead();
      this.writeNow(unwritten);
    } catch (error) {
      this.options.logger?.error('access log write failed at close: entries lost', { error: (error as Error).message, lost: unwritten.length });
    }
  }

  private closeWal(): void {
    if (this.walFd === null) return;
    try {
      closeSync(this.walFd);
    } catch {
      // already closed
    }
    this.walFd = null;
  }

  /**
   * From now on, batches are written by a worker thread with a connection of its own: an entry's
   * hash, insert and index updates, and its share of the batch's signature and commit, took 60-80
   * µs of the event loop (a `registerAsset`'s main-thread CPU fell ~10% without them: README,
   * Benchmarks). This store still queues, reads and verifies. Should the thread fail, what it had
   * not committed is written here, and every batch after it.
   */
  private writeInThread(entry: URL, signingKey: KeyObject | null): void {
    // Checkpoints are the writer's (its connection's automatic ones, off the event loop there).
    void this.checkpointer?.close();
    this.checkpointer = null;
    // The writer signs and anchors from here on: this store's last head is not to be anchored again.
    this.lastSigned = null;
    this.writer = new AccessLogWriterThread(
      entry,
      { path: this.path, anchorPath: this.anchorPath, signingKey },
      {
        log: (level, message, fields) => {
          if (message === WRITE_FAILED) this.backlog.writeFailed(fields?.error);
          this.options.logger?.[level](message, fields);
        },
        committed: () => this.backlog.written(),
        failed: (unwritten, reason) => {
          this.writer = null;
          this.known = this.readHead();
          this.queue = unwritten.concat(this.queue);
          this.options.logger?.error('access log: its writer thread failed; the main thread writes the log from now on', { reason, requeued: unwritten.length });
          if (this.closed) return;
          this.startCheckpointer();
          this.flushSoon(0);
        },
      },
    );
  }

  /** Where the batches are written: the writer thread's, or this thread (main). */
  get thread(): 'worker' | 'main' {
    return this.writer ? 'worker' : 'main';
  }

  /** Writes these entries at once, ahead of anything queued; then syncs and anchors them (now, or in the background). */
  private writeNow(records: AccessRecord[], inBackground = false): void {
    const { head, signature } = this.writeBatch.immediate(records);
    this.known = head;
    if (signature) this.lastSigned = { head, signature };
    if (inBackground) return this.settleSoon(head, signature);
    this.syncLog();
    if (signature) this.anchor(head, signature);
  }

  /** Queues one entry; it is written with the next batch. */
  record(entry: AccessRecord): void {
    if (this.closed) {
      this.options.logger?.warn('access log closed: entry not recorded', { operationName: entry.operationName, outcome: entry.outcome });
      return;
    }
    if (!this.backlog.admits(entry)) return;
    this.queue.push(entry);
    if (this.queue.length >= this.maxBatch) {
      this.flushSoon(0);
    } else {
      this.flushSoon(this.flushDelayMs);
    }
  }

  private flushSoon(delay: number): void {
    if (this.timer && delay > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, delay);
  }

  /** Writes every queued entry now, in one transaction, signs its head and moves the anchor. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.db.open) return;
    const batch = this.backlog.batch(this.queue);
    if (batch.length === 0) return;
    this.queue = [];
    if (this.writer) return this.writer.write(batch);
    try {
      this.writeNow(batch, true);
      this.backlog.written();
      this.options.written?.();
    } catch (error) {
      // Keep the entries and try again later rather than lose them (a busy file, a full disk).
      this.queue = batch.concat(this.queue);
      this.backlog.writeFailed(error);
      this.options.logger?.error(WRITE_FAILED, { error: (error as Error).message, queued: this.queue.length });
      if (!this.closed) this.flushSoon(1000);
    }
  }

  /** Writes what is queued now, and waits until the writer thread (if any) has committed it. */
  private flushAndWait(): void {
    this.flush();
    this.writer?.awaitWritten();
  }

  /** Entries matching the filter, oldest first (queued entries are written first). */
  page(filter: AccessLogFilter): AccessLogEntry[] {
    this.flushAndWait();
    return entriesIn(this.db, filter);
  }

  /**
   * Walks the whole log: every row's hash and link, the signed heads (with the keys given at
   * construction), the anchor; and that the file is still where it was opened. In pages, handing
   * the event loop back between them (anyone can grow the log: every refused request is an entry),
   * up to the head written when it starts; then, given the event log, the cross-check against it
   * (access-log-crosscheck.ts). A call made while a verification runs shares it and its verdict,
   * cross-check included (so N callers cost one walk of each log, not N at once): what was written
   * since it began is checked by the next one. Nothing is kept once it is over: a call made after
   * it walks again.
   */
  verify(): Promise<AccessLogVerification> {
    return this.verification.run(async () => {
      this.flushAndWait();
      const walked =
        this.path !== ':memory:' && !existsSync(this.path)
          ? missingAccessLog(this.path, this.anchorPath)
          : await verifyAccessLogDatabaseInSlices(this.db, { trusted: this.options.signing?.trusted ?? null, anchorPath: this.anchorPath });
      return this.options.events ? verifyAccessLogAgainstEvents(walked, this.options.events, this) : walked;
    });
  }

  /**
   * The entries not in the file yet: on their way to the writer thread, then queued. Taken before
   * the file is read, so that an entry committed meanwhile is in one or the other.
   */
  private unwritten(): AccessRecord[] {
    return this.writer ? [...this.writer.pending(), ...this.queue] : this.queue;
  }

  async firstEntryAt(): Promise<string | null> {
    const unwritten = this.unwritten();
    return firstEntryIn(this.db) ?? unwritten[0]?.at ?? null;
  }

  async correlationsLogged(ids: readonly string[]): Promise<Set<string>> {
    const unwritten = this.unwritten();
    const found = correlationsIn(this.db, ids);
    const asked = new Set(ids);
    for (const r of unwritten) if (r.correlationId && asked.has(r.correlationId)) found.add(r.correlationId);
    return found;
  }

  async systemEntriesLogged(): Promise<SystemEntry[]> {
    return systemEntriesIn(this.db);
  }

  async commitsLogged(after: string | null, upTo: string | null, limit: number): Promise<LoggedCommit[]> {
    return commitsIn(this.db, after, upTo, limit);
  }

  /** Writes what is queued and closes the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.writer) this.closeWriter(this.writer);
    // Everything written is durable, and the last signed head anchored, before close() returns
    // (a background sync or anchor write still under way is superseded). A background rename not
    // yet done is cancelled by removing its file, so that it cannot put an older head in place
    // after this one; if the file is gone, the rename is done and the anchor below follows it.
    if (this.renaming) {
      try {
        unlinkSync(this.renaming.tmp);
        this.renaming.cancelled = true;
      } catch {
        // renamed already
      }
    }
    this.syncLog();
    if (this.lastSigned && this.lastSigned.head.seq > this.anchoredSeq) this.anchor(this.lastSigned.head, this.lastSigned.signature);
    if (!this.settling) this.closeWal();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Its connection closes after ours: SQLite then checkpoints what is left, as our close would.
    void this.checkpointer?.close();
    if (this.db.open) this.db.close();
  }
}

/** Where the access log lives: DATA_DIR/access-log.sqlite (its anchor beside it), or in memory with the in-memory store. */
export function accessLogPath(config: { eventStore: string; dataDir: string }): string {
  return config.eventStore === 'memory' ? ':memory:' : join(config.dataDir, ACCESS_LOG_FILE);
}
