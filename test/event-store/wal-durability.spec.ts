/**
 * The embedded store's durability (src/event-store/sqlite/wal-durability.ts), with a host whose
 * head and data_version the test sets: what readers of the log may see (`readerCap`), and how
 * another connection's commits reach them (a sync of ours, asked for once they are noticed).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { WalDurability, type WalDurabilityHost } from '../../src/event-store/sqlite/wal-durability.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('WalDurability: the readers\' cap', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  function opened() {
    const dir = mkdtempSync(join(tmpdir(), 'wal-durability-'));
    const path = join(dir, 'log.sqlite');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x)');
    const world = { head: 5, dataVersion: 1, asks: 0, syncs: 0 };
    const host: WalDurabilityHost<never> = {
      adapterName: 'test',
      head: () => world.head,
      dataVersion: () => (world.asks++, world.dataVersion),
      settle: () => undefined,
      reject: () => undefined,
      advanced: () => undefined,
    };
    const durability = WalDurability.open(db, path, host, async () => {
      world.syncs++;
    });
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }), () => void db.close(), () => durability.close());
    world.asks = 0;
    return { durability, world };
  }

  it('readers in one turn of the event loop ask SQLite once whether another connection committed', async () => {
    const { durability, world } = opened();
    expect([durability.readerCap(), durability.readerCap(), durability.readerCap()]).toEqual([5, 5, 5]);
    expect(world.asks).toBe(1);
    await nextTurn();
    durability.readerCap();
    durability.readerCap();
    expect(world.asks).toBe(2);
  });

  it('another connection\'s commit is noticed at the next turn, synced, and then shown to readers', async () => {
    const { durability, world } = opened();
    expect(durability.readerCap()).toBe(5);
    // Committed by another connection after this turn's ask: not noticed in this turn ...
    world.head = 7;
    world.dataVersion = 2;
    expect(durability.readerCap()).toBe(5);
    expect(world.syncs).toBe(0);
    // ... but by the next turn's first reader, which asks for a sync (and is shown what is durable).
    await nextTurn();
    expect(durability.readerCap()).toBe(5);
    expect(world.syncs).toBe(1);
    await nextTurn();
    await nextTurn();
    expect(durability.readerCap()).toBe(7);
    expect(world.syncs).toBe(1);
  });
});
