/** The SQLite store's options, counters and the shapes its group commit passes around. */
import type { AppendResult } from '../event-store.port.js';
import type { PreparedPart, StreamHead } from '../internal/append-support.js';
import type { ChainSigner } from '../signing.js';
import type { WalCheckpointOptions } from './wal-checkpoints.js';

export interface SqliteEventStoreOptions {
  /** Database file; its directory is created if missing. */
  path: string;
  /** How often a caught-up subscription looks for writes by other processes. Default 250 ms. */
  pollIntervalMs?: number;
  /** Most appends written in one transaction. Default 1000. */
  maxBatch?: number;
  /**
   * How long a write waits for a lock another process holds before it fails (SQLITE_BUSY, which
   * the edges answer STORE_UNAVAILABLE). Waited on timers, not on the event loop (busy-retry.ts).
   * Default 5000 ms.
   */
  busyTimeoutMs?: number;
  /** Signs each commit's chain head (in the commit's transaction). Without one, nothing is signed. */
  signer?: ChainSigner;
  /**
   * How the WAL file is made durable, off the event loop. Default: fs.fdatasync on the thread pool
   * (or inline for a lone append, see WalDurability.committed). Tests replace it to hold a sync open
   * and watch what waits for it; every sync then goes through it.
   */
  syncWal?: (fd: number) => Promise<void>;
  /**
   * Checkpoint the file's WAL from a worker thread instead of inside a commit on the event loop
   * (wal-checkpoints.ts). The server turns it on; off by default, so that a library user or a
   * test opening many stores starts no thread per store.
   */
  checkpointOffLoop?: WalCheckpointOptions;
  /**
   * This process holds the file's lock (the server's `<SQLITE_PATH>.lock`, which `import` and a
   * second server respect): no other connection commits to the file but by tampering. Readers of
   * currentStreamHeads then trust the heads this writer committed without asking PRAGMA
   * data_version, a read transaction of its own outside the writer's (20 µs an `analyseRisk` in
   * the e2e profile, and up to milliseconds while the WAL checkpointer holds the file's locks).
   * The writer still asks inside every write transaction: a foreign commit is noticed there, drops
   * the heads, and a command decided on one of them fails its expected version and is retried on
   * what the log holds. Off by default: several stores on one file, as the tests open, ask.
   */
  soleWriter?: boolean;
}

/** Counters of the group commit, for benchmarks and diagnostics. */
export interface SqliteEventStoreStats {
  /** Write transactions committed (or attempted). */
  transactions: number;
  /** Appends settled (committed, duplicate or rejected by the flusher). */
  appends: number;
  /** Events written. */
  events: number;
  /** Largest number of appends in one transaction. */
  largestBatch: number;
  /** fsyncs of the WAL issued by the store (durable commit); 0 when SQLite syncs each commit. */
  syncs: number;
  /** Of those, run inline for a lone append (the others ran off the event loop). */
  inlineSyncs: number;
}

/** A committed batch whose appends are settled once an fsync started after its commit returns. */
export interface UnsyncedBatch {
  batch: PendingAppend[];
  outcomes: Outcome[];
}

/** One queued append: a single stream, or several streams written atomically (appendMultiple). */
export interface PendingAppend {
  parts: PreparedPart[];
  key: string | undefined;
  recordedAt: string | undefined;
  hashVersion: number;
  /** append(): settles with its one part's result; appendMultiple(): with all of them. */
  single: boolean;
  resolve: (value: AppendResult | AppendResult[]) => void;
  reject: (error: unknown) => void;
  /** When a try to write it first met another process's lock (Date.now()): its wait's budget started then. */
  busySince?: number;
}

export type Outcome = { ok: true; results: AppendResult[] } | { ok: false; error: unknown };

export interface BatchResult {
  outcomes: Outcome[];
  /** Head position and global chain hash after the batch. */
  position: number;
  chain: string;
  written: number;
  /** Stream heads the batch wrote. */
  streams: Map<string, StreamHead> | null;
  /** recordedAt of the batch's newest event. */
  lastRecordedAt: string;
}
