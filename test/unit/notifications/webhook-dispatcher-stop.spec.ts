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

describe('WebhookDispatcher woken after losing the lead', () => {
  it('asks whether it still leads before each POST: a retry due when a stalled leader wakes is not sent, and it steps down (webhook probe of 2026-12-06, F1)', async () => {
    let leads = true;
    let tries = 0;
    const coordination: ReactionsCoordination = {
      tryLead: async () => (tries++, leads),
      onLost: () => undefined,
      load: async () => ({ position: null }),
      save: () => undefined,
      close: async () => undefined,
      confirmLead: async () => leads,
    };
    let fed!: Promise<void>;
    const store = {
      subscribeToAll: ({ onEvent, onError }: { onEvent: (e: unknown) => Promise<void>; onError: (e: unknown) => void }) => {
        fed = onEvent({
          position: '0000000000000000001', eventId: 'e-1', type: 'ControlBecameOverdue', streamId: 'risk-r1', revision: 3, recordedAt: '2026-12-06T00:00:00.000Z',
          data: { riskId: 'r1', controlId: 'c1', title: 'MFA', ownerId: 'ops', dueDate: '2026-12-05' }, metadata: {},
        }).catch(onError);
        return { close: async () => undefined };
      },
    } as unknown as EventStore;
    const posts: number[] = [];
    let firstFailed!: () => void;
    const failed = new Promise<void>((resolve) => (firstFailed = resolve));
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as unknown as JsonLogger;
    const dispatcher = new WebhookDispatcher(store, coordination, { riskAt: async () => ({ title: 'Hot wallet', ownerId: 'owen' }), planAt: async () => null } as never, (e) => e, {
      url: new URL('http://127.0.0.1:9/hook'), displayUrl: 'http://127.0.0.1:9/hook', secret: 's', timeoutMs: 1000, retry: { initialMs: 20, maxMs: 20 }, random: () => 0.5,
      post: async () => {
        posts.push(Date.now());
        firstFailed();
        return { delivered: false, status: 500, error: 'HTTP 500' };
      },
    }, log);
    await dispatcher.start();
    await failed;
    // Stalled meanwhile: another instance took the lead; the retry's timer fires on waking.
    leads = false;
    await Promise.race([fed, new Promise((resolve) => setTimeout(resolve, 300))]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(posts).toHaveLength(1);
    expect(dispatcher.state.leading).toBe(false);
    await dispatcher.stop();
  });
});
