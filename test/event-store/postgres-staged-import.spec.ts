/**
 * An import into PostgreSQL is built in a schema beside the store's and moved into it in one
 * transaction (src/event-store/postgres/staged-import.ts), against a real server.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { STORE_FUNCTIONS, STORE_TABLES } from '../../src/event-store/postgres/schema.js';
import { createImportSchema, dropImportSchema, importSchemaFor, moveImportedStore, storeHeadIn } from '../../src/event-store/postgres/staged-import.js';
import { ExpectedVersion } from '../../src/event-store/event-store.port.js';
import { verifyStore } from '../../src/event-store/integrity-verifier.js';
import { generateKeyPairSync } from 'node:crypto';
import { signingKeysFor } from '../../src/event-store/signing.js';
import { newEvent } from './event-store.contract.js';
import { startPostgres, type PostgresServer } from '../support/postgres-cluster.js';
import { eventually } from '../support/eventually.js';

let server: PostgresServer | undefined;
let databaseUrl = '';
const clients: pg.Client[] = [];
const stores: PostgresEventStore[] = [];

beforeAll(async () => {
  server = await startPostgres();
  databaseUrl = await server.createDatabase('rl_staged');
}, 120_000);

afterAll(async () => {
  for (const s of stores) await s.close();
  for (const c of clients) await c.end().catch(() => undefined);
  await server?.stop();
}, 60_000);

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  clients.push(c);
  return c;
}

type Keys = ReturnType<typeof signingKeysFor>;

function open(schema: string, keys?: Keys): PostgresEventStore {
  const store = new PostgresEventStore({ connectionString: databaseUrl, schema, pollIntervalMs: 60_000, signer: keys?.signer });
  stores.push(store);
  return store;
}

const newSchema = (): string => `t_${randomUUID().replace(/-/g, '').slice(0, 20)}`;

describe('an import built beside the PostgreSQL store', () => {
  it('moves every table and function the migrations create (STORE_TABLES, STORE_FUNCTIONS name them all)', async () => {
    const schema = newSchema();
    await open(schema).init();
    const c = await client();
    const tables = await c.query<{ relname: string }>(`SELECT relname FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind IN ('r', 'p', 'v', 'm', 'S') ORDER BY relname`, [schema]);
    expect(tables.rows.map((r) => r.relname)).toEqual([...STORE_TABLES].sort());
    const functions = await c.query<{ f: string }>(`SELECT proname || '()' AS f FROM pg_proc WHERE pronamespace = $1::regnamespace ORDER BY 1`, [schema]);
    expect(functions.rows.map((r) => r.f)).toEqual([...STORE_FUNCTIONS].sort());
  });

  it('puts the built store in place of an empty one in one transaction: events, signatures and the append-only fence with it; what else the schema holds stays; a store already open on the target sees the events at once and appends after them', async () => {
    const target = newSchema();
    const staging = importSchemaFor(target);
    const keys = signingKeysFor(generateKeyPairSync('ed25519').privateKey);
    // The target as a server that answered requests left it: the store's tables, empty, and a table of another part.
    const running = open(target, keys);
    await running.init();
    const c = await client();
    await c.query(`CREATE TABLE "${target}".other_part (id int PRIMARY KEY)`);
    await c.query(`INSERT INTO "${target}".other_part VALUES (7)`);
    const built = open(staging, keys);
    for (let i = 0; i < 5; i++) await built.append(`s-${i}`, [newEvent('Tested', { i }), newEvent('Tested', { i, second: true })], { expectedVersion: ExpectedVersion.noStream, idempotencyKey: `k-${i}` });
    const builtHead = await built.headPosition();
    await built.close();

    expect(await moveImportedStore(c, staging, target)).toEqual({ moved: true });

    expect((await c.query('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1', [staging])).rows[0].n).toBe(0);
    expect((await c.query(`SELECT id FROM "${target}".other_part`)).rows).toEqual([{ id: 7 }]);
    expect(await storeHeadIn(c, target)).toBe(String(Number(builtHead)));
    // The fence moved with the tables: the log still refuses an edit.
    await expect(c.query(`UPDATE "${target}".events SET type = 'Forged'`)).rejects.toThrow(/append-only/);
    await expect(c.query(`DELETE FROM "${target}".chain_signatures`)).rejects.toThrow(/append-only/);
    // The store open on the target before the move: woken by the move's notice (its poll is a minute).
    await eventually('the open store to see the moved events', async () => (await running.headPosition()) === builtHead, 10_000);
    expect(await running.findIdempotentAppend('k-3')).not.toBeNull();
    const next = await running.append('s-new', [newEvent('Tested', { after: true })], { expectedVersion: ExpectedVersion.noStream });
    expect(BigInt(next.position)).toBeGreaterThan(BigInt(builtHead!));
    const report = await verifyStore(running, { trusted: keys.trusted });
    expect(report).toMatchObject({ ok: true, eventsChecked: 11 });
  });

  it('a target that received an event meanwhile is left as it is and the move refused, the built store intact; dropping it clears it', async () => {
    const target = newSchema();
    const staging = importSchemaFor(target);
    const server = open(target);
    await server.append('written-meanwhile', [newEvent('Tested', {})], { expectedVersion: ExpectedVersion.noStream });
    await createImportSchema(await client(), staging);
    const built = open(staging);
    await built.append('imported', [newEvent('Tested', {})], { expectedVersion: ExpectedVersion.noStream });
    await built.close();
    const c = await client();
    const outcome = await moveImportedStore(c, staging, target);
    expect(outcome).toEqual({ moved: false, targetHead: '1' });
    expect(await storeHeadIn(c, staging)).toBe('1');
    expect((await c.query(`SELECT stream_id FROM "${target}".events`)).rows).toEqual([{ stream_id: 'written-meanwhile' }]);
    expect(await dropImportSchema(c, staging)).toEqual({ existed: true, dropped: true, marked: true, foreign: [] });
    expect(await dropImportSchema(c, staging)).toEqual({ existed: false, dropped: false, marked: false, foreign: [] });
    expect(await storeHeadIn(c, staging)).toBeNull();
  });

  it("a schema of that name holding anything an import does not make is someone else's: never dropped, what is foreign named (an import dropped one, 500 rows with it)", async () => {
    const staging = importSchemaFor(newSchema());
    const c = await client();
    await c.query(`CREATE SCHEMA "${staging}"`);
    await c.query(`CREATE TABLE "${staging}".ledger_rows (id int)`);
    await c.query(`INSERT INTO "${staging}".ledger_rows SELECT generate_series(1, 500)`);
    await c.query(`CREATE TYPE "${staging}".mood AS ENUM ('ok')`);
    expect(await dropImportSchema(c, staging)).toEqual({ existed: true, dropped: false, marked: false, foreign: ['ledger_rows', 'mood'] });
    // Beside an import's own tables too, and bearing an import's mark.
    await open(staging).init();
    await c.query(`COMMENT ON SCHEMA "${staging}" IS 'risk-ledger: an import builds the event store here; dropped when it ends'`);
    expect(await dropImportSchema(c, staging)).toMatchObject({ dropped: false, marked: true, foreign: ['ledger_rows', 'mood'] });
    expect((await c.query(`SELECT count(*)::int AS n FROM "${staging}".ledger_rows`)).rows[0].n).toBe(500);
    // Holding only tables of an import's names, but not made by one: someone's (a table "events" of 300 rows went: re-probe NEW-1).
    const other = importSchemaFor(newSchema());
    await c.query(`CREATE SCHEMA "${other}"`);
    await c.query(`CREATE TABLE "${other}".events AS SELECT generate_series(1, 300) AS id`);
    expect(await dropImportSchema(c, other)).toEqual({ existed: true, dropped: false, marked: false, foreign: [] });
    expect((await c.query(`SELECT count(*)::int AS n FROM "${other}".events`)).rows[0].n).toBe(300);
  });

  it("an import's schema that a view elsewhere reads is not dropped with the view (no CASCADE): PostgreSQL names it, both stay", async () => {
    const staging = importSchemaFor(newSchema());
    const c = await client();
    await createImportSchema(c, staging);
    await open(staging).init();
    const elsewhere = newSchema();
    await c.query(`CREATE SCHEMA "${elsewhere}"`);
    await c.query(`CREATE VIEW "${elsewhere}".imported AS SELECT position FROM "${staging}".events`);
    await expect(dropImportSchema(c, staging)).rejects.toMatchObject({ detail: expect.stringMatching(/view .*imported depends on table .*events/) });
    expect((await c.query(`SELECT count(*)::int AS n FROM pg_views WHERE schemaname = $1`, [elsewhere])).rows[0].n).toBe(1);
    expect(await storeHeadIn(c, staging)).toBeNull(); // still there, empty
    expect((await c.query('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1', [staging])).rows[0].n).toBe(1);
  });

  it("keeps the owner and the grants of the tables it replaces (the server's role could no longer open them; a reporting role's SELECT was gone)", async () => {
    const target = newSchema();
    const staging = importSchemaFor(target);
    const [owner, reporting] = [`o_${target}`, `r_${target}`];
    const c = await client();
    await c.query(`CREATE ROLE ${owner}`);
    await c.query(`CREATE ROLE ${reporting}`);
    await open(target).init();
    await c.query(`GRANT CREATE, USAGE ON SCHEMA "${target}" TO ${owner}`);
    for (const t of STORE_TABLES) await c.query(`ALTER TABLE "${target}".${t} OWNER TO ${owner}`);
    await c.query(`ALTER FUNCTION "${target}".refuse_change() OWNER TO ${owner}`);
    await c.query(`GRANT SELECT ON "${target}".events TO ${reporting}`);
    await c.query(`GRANT SELECT, INSERT ON "${target}".chain_signatures TO ${reporting} WITH GRANT OPTION`);
    await c.query(`GRANT UPDATE (state) ON "${target}".snapshots TO ${reporting}`);
    const built = open(staging);
    await built.append('imported', [newEvent('Tested', {})], { expectedVersion: ExpectedVersion.noStream });
    await built.close();
    expect(await moveImportedStore(c, staging, target)).toEqual({ moved: true });
    const owners = await c.query(`SELECT tablename, tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = ANY($2::text[])`, [target, [...STORE_TABLES]]);
    expect(new Set(owners.rows.map((r) => r.tableowner))).toEqual(new Set([owner]));
    expect(owners.rows).toHaveLength(STORE_TABLES.length);
    const grants = await c.query(`SELECT table_name, privilege_type, is_grantable FROM information_schema.role_table_grants WHERE grantee = $1 ORDER BY 1, 2`, [reporting]);
    expect(grants.rows).toEqual([
      { table_name: 'chain_signatures', privilege_type: 'INSERT', is_grantable: 'YES' },
      { table_name: 'chain_signatures', privilege_type: 'SELECT', is_grantable: 'YES' },
      { table_name: 'events', privilege_type: 'SELECT', is_grantable: 'NO' },
    ]);
    const columns = await c.query(`SELECT table_name, column_name, privilege_type FROM information_schema.column_privileges WHERE grantee = $1 AND table_name = 'snapshots'`, [reporting]);
    expect(columns.rows).toEqual([{ table_name: 'snapshots', column_name: 'state', privilege_type: 'UPDATE' }]);
    expect((await c.query(`SELECT pg_get_userbyid(proowner) AS o FROM pg_proc WHERE pronamespace = $1::regnamespace`, [target])).rows).toEqual([{ o: owner }]);
  });

  it('a move something stands in the way of (a view on the events) is rolled back whole, PostgreSQL naming what', async () => {
    const target = newSchema();
    const staging = importSchemaFor(target);
    await open(target).init();
    const c = await client();
    await c.query(`CREATE VIEW "${target}".recent AS SELECT position FROM "${target}".events`);
    const built = open(staging);
    await built.append('imported', [newEvent('Tested', {})], { expectedVersion: ExpectedVersion.noStream });
    await built.close();
    const refused = await moveImportedStore(c, staging, target).catch((error: { message: string; detail?: string }) => error);
    expect(refused).toMatchObject({ detail: expect.stringMatching(/view .*recent depends on table .*events/) });
    expect(await storeHeadIn(c, staging)).toBe('1');
    expect(await storeHeadIn(c, target)).toBeNull();
  });
});
