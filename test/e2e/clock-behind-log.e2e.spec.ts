import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EVENT_STORE, ExpectedVersion, type EventStore } from '../../src/event-store/event-store.port.js';
import { ProjectionRunner } from '../../src/projections/projection-runner.js';
import { newEvent } from '../event-store/event-store.contract.js';
import { TestApp, users } from './support/test-app.js';

/**
 * A server whose clock is behind its log (the newest event stamped 2 h after the clock, as after a
 * step back of the wall clock: clock probe of 2026-12-06, M1-M4) says so in /health, still ready.
 */
describe('a clock behind the log', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start();
  }, 60_000);
  afterAll(() => t?.close());

  it('/health shows it (how far and the newest instant with a token), the server stays ready; nothing while the clock is ahead', async () => {
    const health = async (token?: string) => (await fetch(`${t.url}/health`, token ? { headers: { authorization: `Bearer ${token}` } } : {})).json() as Promise<Record<string, any>>;
    expect((await health()).clock).toBeUndefined();
    const store = t.app.get<EventStore>(EVENT_STORE);
    const ahead = new Date(Date.now() + 2 * 3600_000).toISOString();
    const appended = await store.append('clock-behind-log', [newEvent('Tested')], { expectedVersion: ExpectedVersion.noStream, recordedAt: ahead });
    await t.app.get(ProjectionRunner).waitFor(appended.position);
    const summary = await health();
    expect(summary).toMatchObject({ status: 'ok', clock: { behindLog: true } });
    expect(Object.keys(summary.clock)).toEqual(['behindLog']);
    const detailed = await health(await t.token(users.auditor));
    expect(detailed.clock).toMatchObject({ behindLog: true, newestRecordedAt: ahead });
    expect(detailed.clock.behindMs).toBeGreaterThan(2 * 3600_000 - 60_000);
    expect((await fetch(`${t.url}/health/ready`)).status).toBe(200);
    // Started again on that log, it says so before anything is written (it waited for a commit: probe F3).
    await t.close({ keepData: true });
    t = await TestApp.start({ dataDir: t.dataDir });
    let restarted = await health();
    for (let i = 0; i < 50 && !restarted.clock; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      restarted = await health();
    }
    expect(restarted.clock).toEqual({ behindLog: true });
  }, 60_000);
});
