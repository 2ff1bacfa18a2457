/**
 * The integrity monitor's worker thread (worker-log-verification.ts starts it from the build):
 * it opens the embedded store's file with a connection of its own, only ever reads it, and runs
 * the verifications it is sent, the same function the main thread would run (log-verification.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteEventStore } from '../event-store/sqlite/sqlite-event-store.js';
import { TrustedKeys } from '../event-store/signing.js';
import { verifyLogAnchored, verifyLogRange } from './log-verification.js';
import type { VerificationRequest, VerificationReply, VerificationWorkerData } from './worker-log-verification.js';

const port = parentPort!;
const { path, trustedPems } = workerData as VerificationWorkerData;
// No signer: this connection never appends. Its reads stop at what it has seen synced, so each
// run first waits for the head it sees to be durable (awaitCommitted), which covers `upTo`.
const store = new SqliteEventStore({ path });
const trusted = TrustedKeys.fromPems(trustedPems);
const running = new Map<number, AbortController>();

const reply = (message: VerificationReply) => port.postMessage(message);

port.on('message', (message: VerificationRequest) => {
  if (message.type === 'abort') return running.get(message.id)?.abort();
  if (message.type === 'close') {
    for (const controller of running.values()) controller.abort();
    void store.close().finally(() => port.close());
    return;
  }
  const controller = new AbortController();
  running.set(message.id, controller);
  void (async () => {
    try {
      await store.awaitCommitted();
      const progress = message.type === 'verify-anchored' && message.progress ? (checked: number) => reply({ id: message.id, checked }) : undefined;
      const run = message.type === 'verify' ? await verifyLogRange(store, trusted, message.from, message.upTo, controller.signal) : await verifyLogAnchored(store, trusted, message.anchor, progress);
      reply({ id: message.id, run });
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      reply({ id: message.id, error: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' ? { code } : {}), aborted: controller.signal.aborted });
    } finally {
      running.delete(message.id);
    }
  })();
});
