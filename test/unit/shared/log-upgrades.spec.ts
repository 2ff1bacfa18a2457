/**
 * The log's upgrades (log-upgrades.ts) run on the instance that runs the reactions, each time it
 * takes the lead, beside the reactions: the process manager starts them when it leads and waits for
 * them when it stops (telling them to stop), so none writes to a store being closed; one that fails
 * is logged and the others still run.
 */
import { describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { ProcessManager } from '../../../src/shared/application/process-manager.js';
import { SoleInstance } from '../../../src/shared/application/reactions-coordination.js';
import { runLogUpgrades, type LogUpgrade } from '../../../src/shared/application/log-upgrades.js';
import { JsonLogger } from '../../../src/shared/logging/json-logger.js';

/** A logger that keeps its lines. */
function lines() {
  const kept: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const log = {
    info: (message: string, fields: Record<string, unknown> = {}) => kept.push({ level: 'info', message, fields }),
    warn: (message: string, fields: Record<string, unknown> = {}) => kept.push({ level: 'warn', message, fields }),
  } as unknown as JsonLogger;
  return { kept, log };
}

describe('runLogUpgrades', () => {
  const quick = { attempts: 3, firstDelayMs: 5, maxDelayMs: 8 };

  it('runs each upgrade in turn and logs what it did; one that fails is run again a few times, logged, and the next still runs', async () => {
    const { kept, log } = lines();
    const ran: string[] = [];
    const upgrades: LogUpgrade[] = [
      { name: 'first', run: async () => (ran.push('first'), { reserved: 2 }) },
      { name: 'broken', run: async () => { ran.push('broken'); throw new Error('disk on fire'); } },
      { name: 'last', run: async () => (ran.push('last'), {}) },
    ];
    await runLogUpgrades(upgrades, () => false, log, quick);
    expect(ran).toEqual(['first', 'broken', 'broken', 'broken', 'last']);
    expect(kept.map((l) => [l.level, l.fields.upgrade, l.fields.attempt, l.fields.retryInMs])).toEqual([
      ['info', 'first', undefined, undefined],
      ['warn', 'broken', 1, 5],
      ['warn', 'broken', 2, 8],
      ['warn', 'broken', 3, undefined],
      ['info', 'last', undefined, undefined],
    ]);
    expect(kept[0]!.fields).toMatchObject({ reserved: 2, stopped: false });
    expect(JSON.stringify(kept[1]!.fields.error)).toContain('disk on fire');
    expect(kept[3]!.message).toMatch(/next takes the lead/);
  });

  it('a run that failed once and then succeeds is logged as done', async () => {
    const { kept, log } = lines();
    let calls = 0;
    await runLogUpgrades([{ name: 'flaky', run: async () => { if (++calls === 1) throw new Error('SQLITE_BUSY'); return { reserved: 1 }; } }], () => false, log, quick);
    expect(calls).toBe(2);
    expect(kept.map((l) => l.level)).toEqual(['warn', 'info']);
  });

  it('a stop ends the pause before a retry at once', async () => {
    const { log } = lines();
    let stop = false;
    let calls = 0;
    // (A pause of 60 s not ended would outlast the test's timeout.)
    const done = runLogUpgrades([{ name: 'down', run: async () => { calls++; throw new Error('store away'); } }], () => stop, log, { attempts: 5, firstDelayMs: 60_000, maxDelayMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    stop = true;
    await done;
    expect(calls).toBe(1);
  });

  it('a run that fails because the server is stopping under it is no warning: the next lead finishes it', async () => {
    const { kept, log } = lines();
    let stop = false;
    await runLogUpgrades([{ name: 'cut', run: async () => { stop = true; throw new Error('the store is closed'); } }], () => stop, log, quick);
    expect(kept.map((l) => [l.level, l.message])).toEqual([['info', 'log upgrade stopped with the server or the lead']]);
  });

  it('starts none once told to stop', async () => {
    const { log } = lines();
    const ran: string[] = [];
    let stop = false;
    await runLogUpgrades([
      { name: 'one', run: async () => { ran.push('one'); stop = true; return {}; } },
      { name: 'two', run: async () => (ran.push('two'), {}) },
    ], () => stop, log);
    expect(ran).toEqual(['one']);
  });
});

describe('ProcessManager.whileLeading', () => {
  it('starts the work once it leads, and stop() tells it to stop and waits for it', async () => {
    const store = new InMemoryEventStore();
    await store.init();
    const manager = new ProcessManager('test', store, new SoleInstance(new Database(':memory:')), async () => {}, (e) => e, new JsonLogger('test', 'error'));
    const steps: string[] = [];
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    manager.whileLeading(async (stopping) => {
      started();
      while (!stopping()) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 20)); // its last step, after being told
      steps.push('finished');
    });
    expect(steps).toEqual([]);
    await manager.start();
    expect(manager.isLeading).toBe(true);
    await running;
    await manager.stop();
    // stop() returned only once the work had finished its last step.
    expect(steps).toEqual(['finished']);
    await store.close();
  });

  it('work added while leading starts at once', async () => {
    const store = new InMemoryEventStore();
    await store.init();
    const manager = new ProcessManager('test', store, new SoleInstance(new Database(':memory:')), async () => {}, (e) => e, new JsonLogger('test', 'error'));
    await manager.start();
    const ran = await new Promise<boolean>((resolve) => manager.whileLeading(async (stopping) => resolve(!stopping())));
    expect(ran).toBe(true);
    await manager.stop();
    await store.close();
  });
});
