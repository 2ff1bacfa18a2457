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
