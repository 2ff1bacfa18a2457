/**
 * A projection's reset() drops its tables and makes them as setup() does, whatever was there
 * before (nothing, the last version's shape, rows); and the runner sets a projection up only
 * when its stored schema version is the projection's own. A new or changed projection is reset
 * and nothing else: an upgrade does not first build the new version's indexes over the old
 * version's tables, which a large history would pay for in seconds, for nothing.
 */
import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { ExpectedVersion, type RecordedEvent } from '../../../src/event-store/event-store.port.js';
import { FEATURES } from '../../../src/features.js';
import { projectionsOf, upcastersOf } from '../../../src/platform/feature-contribution.js';
import type { Projection } from '../../../src/projections/projection.js';
import { ProjectionRunner } from '../../../src/projections/projection-runner.js';
import { openReadModelDatabase, type ReadDb } from '../../../src/projections/read-model-database.js';
import { JsonLogger } from '../../../src/shared/logging/json-logger.js';

const silent = new JsonLogger('test', 'error');
const upcasters = upcastersOf(FEATURES);

/** The tables and indexes a database holds besides the checkpoints, as SQLite stores their definitions. */
function schema(db: Database.Database | ReadDb): string[] {
  return db
    .prepare("SELECT type || ' ' || name || ': ' || sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND tbl_name != 'projection_checkpoints' AND sql IS NOT NULL ORDER BY type, name")
    .pluck()
    .all() as string[];
}

function tablesOf(db: Database.Database | ReadDb): string[] {
  return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'projection_checkpoints' ORDER BY name").pluck().all() as string[];
}

describe("every projection's reset() makes its tables as setup() does", () => {
  const projections = projectionsOf(FEATURES)();

  it.each(projections.map((p) => [p.name, p] as const))('%s: from nothing, from an older shape, and from rows', (_name, projection) => {
    const expected = new Database(':memory:');
    projection.setup(expected);
    const tables = tablesOf(expected);
    expect(tables.length).toBeGreaterThan(0);

    // Nothing there yet (a new projection): reset() alone makes the tables.
    const fresh = new Database(':memory:');
    projection.reset(fresh);
    expect(schema(fresh)).toEqual(schema(expected));

    // The tables of an older version, with other columns and a row each: reset() replaces them.
    const older = new Database(':memory:');
    for (const t of tables) {
      older.exec(`CREATE TABLE "${t}" (legacy TEXT)`);
      older.prepare(`INSERT INTO "${t}" (legacy) VALUES ('stale')`).run();
    }
    projection.reset(older);
    expect(schema(older)).toEqual(schema(expected));
    for (const t of tables) expect(older.prepare(`SELECT COUNT(*) FROM "${t}"`).pluck().get()).toBe(0);
    for (const db of [expected, fresh, older]) db.close();
  });
});

/** A projection that records which of setup() and reset() the runner called, in order. */
class Recorder implements Projection {
  readonly name = 'recorder';
  calls: string[] = [];
  constructor(readonly schemaVersion: number) {}
  setup(db: ReadDb): void {
    this.calls.push('setup');
    db.exec('CREATE TABLE IF NOT EXISTS recorded (position TEXT PRIMARY KEY)');
  }
  reset(db: ReadDb): void {
    this.calls.push('reset');
    db.exec('DROP TABLE IF EXISTS recorded; CREATE TABLE recorded (position TEXT PRIMARY KEY)');
  }
  apply(event: RecordedEvent, db: ReadDb): void {
    db.prepare('INSERT INTO recorded (position) VALUES (?)').run(event.position);
  }
}

async function oneEventLog(): Promise<{ store: InMemoryEventStore; head: string }> {
  const store = new InMemoryEventStore();
  const { position } = await store.append('probe-1', [{ eventId: randomUUID(), type: 'Probed', schemaVersion: 1, data: {}, metadata: { actor: { id: 'ciso', name: 'CISO', roles: ['CISO'] }, occurredAt: '2026-01-01T00:00:00.000Z', correlationId: 'c', causationId: 'c' } }], { expectedVersion: ExpectedVersion.noStream });
  return { store, head: position };
}

