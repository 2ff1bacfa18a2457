/**
 * A dispatcher stopped while it is winning the lead (its checkpoint still loading) never starts
 * following the log, and gives the lead back.
 */
import { describe, expect, it } from '@jest/globals';
import type { EventStore } from '../../../src/event-store/event-store.port.js';
import { WebhookDispatcher } from '../../../src/notifications/application/webhook-dispatcher.js';
import type { ReactionsCoordination } from '../../../src/shared/application/reactions-coordination.js';
import type { JsonLogger } from '../../../src/shared/logging/json-logger.js';

describe('WebhookDispatcher stopped during the checkpoint load', () => {
  it('does not follow after stop() and closes its coordination (releasing the lock)', async () => {
    let loadStarted!: () => void;
    const loading = new Promise<void>((resolve) => (loadStarted = resolve));
    let finishLoad!: (v: { position: string | null }) => void;
    let closed = 0;
    const coordination: ReactionsCoordination = {
      tryLead: async () => true,
      onLost: () => undefined,
      load: () => {
        loadStarted();
        return new Promise((resolve) => (finishLoad = resolve));
      },
      save: () => undefined,
      close: async () => void closed++,
    };
    let subscriptions = 0;
    const store = { subscribeToAll: () => (subscriptions++, { close: async () => undefined }) } as unknown as EventStore;
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as unknown as JsonLogger;
    const dispatcher = new WebhookDispatcher(store, coordination, { riskAt: async () => null, planAt: async () => null } as never, (e) => e, {
      url: new URL('http://127.0.0.1:9/hook'),
      displayUrl: 'http://127.0.0.1:9/hook',
      secret: 's',
      timeoutMs: 1000,
      retry: { initialMs: 10, maxMs: 100 },
    }, log);

    const started = dispatcher.start();
    await loading;
    await dispatcher.stop();
    finishLoad({ position: null });
    await started;
    expect(subscriptions).toBe(0);
    expect(dispatcher.state.leading).toBe(false);
    expect(closed).toBe(1);
  });
});

describe('WebhookDispatcher and the verification of the log', () => {
  it('asks for it only before a notice or a checkpoint save: events that tell nothing pass without waiting for the monitor', async () => {
    const saved: string[] = [];
    const coordination: ReactionsCoordination = { tryLead: async () => true, onLost: () => undefined, load: async () => ({ position: null }), save: (_name, position) => void saved.push(position), close: async () => undefined };
    const positions = Array.from({ length: 1_200 }, (_, i) => String(i + 1).padStart(19, '0'));
    let fed!: Promise<void>;
    const store = {
      subscribeToAll: ({ onEvent }: { onEvent: (e: unknown) => Promise<void> }) => {
        fed = (async () => {
          for (const position of positions) await onEvent({ position, type: 'AssetRegistered', streamId: 'asset-a', revision: 0, data: {}, metadata: {} });
        })();
        return { close: async () => undefined };
      },
    } as unknown as EventStore;
    const asked: string[] = [];
    const trust = { untrustedFrom: () => null, verifiedUpTo: () => null, verifiedThrough: async (position: string) => (asked.push(position), true) };
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as unknown as JsonLogger;
    const dispatcher = new WebhookDispatcher(store, coordination, { riskAt: async () => null, planAt: async () => null } as never, (e) => e, {
      url: new URL('http://127.0.0.1:9/hook'), displayUrl: 'http://127.0.0.1:9/hook', secret: 's', timeoutMs: 1000, retry: { initialMs: 10, maxMs: 100 }, trust,
    }, log);
    await dispatcher.start();
    await fed;
    // Saved every 500 events that tell nothing, each save verified first; no other event waited.
    expect(saved).toEqual([positions[499], positions[999]]);
    expect(asked).toEqual(saved);
    expect(dispatcher.state.handled).toBe(positions[1_199]);
    await dispatcher.stop();
  });
});
