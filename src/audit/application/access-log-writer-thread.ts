import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AccessRecord } from './access-log-chain.js';

/** What the writer thread is started with. */
export interface WriterThreadData {
  path: string;
  anchorPath: string | null;
  /** The server's Ed25519 private key (the writer signs each batch's head), or none. */
  signingKey: KeyObject | null;
  /** Int32 slots shared with the main thread: COMMITTED, STATE and RETRYING below. */
  shared: SharedArrayBuffer;
}

export type WriterRequest = { type: 'batch'; id: number; records: AccessRecord[] } | { type: 'close' };
/** 'written' only wakes the main thread to forget what is committed (the COMMITTED slot says how far). */
export type WriterReport = { type: 'written'; id: number } | { type: 'log'; level: 'warn' | 'error'; message: string; fields?: Record<string, unknown> };

/** The id of the last batch the writer committed (batches are numbered from 1 in the order sent). */
export const COMMITTED = 0;
/** RUNNING, then CLOSED (everything it was sent is written, synced and anchored) or FAILED. */
export const STATE = 1;
/** 1 while its last write failed and it is retrying (a full disk, a locked file): nobody should wait for it. */
export const RETRYING = 2;
export const RUNNING = 0;
export const CLOSED = 1;
export const FAILED = 2;

/** The built writer's file, when there is one (null when running from the TypeScript sources). */
export function builtAccessLogWriter(): URL | null {
  const url = new URL('./access-log-writer.worker.js', import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : null;
}

export interface WriterThreadHooks {
  log(level: 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
  /** The thread died: these entries were sent to it and not committed (write them elsewhere). */
  failed(unwritten: AccessRecord[], reason: string): void;
  /** It committed a batch (after a failed one, the log is writable again). */
  committed?(): void;
}

/**
 * The access log's batches, written by a worker thread (access-log-writer.worker.ts) with a
 * connection of its own: the hash chain, the inserts, the head's signature, the WAL's sync and
 * the anchor, off the event loop. The main thread batches entries as before and posts each batch.
 *
 * What the main thread still needs to know, it reads from three shared slots rather than waiting
 * for a message: the last batch committed (so that page(), verify() and close() can block until
 * what they were asked after is in the file, as they did when the write was theirs, and the
 * lookups can add what is still on its way), whether the thread is running, closed or failed, and
 * whether it is retrying a failed write (then nobody waits for it).
 */
export class AccessLogWriterThread {
  private readonly worker: Worker;
  private readonly shared = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
  private lastSent = 0;
  /** Batches sent and not yet known to be committed, oldest first. */
  private sent: { id: number; records: AccessRecord[] }[] = [];
  /** The entries of those batches. */
  private sentRecords = 0;
  private over = false;

  constructor(entry: URL, data: Omit<WriterThreadData, 'shared'>, private readonly hooks: WriterThreadHooks) {
    this.worker = new Worker(entry, { workerData: { ...data, shared: this.shared.buffer } satisfies WriterThreadData });
    this.worker.on('message', (report: WriterReport) => {
      if (report.type === 'log') return hooks.log(report.level, report.message, report.fields);
      this.confirmed();
      hooks.committed?.();
    });
    this.worker.on('error', (error) => this.fail(`the access log's writer thread failed: ${error.message}`));
    this.worker.on('exit', (code) => this.fail(`the access log's writer thread exited (code ${code})`));
    // Idle, it keeps no process alive; with a batch on its way, it does (see confirmed()).
    this.worker.unref();
  }

  /** Sends a batch; it is committed shortly after, in the order sent. */
  write(records: AccessRecord[]): void {
    const id = ++this.lastSent;
    this.sent.push({ id, records });
    this.sentRecords += records.length;
    this.worker.ref();
    this.worker.postMessage({ type: 'batch', id, records } satisfies WriterRequest);
  }

  /** How many entries were sent and not yet committed. */
  queued(): number {
    this.confirmed();
    return this.sentRecords;
  }

  /** Whether its last write failed and it is retrying it (a full disk, a locked file). */
  retrying(): boolean {
    return !this.over && Atomics.load(this.shared, RETRYING) === 1;
  }

  /** Entries sent and not yet committed, oldest first. */
  pending(): AccessRecord[] {
    this.confirmed();
    return this.sent.flatMap((batch) => batch.records);
  }

  /**
   * Blocks the calling thread until every batch sent is committed, or `timeoutMs` passed, or the
   * thread failed, or is retrying a write that failed (then at once: a request must not wait on a
   * full disk): true when they are all in the file. (page() and verify() wait so for what was
   * queued before them; a batch takes a few ms.)
   */
  awaitWritten(timeoutMs = 5_000): boolean {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const committed = Atomics.load(this.shared, COMMITTED);
      if (committed >= this.lastSent) return true;
      const left = deadline - Date.now();
      if (this.over || Atomics.load(this.shared, STATE) !== RUNNING || Atomics.load(this.shared, RETRYING) || left <= 0) return false;
      Atomics.wait(this.shared, COMMITTED, committed, left);
    }
  }

  /**
   * Asks the thread to write what it was sent, sync and anchor it, and stop; blocks until it has
   * (or `timeoutMs`). Returns the entries it did not commit (none, normally), or null when it did
   * not answer in time: what it holds may or may not reach the file.
   */
  close(timeoutMs = 30_000): AccessRecord[] | null {
    if (this.over) return [];
    this.worker.postMessage({ type: 'close' } satisfies WriterRequest);
    const deadline = Date.now() + timeoutMs;
    let left = timeoutMs;
    while (Atomics.load(this.shared, STATE) === RUNNING && left > 0) {
      Atomics.wait(this.shared, STATE, RUNNING, left);
      left = deadline - Date.now();
    }
    const answered = Atomics.load(this.shared, STATE) !== RUNNING;
    const unwritten = this.pending();
    this.over = true;
    if (!answered) void this.worker.terminate();
    return answered ? unwritten : null;
  }

  /** Forgets the batches the thread has committed; with none left on its way, it keeps no process alive. */
  private confirmed(): void {
    const committed = Atomics.load(this.shared, COMMITTED);
    while (this.sent.length && this.sent[0]!.id <= committed) this.sentRecords -= this.sent.shift()!.records.length;
    if (!this.sent.length) this.worker.unref();
  }

  private fail(reason: string): void {
    if (this.over) return;
    this.over = true;
    this.hooks.failed(this.pending(), reason);
  }
}
