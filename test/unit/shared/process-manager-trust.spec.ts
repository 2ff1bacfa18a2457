/**
 * The reactions and the log's verification (LogTrust): nothing at or past the first untrusted
 * position is reacted to, and the checkpoint is never saved past what the verification covers,
 * the rest once it does, or at stop (PostgreSQL probe F1: a forged event's position was saved).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { ExpectedVersion, type NewEvent, type RecordedEvent } from '../../../src/event-store/event-store.port.js';
import type { LogTrust } from '../../../src/shared/application/log-trust.js';
import { ProcessManager } from '../../../src/shared/application/process-manager.js';
import { SoleInstance } from '../../../src/shared/application/reactions-coordination.js';
import { JsonLogger } from '../../../src/shared/logging/json-logger.js';

const event = (): NewEvent => ({
  eventId: randomUUID(),
  type: 'Happened',
  schemaVersion: 1,
  data: {},
  metadata: { actor: { id: 'alice', name: 'alice', roles: ['ADMIN'] }, occurredAt: '2026-01-01T00:00:00.000Z', correlationId: randomUUID(), causationId: randomUUID() },
});

/** A verification the test moves by hand: verified up to `upTo`; broken from `broken`. */
class ManualTrust implements LogTrust {
  upTo: string | null = null;
  broken: string | null = null;
  private waiters: (() => void)[] = [];
  untrustedFrom = () => this.broken;
  verifiedUpTo = () => this.upTo;
  async verifiedThrough(position: string, signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (this.broken !== null) return position < this.broken;
      if (this.upTo !== null && position <= this.upTo) return true;
      if (signal?.aborted) return false;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }
  verify(upTo: string): void {
    this.upTo = upTo;
    for (const w of this.waiters.splice(0)) w();
  }
}

/** Stopped after each test, also one that failed (a running manager keeps Jest waiting). */
const managers: ProcessManager[] = [];

async function setUp(events: number, othersWait = false) {
  const store = new InMemoryEventStore();
  await store.init();
  const written: RecordedEvent[] = [];
  for (let i = 0; i < events; i++) written.push((await store.append(`s-${randomUUID()}`, [event()], { expectedVersion: ExpectedVersion.noStream })).events[0]!);
  const db = new Database(':memory:');
  const coordination = new SoleInstance(db);
  // As on PostgreSQL: other instances wait for this checkpoint.
  if (othersWait) Object.defineProperty(coordination, 'othersWait', { value: true });
  const trust = new ManualTrust();
  const reacted: string[] = [];
  const manager = new ProcessManager('test', store, coordination, async (e) => void reacted.push(e.position), (e) => e, new JsonLogger('test', 'error'));
  manager.holdFrom(trust);
  managers.push(manager);
  const saved = async () => (await coordination.load('test'))?.position ?? null;
  return { store, written, trust, reacted, manager, saved, coordination };
}

