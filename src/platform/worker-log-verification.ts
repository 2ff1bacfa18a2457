import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AnchoredIntegrityReport, LogAnchor } from '../event-store/anchored-verification.js';
import type { EventStore } from '../event-store/event-store.port.js';
import type { VerifiedHead } from '../event-store/integrity-verifier.js';
import type { TrustedKeys } from '../event-store/signing.js';
import type { JsonLogger } from '../shared/logging/json-logger.js';
import { MainThreadVerification, type LogVerification, type VerificationRun } from './log-verification.js';

/** What the worker is started with: the store's file and the trusted public keys (PEM). */
export interface VerificationWorkerData {
  path: string;
  trustedPems: string[];
}

export type VerificationRequest =
  | { type: 'verify'; id: number; from: VerifiedHead | null; upTo: string | null }
  | { type: 'verify-anchored'; id: number; anchor: LogAnchor | null; progress?: boolean }
  | { type: 'abort'; id: number }
  | { type: 'close' };

export type VerificationReply =
  | { id: number; run: VerificationRun | AnchoredIntegrityReport }
  | { id: number; error: string; code?: string; aborted: boolean }
  /** How far a run asked for progress has come (events checked); the run goes on. */
  | { id: number; checked: number };

interface PendingRun {
  /** The same run on the main thread, should the worker fail. */
  redo: () => Promise<unknown>;
  signal?: AbortSignal;
  /** Removes the run's abort listener (the sweeps share one signal for the monitor's life). */
  unlisten: () => void;
  resolve: (run: unknown) => void;
  reject: (error: unknown) => void;
  onProgress?: (checked: number) => void;
}

/** The built worker's file, when there is one (null when running from the TypeScript sources). */
export function builtVerificationWorker(): URL | null {
  const url = new URL('./integrity-verification.worker.js', import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : null;
}

/**
 * Where the server's integrity monitor verifies: in a worker thread on the embedded store's file
 * when the build has the worker, else on the main thread (other stores, an in-memory file, sources).
 */
export function monitorVerification(store: EventStore, trusted: TrustedKeys, sqliteFile: string | null, log: JsonLogger): LogVerification {
  const onMainThread = new MainThreadVerification(store, trusted);
  const inMemory = sqliteFile === null || sqliteFile === ':memory:' || sqliteFile.startsWith('file::memory:');
  const entry = inMemory ? null : builtVerificationWorker();
  if (!entry) return onMainThread;
  return new WorkerLogVerification(entry, { path: sqliteFile!, trustedPems: trusted.list().map((key) => key.publicKeyPem) }, onMainThread, log);
}

/**
 * The integrity monitor's verifications in a worker thread, on the embedded store.
 *
 * Why: reading back, parsing and hashing every commit took about 65 µs of the main thread per
 * `registerAsset` under the e2e bench (its four events), and a sweep of the whole log takes
 * seconds of it on a long log; the server's main thread is its bottleneck and the second core
 * was idle. The worker opens the store's file with its own connection and only reads it; what it
 * verifies and how are the main thread's functions (verifyLogRange for the monitor's runs,
 * verifyLogAnchored for verifyIntegrity). The verdict is acted on in the monitor, as before.
 *
 * The worker is the built JavaScript next to this module (`npm run build`); run from TypeScript
 * sources (the unit tests), there is none and the monitor verifies on the main thread. If the
 * worker fails, its runs are redone on the main thread and every later one runs there too.
 */
export class WorkerLogVerification implements LogVerification {
  private readonly worker: Worker;
  private readonly pending = new Map<number, PendingRun>();
  private nextId = 1;
  /** Set once the worker is gone for good (failed, or closed): every run from then on is the fallback's. */
  private gone = false;
  private failedOver = false;
  private closing: Promise<void> | null = null;

  constructor(
    entry: URL,
    data: VerificationWorkerData,
    /** Where runs go once the worker has failed (the main thread). */
    private readonly fallback: LogVerification,
    private readonly log: JsonLogger,
  ) {
    this.worker = new Worker(entry, { workerData: data });
    // Kept alive only while a run is pending (see refWhileBusy).
    this.worker.unref();
    this.worker.on('message', (message: VerificationReply) => this.received(message));
    this.worker.on('error', (error) => this.failed(error.message));
    this.worker.on('exit', (code) => this.failed(`it exited with code ${code}`));
  }

  get thread(): 'main' | 'worker' {
    return this.failedOver ? this.fallback.thread : 'worker';
  }

  run(from: VerifiedHead | null, upTo: string | null, signal?: AbortSignal): Promise<VerificationRun> {
    return this.send({ type: 'verify', id: this.nextId++, from, upTo }, () => this.fallback.run(from, upTo, signal), signal);
  }

  runAnchored(anchor: LogAnchor | null, onProgress?: (checked: number) => void): Promise<AnchoredIntegrityReport> {
    return this.send({ type: 'verify-anchored', id: this.nextId++, anchor, ...(onProgress ? { progress: true } : {}) }, () => this.fallback.runAnchored(anchor, onProgress), undefined, onProgress);
  }

  /** Hands a run to the worker (or, once it is gone, runs it on the main thread). */
  private send<T>(request: Extract<VerificationRequest, { id: number; type: 'verify' | 'verify-anchored' }>, redo: () => Promise<T>, signal?: AbortSignal, onProgress?: (checked: number) => void): Promise<T> {
    if (this.gone) return redo();
    if (signal?.aborted) return Promise.reject(signal.reason);
    const { id } = request;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => this.worker.postMessage({ type: 'abort', id } satisfies VerificationRequest);
      signal?.addEventListener('abort', onAbort, { once: true });
      const unlisten = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, { redo, signal, unlisten, resolve: resolve as (run: unknown) => void, reject, ...(onProgress ? { onProgress } : {}) });
      this.worker.postMessage(request);
      this.refWhileBusy();
    });
  }

  /** Ends the worker (runs still pending are aborted there). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.gone) {
        this.gone = true;
        const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
        const timer = setTimeout(() => void this.worker.terminate(), 5_000);
        this.worker.postMessage({ type: 'close' } satisfies VerificationRequest);
        await exited;
        clearTimeout(timer);
      }
      for (const [id, run] of this.pending) {
        this.pending.delete(id);
        run.unlisten();
        run.reject(run.signal?.reason ?? new Error('the integrity verification was stopped'));
      }
      await this.fallback.close();
    })();
    return this.closing;
  }

  private received(message: VerificationReply): void {
    const run = this.pending.get(message.id);
    if (!run) return;
    if ('checked' in message) return run.onProgress?.(message.checked);
    this.pending.delete(message.id);
    run.unlisten();
    this.refWhileBusy();
    if ('run' in message) run.resolve(message.run);
    else if (message.aborted && run.signal?.aborted) run.reject(run.signal.reason);
    // With its code (SQLITE_CORRUPT…): a start-up failing on a damaged file is then one line naming it, not a stack (operations probe 10-c M3).
    else run.reject(Object.assign(new Error(message.error), message.code ? { code: message.code } : {}));
  }

  /** The worker failed or exited unasked: what it was running is redone on the main thread, and all that follows. */
  private failed(why: string): void {
    if (this.gone) return;
    this.gone = true;
    this.failedOver = true;
    this.log.error('integrity: the verification worker stopped; verifying on the main thread from now on', { error: why });
    for (const [id, run] of this.pending) {
      this.pending.delete(id);
      run.unlisten();
      run.redo().then(run.resolve, run.reject);
    }
  }

  /** A pending run keeps the process alive (a start-up verification before the server listens); an idle worker does not. */
  private refWhileBusy(): void {
    if (this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }
}
