/**
 * The reactions' checkpoint on one instance (SoleInstance) on a real SQLite file, read back by a
 * second connection as a restart would read it: with `saveEveryMs` a save inside the interval is
 * kept in memory (load() returns it at once) and written by the timer at the interval's end or by
 * close(); a failed write stays unwritten and is written by the next one.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SoleInstance } from '../../../src/shared/application/reactions-coordination.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function checkpointFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sole-instance-'));
  dirs.push(dir);
  return join(dir, 'process-manager.sqlite');
}

function open(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  return db;
}

/** What a restart would read: the file through another connection. */
function onFile(path: string, name: string): string | undefined {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT position FROM process_checkpoints WHERE name = ?').get(name) as { position: string } | undefined)?.position;
  } finally {
    db.close();
  }
}

describe('SoleInstance (the reactions checkpoint on one instance)', () => {
  it('writes every save at once by default', async () => {
    const path = checkpointFile();
    const sole = new SoleInstance(open(path));
    sole.save('r', 'p1');
    expect(onFile(path, 'r')).toBe('p1');
    sole.save('r', 'p2');
    expect(onFile(path, 'r')).toBe('p2');
    await sole.close();
  });

  it('with saveEveryMs, writes the first save, keeps the next ones in memory, and writes the newest when the interval ends', async () => {
    const path = checkpointFile();
    const sole = new SoleInstance(open(path), { saveEveryMs: 300 });
    sole.save('r', 'p1');
    expect(onFile(path, 'r')).toBe('p1');
    sole.save('r', 'p2');
    sole.save('r', 'p3');
    sole.save('other', 'q1');
    // Not on the file yet (a crash now would replay from p1), but this instance reads its own progress.
    expect(onFile(path, 'r')).toBe('p1');
    expect(onFile(path, 'other')).toBeUndefined();
    expect(await sole.load('r')).toEqual({ position: 'p3' });
    expect(await sole.load('other')).toEqual({ position: 'q1' });
    await sleep(600);
    expect(onFile(path, 'r')).toBe('p3');
    expect(onFile(path, 'other')).toBe('q1');
    await sole.close();
  });

  it('writes what is unwritten when it closes', async () => {
    const path = checkpointFile();
    const sole = new SoleInstance(open(path), { saveEveryMs: 60_000 });
    sole.save('r', 'p1');
    sole.save('r', 'p2');
    expect(onFile(path, 'r')).toBe('p1');
    await sole.close();
    expect(onFile(path, 'r')).toBe('p2');
    const again = new SoleInstance(open(path));
    expect(await again.load('r')).toEqual({ position: 'p2' });
    await again.close();
  });

  it('a deferred write that fails is reported and written by the next write', async () => {
    const path = checkpointFile();
    const errors: unknown[] = [];
    const sole = new SoleInstance(open(path), { saveEveryMs: 200, onDeferredSaveError: (error) => errors.push(error) });
    sole.save('r', 'p1');
    sole.save('r', 'p2');
    // The table goes away under it (another connection): the timer's write fails.
    const other = open(path);
    other.exec('DROP TABLE process_checkpoints');
    await sleep(450);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/no such table/);
    expect(await sole.load('r')).toEqual({ position: 'p2' });
    other.exec('CREATE TABLE process_checkpoints (name TEXT PRIMARY KEY, position TEXT)');
    other.close();
    // The interval since the last successful write is over: this save writes at once, p2's successor.
    sole.save('r', 'p3');
    expect(onFile(path, 'r')).toBe('p3');
    await sole.close();
    expect(errors).toHaveLength(1);
  });
});