const until = async (done: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await done()); i++) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe('ProcessManager and the verification of the log', () => {
  afterEach(async () => {
    for (const m of managers.splice(0)) await m.stop();
  });

  it('reacts at once, but saves its checkpoint no further than verified, and (where others wait for it) the rest once verified', async () => {
    const { written, trust, reacted, manager, saved } = await setUp(5, true);
    trust.upTo = written[1]!.position;
    await manager.start();
    await until(() => reacted.length === 5);
    expect(reacted).toEqual(written.map((e) => e.position));
    await until(async () => (await saved()) !== null);
    expect(await saved()).toBe(written[1]!.position);
    trust.verify(written[4]!.position);
    await until(async () => (await saved()) === written[4]!.position);
    expect(await saved()).toBe(written[4]!.position);
    await manager.stop();
  });

  it("never leaves an older position saved last: a page's save and the one a verification lets go, in flight together, are made in turn", async () => {
    const { store, written, trust, reacted, manager, saved, coordination } = await setUp(3, true);
    // Page 1 (three events, the first verified): its first event saved, the rest waits for the verification.
    trust.upTo = written[0]!.position;
    await manager.start();
    await until(() => reacted.length === 3);
    await until(async () => (await saved()) === written[0]!.position);
    // Page 2 saves what is verified by then (the second event), slowly; meanwhile the verification
    // covers page 1 and lets its save go.
    const save = coordination.save.bind(coordination);
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const calls: string[] = [];
    coordination.save = async (name: string, position: string) => {
      calls.push(position);
      if (position === written[1]!.position) await slow;
      return save(name, position);
    };
    trust.upTo = written[1]!.position;
    await store.append(`s-${randomUUID()}`, [event()], { expectedVersion: ExpectedVersion.noStream });
    await until(() => reacted.length === 4 && calls.length >= 1);
    trust.verify(written[2]!.position);
    await new Promise((resolve) => setTimeout(resolve, 30));
    release();
    await until(async () => calls.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    // Made in turn: the later position is stored last, whatever order they were asked in.
    expect(await saved()).toBe(written[2]!.position);
    await manager.stop();
  });

  it('alone on its store, saves the rest with the next page (asking for no verification of its own)', async () => {
    const { store, written, trust, reacted, manager, saved } = await setUp(3);
    trust.upTo = written[0]!.position;
    await manager.start();
    await until(() => reacted.length === 3);
    await until(async () => (await saved()) !== null);
    trust.verify(written[2]!.position);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await saved()).toBe(written[0]!.position);
    const next = (await store.append(`s-${randomUUID()}`, [event()], { expectedVersion: ExpectedVersion.noStream })).events[0]!;
    await until(() => reacted.length === 4);
    trust.verify(next.position);
    // The next page saves what is verified by then.
    await store.append(`s-${randomUUID()}`, [event()], { expectedVersion: ExpectedVersion.noStream });
    await until(async () => (await saved()) === next.position);
    expect(await saved()).toBe(next.position);
    await manager.stop();
  });

  it('saves at stop what is verified by then', async () => {
    const { written, trust, reacted, manager, saved } = await setUp(3);
    await manager.start();
    await until(() => reacted.length === 3);
    expect(await saved()).toBeNull();
    setTimeout(() => trust.verify(written[2]!.position), 20);
    await manager.stop();
    expect(await saved()).toBe(written[2]!.position);
  });

  it('where others wait for the reactions, a hold is told to them: an instance that does not lead stops waiting at once and verifies the log itself (PostgreSQL probe F2)', async () => {
    const { written, trust, reacted, manager, saved, coordination, store } = await setUp(4, true);
    trust.upTo = written[3]!.position;
    trust.broken = written[2]!.position;
    await manager.start();
    await until(() => reacted.length >= 2);
    await until(async () => (await coordination.load('test:held'))?.position === written[2]!.position);
    // Another instance on the same checkpoint table, which does not lead.
    const verifications: number[] = [];
    const followerTrust: LogTrust = { untrustedFrom: () => null, verifiedUpTo: () => null, verifiedThrough: async () => true, verifyNow: async () => void verifications.push(Date.now()) };
    const follower = new ProcessManager('test', store, Object.assign(Object.create(coordination), { tryLead: async () => false, onLost: () => undefined }), async () => undefined, (e) => e, new JsonLogger('test', 'error'));
    follower.holdFrom(followerTrust);
    managers.push(follower);
    await follower.start();
    // Before the hold: answered by the shared checkpoint.
    expect(await saved()).toBe(written[1]!.position);
    await follower.waitFor(written[1]!.position, 2_000);
    // At or after it: refused at once (not after the 2 s), and verified here, once.
    const started = Date.now();
    await expect(follower.waitFor(written[3]!.position, 2_000)).rejects.toThrow(`the reactions hold at ${written[2]!.position}`);
    await expect(follower.waitFor(written[2]!.position, 2_000)).rejects.toThrow('found the log failing verification there');
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(verifications).toHaveLength(1);
    // A new leader clears the hold its predecessor told of.
    await manager.stop();
    const next = new ProcessManager('test', store, coordination, async () => undefined, (e) => e, new JsonLogger('test', 'error'));
    managers.push(next);
    await next.start();
    expect((await coordination.load('test:held'))?.position).toBe('');
  });

  it('an instance that does not lead reads the shared checkpoint once for all the waits in flight, checkpoint and hold in one read', async () => {
    const { written, reacted, manager, coordination, store } = await setUp(3, true);
    await manager.start();
    await until(() => reacted.length === 3);
    // A follower whose reads are held at a gate: what is in flight while it is closed is counted.
    const reads: string[][] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const followerCoordination = Object.assign(Object.create(coordination), {
      tryLead: async () => false,
      onLost: () => undefined,
      load: async () => {
        throw new Error('the waits read with loadMany');
      },
      loadMany: async (names: readonly string[]) => {
        reads.push([...names]);
        await gate;
        return new Map(names.map((name) => [name, name === 'test' ? written[2]!.position : '']));
      },
    });
    const follower = new ProcessManager('test', store, followerCoordination, async () => undefined, (e) => e, new JsonLogger('test', 'error'));
    managers.push(follower);
    await follower.start();
    const waits = Array.from({ length: 16 }, (_, i) => follower.waitFor(written[i % 3]!.position, 2_000));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Sixteen waits, one read in flight (each wait read twice every 25 ms on its own before).
    expect(reads).toEqual([['test', 'test:held']]);
    open();
    await Promise.all(waits);
    expect(reads).toHaveLength(1);
  });

  it('holds at the first untrusted position: nothing there or after is reacted to, and the checkpoint stays before it', async () => {
    const { written, trust, reacted, manager, saved } = await setUp(4);
    trust.upTo = written[3]!.position;
    trust.broken = written[2]!.position;
    await manager.start();
    await until(() => reacted.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reacted).toEqual([written[0]!.position, written[1]!.position]);
    expect(await saved()).toBe(written[1]!.position);
    await manager.stop();
  });
});
