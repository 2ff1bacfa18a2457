/**
 * The access log's writer thread (access-log-writer-thread.ts starts it from the build): the
 * same AccessLogStore the main thread would write with, on a connection of its own, fed the
 * batches the main thread posts. It commits each as it arrives (the main thread has batched
 * already), signs its head, syncs the WAL and moves the anchor in the background as the main
 * thread did; a batch that fails is kept and retried, ahead of later ones, by the store itself.
 * After each commit it publishes the last batch id in the shared COMMITTED slot.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { signingKeysFor } from '../../event-store/signing.js';
import { AccessLogStore } from './access-log.js';
import { CLOSED, COMMITTED, FAILED, RETRYING, STATE, type WriterReport, type WriterRequest, type WriterThreadData } from './access-log-writer-thread.js';

const port = parentPort!;
const { path, anchorPath, signingKey, shared } = workerData as WriterThreadData;
const slots = new Int32Array(shared);
const report = (message: WriterReport) => port.postMessage(message);
const logAt = (level: 'warn' | 'error') => (message: unknown, fields?: unknown) =>
  report({ type: 'log', level, message: String(message), ...(fields && typeof fields === 'object' ? { fields: fields as Record<string, unknown> } : {}) });

/** The last batch received: once a flush commits, every batch received so far is in the file. */
let received = 0;
/** Whether a batch was committed since the message began (a failed one is kept and retried by the store). */
let committed = false;

function publish(slot: number, value: number): void {
  Atomics.store(slots, slot, value);
  Atomics.notify(slots, slot);
}

/** A throw out of the store (not a failed write, which it retries): the main thread takes over. */
function failed(error: unknown): never {
  logAt('error')('access log: its writer thread stops', { error: error instanceof Error ? error.message : String(error) });
  publish(STATE, FAILED);
  Atomics.notify(slots, COMMITTED);
  process.exit(1);
}

let store: AccessLogStore;
try {
  store = new AccessLogStore(path, {
    anchorPath,
    signing: signingKey ? signingKeysFor(signingKey) : null,
    logger: { warn: logAt('warn'), error: logAt('error') },
    // Batches arrive already batched: each is written when it arrives (see 'batch' below).
    flushDelayMs: 60_000,
    maxBatch: Number.MAX_SAFE_INTEGER,
    // The main thread bounds what it sends (access-log-backlog.ts): nothing is refused here.
    maxQueued: Number.MAX_SAFE_INTEGER,
    written: () => {
      committed = true;
      Atomics.store(slots, RETRYING, 0);
      publish(COMMITTED, received);
      report({ type: 'written', id: received });
    },
  });
} catch (error) {
  failed(error);
}

port.on('message', (message: WriterRequest) => {
  try {
    if (message.type === 'close') {
      store.close();
      publish(STATE, CLOSED);
      port.close();
      return;
    }
    received = message.id;
    committed = false;
    for (const record of message.records) store.record(record);
    store.flush();
    // A failed write keeps its entries queued and is retried by the store (then written() clears this).
    if (!committed) {
      Atomics.store(slots, RETRYING, 1);
      Atomics.notify(slots, COMMITTED);
    }
  } catch (error) {
    failed(error);
  }
});
