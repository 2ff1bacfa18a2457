/**
 * The PostgreSQL adapter against a real server: the whole contract suite, the global-order proof
 * under 16 concurrent writers, and what is specific to PostgreSQL (schema versions, append-only
 * triggers, several store instances on one database, LISTEN/NOTIFY).
 *
 * The server is started by test/support/postgres-cluster.ts (or given by TEST_DATABASE_URL); this
 * file gets its own database, and every fixture its own schema in it. Without PostgreSQL the
 * suite FAILS (beforeAll throws): it is never skipped.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { PostgresEventStore, type PostgresEventStoreOptions } from '../../src/event-store/postgres/postgres-event-store.js';
import { SCHEMA_VERSION } from '../../src/event-store/postgres/schema.js';
import { ExpectedVersion, WrongExpectedVersionError, type AppendResult, type EventStore, type RecordedEvent } from '../../src/event-store/event-store.port.js';
import { DuplicateEventIdError, EventStoreSchemaError } from '../../src/event-store/errors.js';
import { decodePosition } from '../../src/event-store/hash-chain.js';
import { verifyStore } from '../../src/event-store/integrity-verifier.js';
import { createEventStore, EventStoreConfigError } from '../../src/event-store/create-event-store.js';
import { runEventStoreContract, newEvent } from './event-store.contract.js';
import { startPostgres, type PostgresServer } from '../support/postgres-cluster.js';

let server: PostgresServer | undefined;
let databaseUrl = '';

beforeAll(async () => {
  server = await startPostgres();
  databaseUrl = await server.createDatabase('rl_es');
}, 120_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

const newSchema = (): string => `t_${randomUUID().replace(/-/g, '').slice(0, 20)}`;

async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<T>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await client.query<T>(text, values);
  } finally {
    await client.end();
  }
}

/** Stores opened on one schema, closed and the schema dropped by cleanup(). */
function schemaFixture(options: Partial<PostgresEventStoreOptions> = {}) {
  const schema = options.schema ?? newSchema();
  const opened: PostgresEventStore[] = [];
  const open = (more: Partial<PostgresEventStoreOptions> = {}): PostgresEventStore => {
    const s = new PostgresEventStore({ connectionString: databaseUrl, pollIntervalMs: 25, poolSize: 4, ...options, ...more, schema });
    opened.push(s);
    return s;
  };
  return {
    schema,
    open,
    cleanup: async () => {
      for (const s of opened.splice(0)) await s.close();
      await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

runEventStoreContract('postgres', async (options) => {
  const f = schemaFixture({ signer: options?.signer });
  const store = f.open();
  return { store, reopen: async () => f.open(), cleanup: f.cleanup };
});

async function readWholeLog(store: EventStore, pageSize = 1000): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const page: RecordedEvent[] = await store.readAll({ after, maxCount: pageSize });
    if (page.length === 0) return all;
    all.push(...page);
    after = page[page.length - 1]!.position;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PostgresEventStore: gap-free global order under 16 concurrent writers', () => {
  const WRITERS = 16;
  const APPENDS_PER_WRITER = 25;
  let fixture: ReturnType<typeof schemaFixture>;
  afterEach(async () => fixture?.cleanup());

  it.each([1, 2, 3])('run %i: a paging reader and a subscription see every event once, in strictly increasing positions', async () => {
    fixture = schemaFixture();
    // 16 writers, each its own store instance (own pool, own connections), plus a reader and a subscriber.
    const writers = Array.from({ length: WRITERS }, () => fixture.open({ poolSize: 2 }));
    const reader = fixture.open({ poolSize: 2 });
    const subscriber = fixture.open({ poolSize: 2, pollIntervalMs: 10 });
    await Promise.all([...writers, reader, subscriber].map((s) => s.init()));

    const received: RecordedEvent[] = [];
    const sub = subscriber.subscribeToAll({ from: null, onEvent: (e) => void received.push(e), batchSize: 13 });

    let writing = true;
    const paged: RecordedEvent[] = [];
    const paging = (async () => {
      let after: string | null = null;
      for (;;) {
        const done = !writing; // read once more after the writers finished
        const page: RecordedEvent[] = await reader.readAll({ after, maxCount: 7 });
        paged.push(...page);
        if (page.length > 0) after = page[page.length - 1]!.position;
        else if (done) return;
        else await sleep(1);
      }
    })();

    const acknowledged: AppendResult[] = [];
    await Promise.all(
      writers.map(async (store, w) => {
        const streams = [`w${w}-a-${randomUUID()}`, `w${w}-b-${randomUUID()}`];
        const versions = [-1, -1];
        for (let i = 0; i < APPENDS_PER_WRITER; i++) {
          const k = i % 2;
          const size = 1 + ((w + i) % 3);
          if (i % 5 === 4) {
            // an atomic two-stream append now and then
            const results = await store.appendMultiple([
              { streamId: streams[0]!, events: Array.from({ length: size }, () => newEvent('Multi', { w, i })), expectedVersion: ExpectedVersion.exact(versions[0]!) },
              { streamId: streams[1]!, events: [newEvent('Multi', { w, i })], expectedVersion: ExpectedVersion.exact(versions[1]!) },
            ]);
            versions[0] = results[0]!.nextExpectedVersion;
            versions[1] = results[1]!.nextExpectedVersion;
            acknowledged.push(...results);
          } else {
            const r = await store.append(streams[k]!, Array.from({ length: size }, () => newEvent('Written', { w, i })), {
              expectedVersion: ExpectedVersion.exact(versions[k]!),
            });
            versions[k] = r.nextExpectedVersion;
            acknowledged.push(r);
          }
          if (Math.random() < 0.2) await sleep(Math.floor(Math.random() * 3));
        }
      }),
    );
    writing = false;
    await paging;

    const log = await readWholeLog(reader);
    const ackIds = acknowledged.flatMap((r) => r.events.map((e) => e.eventId));
    expect(log).toHaveLength(ackIds.length);
    expect(new Set(log.map((e) => e.eventId))).toEqual(new Set(ackIds));
    // positions 1..N: gap-free and strictly increasing
    expect(log.map((e) => Number(decodePosition(e.position)))).toEqual(log.map((_, i) => i + 1));

    // The reader that paged DURING the writes: 0 missing, 0 repeated, in order.
    const pagedIds = paged.map((e) => e.eventId);
    const missing = log.filter((e) => !pagedIds.includes(e.eventId)).length;
    const repeated = pagedIds.length - new Set(pagedIds).size;
    expect({ missing, repeated }).toEqual({ missing: 0, repeated: 0 });
    expect(pagedIds).toEqual(log.map((e) => e.eventId));
    for (let i = 1; i < paged.length; i++) expect(paged[i]!.position > paged[i - 1]!.position).toBe(true);

    // The subscription: the same log, once each, in order.
    const deadline = Date.now() + 10_000;
    while (received.length < log.length && Date.now() < deadline) await sleep(5);
    await sleep(30);
    await sub.close();
    expect(received.map((e) => e.eventId)).toEqual(log.map((e) => e.eventId));

    // Both chains and every commit's signature-free chain verify over the log the writers built.
    expect(await verifyStore(reader)).toMatchObject({ ok: true, eventsChecked: log.length });
    for (let i = 1; i < log.length; i++) expect(log[i]!.recordedAt >= log[i - 1]!.recordedAt).toBe(true);
  }, 60_000);

  it('a writer in flight holds back later positions: a reader never gets ahead of it (the sequence trap, and why it cannot happen here)', async () => {
    fixture = schemaFixture();
    const store = fixture.open();
    const reader = fixture.open();
    await store.init();
    await reader.init();
    await store.append(`s-${randomUUID()}`, [newEvent()], { expectedVersion: ExpectedVersion.noStream });

    // The trap, on a bare sequence-numbered table: a lower number commits after a higher one.
    const trapTable = `"${fixture.schema}".seq_demo`;
    await sql(`CREATE TABLE ${trapTable} (position bigserial PRIMARY KEY, v text)`);
    const slow = new pg.Client({ connectionString: databaseUrl });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      await slow.query(`INSERT INTO ${trapTable} (v) VALUES ('slow')`); // takes 1, not yet committed
      await sql(`INSERT INTO ${trapTable} (v) VALUES ('fast')`); // takes 2, committed
      const seen = (await sql<{ position: string }>(`SELECT position FROM ${trapTable} WHERE position > 0 ORDER BY position`)).rows.map((r) => r.position);
      await slow.query('COMMIT');
      const after = (await sql<{ position: string }>(`SELECT position FROM ${trapTable} WHERE position > $1 ORDER BY position`, [seen[seen.length - 1]])).rows;
      expect(seen).toEqual(['2']);
      expect(after).toEqual([]); // position 1 is skipped for ever by a reader checkpointed at 2

      // The adapter: a writer in flight (here a raw transaction holding the append lock, as a commit
      // does between taking its position and COMMIT) makes every later append wait behind it.
      const lockKey = (await import('../../src/event-store/postgres/postgres-event-store.js')).advisoryKey(`append/${fixture.schema}`);
      await slow.query('BEGIN');
      await slow.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey]);
      let settled = false;
      const pending = store.append(`s-${randomUUID()}`, [newEvent()], { expectedVersion: ExpectedVersion.noStream }).finally(() => {
        settled = true;
      });
      await sleep(150);
      expect(settled).toBe(false);
      const head = await reader.headPosition();
      expect(await reader.readAll({ after: head })).toEqual([]);
      await slow.query('ROLLBACK');
      const r = await pending;
      expect(Number(decodePosition(r.position))).toBe(2); // the in-flight transaction burned nothing
      expect((await reader.readAll({ after: head })).map((e) => e.eventId)).toEqual([r.events[0]!.eventId]);
    } finally {
      await slow.end();
    }
  });
});