describe('the runner sets up a projection of the stored schema version, and only resets any other', () => {
  async function startWith(stored: number | undefined, version: number): Promise<{ calls: string[]; checkpoint: unknown; rows: number }> {
    const { store, head } = await oneEventLog();
    const db = openReadModelDatabase(':memory:');
    if (stored !== undefined) db.prepare("INSERT INTO projection_checkpoints (name, schema_version, position) VALUES ('recorder', ?, NULL)").run(stored);
    const recorder = new Recorder(version);
    const runner = new ProjectionRunner(store, db, [recorder], upcasters.upcast, silent);
    runner.start();
    await runner.waitFor(head);
    await runner.stop();
    const result = {
      calls: recorder.calls,
      checkpoint: db.prepare("SELECT schema_version FROM projection_checkpoints WHERE name = 'recorder'").pluck().get(),
      rows: db.prepare('SELECT COUNT(*) FROM recorded').pluck().get() as number,
    };
    db.close();
    return result;
  }

  it('a first start resets it (no setup first)', async () => {
    expect(await startWith(undefined, 3)).toEqual({ calls: ['reset'], checkpoint: 3, rows: 1 });
  });

  it('a start with the same schema version sets it up (no reset)', async () => {
    expect(await startWith(3, 3)).toEqual({ calls: ['setup'], checkpoint: 3, rows: 1 });
  });

  it('a start after a schema change resets it (no setup over the old tables)', async () => {
    expect(await startWith(2, 3)).toEqual({ calls: ['reset'], checkpoint: 3, rows: 1 });
  });

  it("upgrading the risk register from schema 5 replaces the old clustered history table and keeps none of its rows", async () => {
    const { store, head } = await oneEventLog();
    const db = openReadModelDatabase(':memory:');
    // Schema 5's history table: clustered by risk (WITHOUT ROWID), with a row the log does not hold.
    db.exec(`CREATE TABLE risk_analyses (risk_id TEXT NOT NULL, revision INTEGER NOT NULL, position TEXT NOT NULL, recorded_at TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (risk_id, revision)) WITHOUT ROWID;
      INSERT INTO risk_analyses VALUES ('r-stale', 1, 'p', 't', '{}');`);
    db.prepare("INSERT INTO projection_checkpoints (name, schema_version, position) VALUES ('risk-register', 5, ?)").run(head);
    const runner = new ProjectionRunner(store, db, projectionsOf(FEATURES)(), upcasters.upcast, silent);
    runner.start();
    await runner.waitFor(head);
    await runner.stop();
    const sql = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'risk_analyses'").pluck().get() as string;
    expect(sql).not.toMatch(/WITHOUT ROWID/i);
    expect(db.prepare('SELECT COUNT(*) FROM risk_analyses').pluck().get()).toBe(0);
    expect(db.prepare("SELECT schema_version FROM projection_checkpoints WHERE name = 'risk-register'").pluck().get()).toBe(projectionsOf(FEATURES)().find((p) => p.name === 'risk-register')!.schemaVersion);

    // The same shape as a database that never knew schema 5.
    const fresh = openReadModelDatabase(':memory:');
    const other = new ProjectionRunner(store, fresh, projectionsOf(FEATURES)(), upcasters.upcast, silent);
    other.start();
    await other.waitFor(head);
    await other.stop();
    expect(schema(db)).toEqual(schema(fresh));
    db.close();
    fresh.close();
  });
});

describe('a projection reset on upgrade catches up beside the others, which keep their checkpoints', () => {
  /** Records each position once: applying an event twice fails on the primary key. */
  class Positions implements Projection {
    constructor(readonly name: string, readonly schemaVersion: number) {}
    private get table(): string {
      return `positions_${this.name}`;
    }
    setup(db: ReadDb): void {
      db.exec(`CREATE TABLE IF NOT EXISTS ${this.table} (position TEXT PRIMARY KEY)`);
    }
    reset(db: ReadDb): void {
      db.exec(`DROP TABLE IF EXISTS ${this.table}`);
      this.setup(db);
    }
    apply(event: RecordedEvent, db: ReadDb): void {
      db.prepare(`INSERT INTO ${this.table} (position) VALUES (?)`).run(event.position);
    }
  }

  it('over many pages (the steady projection skips what it has; nothing is applied twice; no checkpoint goes back)', async () => {
    const store = new InMemoryEventStore();
    let head = '';
    for (let i = 0; i < 23; i++) {
      head = (await store.append(`probe-${i}`, [{ eventId: randomUUID(), type: 'Probed', schemaVersion: 1, data: {}, metadata: { actor: { id: 'ciso', name: 'CISO', roles: ['CISO'] }, occurredAt: '2026-01-01T00:00:00.000Z', correlationId: 'c', causationId: 'c' } }], { expectedVersion: ExpectedVersion.noStream })).position;
    }
    const db = openReadModelDatabase(':memory:');
    // The steady projection's stored checkpoint, as each page of the bumped one sees it (inside
    // that page's transaction, after the pages before it moved the checkpoints).
    const steadySeen: string[] = [];
    class Watching extends Positions {
      override apply(event: RecordedEvent, db: ReadDb): void {
        super.apply(event, db);
        steadySeen.push(db.prepare("SELECT position FROM projection_checkpoints WHERE name = 'steady'").pluck().get() as string);
      }
    }
    const run = async (bumpedVersion: number) => {
      const runner = new ProjectionRunner(store, db, [new Positions('steady', 1), new Watching('bumped', bumpedVersion)], upcasters.upcast, silent, { pageSize: 5, commitEvery: 10 });
      runner.start();
      await runner.waitFor(head);
      await runner.stop();
      expect(runner.failed).toBeUndefined();
    };
    await run(1);
    steadySeen.length = 0;
    await run(2);
    // Every page of the catch-up left the steady checkpoint at the head, none moved it back.
    expect(steadySeen).toHaveLength(23);
    expect(new Set(steadySeen)).toEqual(new Set([head]));
    const count = (name: string) => db.prepare(`SELECT COUNT(*) FROM positions_${name}`).pluck().get();
    expect([count('steady'), count('bumped')]).toEqual([23, 23]);
    expect(db.prepare('SELECT name, schema_version, position FROM projection_checkpoints ORDER BY name').all()).toEqual([
      { name: 'bumped', schema_version: 2, position: head },
      { name: 'steady', schema_version: 1, position: head },
    ]);
    // Once more, the same versions: nothing to apply.
    await run(2);
    expect([count('steady'), count('bumped')]).toEqual([23, 23]);
    db.close();
  });
});