describe('PostgresEventStore.awaitCommitted', () => {
  let fixture: ReturnType<typeof schemaFixture> | undefined;
  afterEach(async () => {
    await fixture?.cleanup();
    fixture = undefined;
  });

  it('waits for a commit in flight on another connection (it stamps recordedAt under the append lock, held to COMMIT): an asOf just past then sees it (probe F3)', async () => {
    fixture = schemaFixture();
    const reader = fixture.open();
    await reader.init();
    const lockKey = (await import('../../src/event-store/postgres/postgres-event-store.js')).advisoryKey(`append/${fixture.schema}`);
    const writer = new pg.Client({ connectionString: databaseUrl });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      await writer.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey]);
      let settled = false;
      const waiting = reader.awaitCommitted().finally(() => {
        settled = true;
      });
      await sleep(150);
      expect(settled).toBe(false);
      await writer.query('COMMIT');
      await waiting;
      expect(settled).toBe(true);
    } finally {
      await writer.end();
    }
    // With nothing in flight it answers at once.
    await reader.awaitCommitted();
  });
});

describe('PostgresEventStore specifics', () => {
  let fixture: ReturnType<typeof schemaFixture>;
  afterEach(async () => fixture?.cleanup());

  it('creates the versioned schema at init (concurrently, once) and refuses a newer version', async () => {
    fixture = schemaFixture();
    const stores = Array.from({ length: 4 }, () => fixture.open());
    await Promise.all(stores.map((s) => s.init()));
    const versions = await sql<{ version: number }>(`SELECT version FROM "${fixture.schema}".event_store_schema ORDER BY version`);
    expect(versions.rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    const tables = await sql<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [fixture.schema],
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(['chain_signatures', 'event_store_schema', 'events', 'idempotency', 'snapshots']);
    expect(await stores[0]!.health()).toMatchObject({ ok: true, adapter: 'postgres', details: { schema: fixture.schema, headPosition: null } });

    await sql(`INSERT INTO "${fixture.schema}".event_store_schema (version) VALUES (99)`);
    await expect(fixture.open().init()).rejects.toBeInstanceOf(EventStoreSchemaError);
  });

  it('the events and signatures tables refuse UPDATE, DELETE and TRUNCATE', async () => {
    fixture = schemaFixture();
    const { generateKeyPairSync } = await import('node:crypto');
    const { signerFor } = await import('../../src/event-store/signing.js');
    const store = fixture.open({ signer: signerFor(generateKeyPairSync('ed25519').privateKey) });
    await store.append(`s-${randomUUID()}`, [newEvent()], { expectedVersion: ExpectedVersion.noStream, idempotencyKey: `u:${randomUUID()}` });
    expect(await store.readSignatures()).toHaveLength(1);
    const S = `"${fixture.schema}"`;
    for (const statement of [
      `UPDATE ${S}.events SET type = 'Forged'`,
      `DELETE FROM ${S}.events`,
      `TRUNCATE ${S}.events CASCADE`,
      `UPDATE ${S}.chain_signatures SET signature = 'x'`,
      `DELETE FROM ${S}.chain_signatures`,
      `TRUNCATE ${S}.chain_signatures`,
      `DELETE FROM ${S}.idempotency`,
      `UPDATE ${S}.idempotency SET stream_id = 'x'`,
    ]) {
      await expect(sql(statement)).rejects.toThrow(/append-only/);
    }
    expect(await store.readAll()).toHaveLength(1);
  });

  it('two store instances on one database append alternately to one stream: one chain, typed conflicts', async () => {
    fixture = schemaFixture();
    const a = fixture.open();
    const b = fixture.open();
    const s = `s-${randomUUID()}`;
    let version = -1;
    for (let i = 0; i < 20; i++) {
      const r = await (i % 2 === 0 ? a : b).append(s, [newEvent('Alt', { i })], { expectedVersion: ExpectedVersion.exact(version) });
      version = r.nextExpectedVersion;
    }
    const stale = await b.append(s, [newEvent()], { expectedVersion: ExpectedVersion.exact(version - 1) }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(WrongExpectedVersionError);
    expect((stale as WrongExpectedVersionError).actualVersion).toBe(version);
    // Both race for the same version: one wins, whichever instance.
    const race = await Promise.allSettled([a, b, a, b].map((x) => x.append(s, [newEvent()], { expectedVersion: ExpectedVersion.exact(version) })));
    expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const log = await a.readStream(s);
    expect(log.map((e) => e.revision)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(await verifyStore(b)).toMatchObject({ ok: true, eventsChecked: 21 });
  });

  it('group commit: appends fired together share one transaction; a duplicate event id fails alone', async () => {
    fixture = schemaFixture();
    const store = fixture.open();
    await store.init();
    const before = store.stats();
    await Promise.all(Array.from({ length: 100 }, () => store.append(`s-${randomUUID()}`, [newEvent()], { expectedVersion: ExpectedVersion.noStream })));
    const after = store.stats();
    expect(after.appends - before.appends).toBe(100);
    expect(after.transactions - before.transactions).toBe(1);
    expect(new Set((await store.readAll()).map((e) => e.recordedAt)).size).toBe(1);

    const e = newEvent();
    await store.append('d-1', [e], { expectedVersion: ExpectedVersion.noStream });
    const results = await Promise.allSettled([
      store.append('d-2', [newEvent()], { expectedVersion: ExpectedVersion.noStream }),
      store.append('d-3', [{ ...e }], { expectedVersion: ExpectedVersion.noStream }),
      store.append('d-4', [newEvent()], { expectedVersion: ExpectedVersion.noStream }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateEventIdError);
    const log = await readWholeLog(store);
    expect(log.map((x) => Number(decodePosition(x.position)))).toEqual(log.map((_, i) => i + 1));
  });

  it('a subscription on another instance is woken by NOTIFY, not by polling', async () => {
    fixture = schemaFixture();
    const writer = fixture.open();
    const follower = fixture.open({ pollIntervalMs: 60_000 });
    await writer.init();
    await follower.init();
    const received: RecordedEvent[] = [];
    const sub = follower.subscribeToAll({ from: null, onEvent: (e) => void received.push(e) });
    await sleep(100); // caught up on the empty log, now waiting
    const r = await writer.append(`s-${randomUUID()}`, [newEvent()], { expectedVersion: ExpectedVersion.noStream });
    const deadline = Date.now() + 3000;
    while (received.length === 0 && Date.now() < deadline) await sleep(5);
    expect(received.map((e) => e.eventId)).toEqual([r.events[0]!.eventId]);
    await sub.close();
  });

  it('createEventStore builds it from a DATABASE_URL, and refuses a missing one', async () => {
    fixture = schemaFixture();
    const store = createEventStore({ kind: 'postgres', databaseUrl, postgresSchema: fixture.schema });
    expect(store).toBeInstanceOf(PostgresEventStore);
    await store.init();
    expect(await store.headPosition()).toBeNull();
    await store.close();
    expect(() => createEventStore({ kind: 'postgres' })).toThrow(EventStoreConfigError);
    expect(() => createEventStore({ kind: 'postgres', databaseUrl: '' })).toThrow(/DATABASE_URL/);
  });
});
