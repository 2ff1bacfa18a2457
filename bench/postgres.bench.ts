/**
 * PostgreSQL event store benchmark: PostgresEventStore's append throughput with 16 writers
 * against raw `pg` INSERTs into a comparable table, in the same run, on the same server
 * (TEST_DATABASE_URL / DATABASE_URL, or a throwaway cluster started from the Debian binaries,
 * fsync and synchronous_commit at their defaults: on).
 *
 *   ours16      one PostgresEventStore, 16 concurrent writers awaiting each append (one event,
 *               exact expected version): group commit shares transactions between them
 *   raw16       a pg.Pool of 16 connections, 16 concurrent writers, one autocommit INSERT each
 *               (bigserial position, unique event id, unique (stream, revision)): no chain, no
 *               hashing, no version check, no ordering guarantee for readers
 *   ours16x16   (info) 16 PostgresEventStore instances, one writer each: the worst case of the
 *               append lock, every instance's commits serialised with the others'
 *
 * The workload is fed chunk by chunk to every target in turn (rotating who goes first), each
 * repetition on fresh tables, so that a slow spell of the disk hits all alike. Median of 3.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PostgresEventStore } from '../src/event-store/postgres/postgres-event-store.js';
import { ExpectedVersion, type EventMetadata, type NewEvent } from '../src/event-store/event-store.port.js';
import { newEventId } from '../src/event-store/event-id.js';
import { startPostgres } from '../test/support/postgres-cluster.js';

const EVENTS = Number(process.env.PG_BENCH_EVENTS ?? 8_000);
const EVENTS_PER_STREAM = 10;
const STREAMS = EVENTS / EVENTS_PER_STREAM;
const WRITERS = 16;
const REPEATS = 3;
const CHUNK_STREAMS = 80;
const TARGET = 0.5;

const METADATA: EventMetadata = {
  actor: { id: 'bench-user', name: 'Bench User', roles: ['risk-manager'] },
  occurredAt: '2025-01-01T00:00:00.000Z',
  correlationId: 'bench-correlation',
  causationId: 'bench-causation',
};

interface Payload {
  streamId: string;
  revision: number;
  type: string;
  data: Record<string, unknown>;
}

function makeWorkload(): Payload[] {
  const out: Payload[] = [];
  for (let s = 0; s < STREAMS; s++) {
    for (let r = 0; r < EVENTS_PER_STREAM; r++) {
      out.push({
        streamId: `asset-${s}`,
        revision: r,
        type: r === 0 ? 'AssetRegistered' : 'AssetReclassified',
        data: {
          assetId: `asset-${s.toString().padStart(6, '0')}`,
          name: `Hot wallet signing service ${s}`,
          classification: r % 2 === 0 ? 'confidential' : 'internal',
          owner: { department: 'custody', contact: 'custody-team@example.com' },
          ratings: { confidentiality: 3, integrity: 3, availability: 2 },
          tags: ['wallet', 'signing', 'tier-1'],
          note: `revision ${r}: reviewed under JVCEA chapter 4, control set A.12`,
        },
      });
    }
  }
  return out;
}

/** Splits a chunk's streams over the writers; each writer appends its streams' events in order. */
function lanes(chunk: Payload[], writers: number): Payload[][] {
  const out: Payload[][] = Array.from({ length: writers }, () => []);
  for (let i = 0, s = 0; i < chunk.length; i += EVENTS_PER_STREAM, s++) out[s % writers]!.push(...chunk.slice(i, i + EVENTS_PER_STREAM));
  return out;
}

interface Target {
  name: string;
  ms: number;
  write(chunk: Payload[]): Promise<void>;
  close(): Promise<string>;
}

async function timed(target: Target, chunk: Payload[], perLane: (lane: number, p: Payload) => Promise<void>): Promise<void> {
  const ls = lanes(chunk, WRITERS);
  const t0 = performance.now();
  await Promise.all(ls.map(async (lane, i) => {
    for (const p of lane) await perLane(i, p);
  }));
  target.ms += performance.now() - t0;
}

function toNewEvent(p: Payload): NewEvent {
  return { eventId: newEventId(), type: p.type, schemaVersion: 1, data: p.data, metadata: METADATA };
}

async function oursTarget(name: string, url: string, instances: number): Promise<Target> {
  const schema = `bench_${name}_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
  const stores = Array.from({ length: instances }, () => new PostgresEventStore({ connectionString: url, schema, poolSize: instances === 1 ? 4 : 2 }));
  for (const s of stores) await s.init();
  const target: Target = {
    name,
    ms: 0,
    write: (chunk) =>
      timed(target, chunk, async (lane, p) => {
        await stores[lane % instances]!.append(p.streamId, [toNewEvent(p)], { expectedVersion: ExpectedVersion.exact(p.revision - 1) });
      }),
    async close() {
      const stats = stores.map((s) => s.stats());
      const appends = stats.reduce((n, s) => n + s.appends, 0);
      const transactions = stats.reduce((n, s) => n + s.transactions, 0);
      for (const s of stores) await s.close();
      return `${(appends / transactions).toFixed(1)} appends/transaction`;
    },
  };
  return target;
}

async function rawTarget(name: string, url: string): Promise<Target> {
  const table = `raw_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
  const pool = new pg.Pool({ connectionString: url, max: WRITERS });
  await pool.query(`CREATE TABLE ${table} (
    position bigserial PRIMARY KEY, event_id text NOT NULL UNIQUE, stream_id text NOT NULL, revision integer NOT NULL,
    type text NOT NULL, schema_version integer NOT NULL, data text NOT NULL, metadata text NOT NULL, recorded_at text NOT NULL,
    UNIQUE (stream_id, revision))`);
  const insert = `INSERT INTO ${table} (event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at) VALUES ($1, $2, $3, $4, 1, $5, $6, $7)`;
  const metadata = JSON.stringify(METADATA);
  const target: Target = {
    name,
    ms: 0,
    write: (chunk) =>
      timed(target, chunk, async (_lane, p) => {
        await pool.query(insert, [newEventId(), p.streamId, p.revision, p.type, JSON.stringify(p.data), metadata, new Date().toISOString()]);
      }),
    async close() {
      await pool.end();
      return '';
    },
  };
  return target;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (ms: number): number => (EVENTS / ms) * 1000;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export async function runPostgresBench(): Promise<void> {
  const started = performance.now();
  const log = (msg: string): void => console.log(`[postgres bench +${((performance.now() - started) / 1000).toFixed(1)}s] ${msg}`);
  const server = await startPostgres();
  try {
    const url = await server.createDatabase('rl_bench');
    log(`${EVENTS} events, ${STREAMS} streams x ${EVENTS_PER_STREAM}, ${WRITERS} writers; server ${server.origin === 'started' ? 'started from the system binaries' : 'given by URL'}`);
    const payloads = makeWorkload();
    const runs: Record<string, number[]> = { ours16: [], raw16: [], ours16x16: [] };
    const notes: string[] = [];
    for (let rep = 0; rep < REPEATS; rep++) {
      const targets = [await oursTarget('ours16', url, 1), await rawTarget('raw16', url), await oursTarget('ours16x16', url, WRITERS)];
      const chunks = Math.ceil(STREAMS / CHUNK_STREAMS);
      for (let c = 0; c < chunks; c++) {
        const chunk = payloads.slice(c * CHUNK_STREAMS * EVENTS_PER_STREAM, (c + 1) * CHUNK_STREAMS * EVENTS_PER_STREAM);
        for (let k = 0; k < targets.length; k++) await targets[(c + k) % targets.length]!.write(chunk);
      }
      const closed: string[] = [];
      for (const t of targets) {
        runs[t.name]!.push(rate(t.ms));
        closed.push(`${t.name} ${fmt(rate(t.ms))} ev/s${(await t.close()).replace(/^(.)/, ' ($1').replace(/(.)$/, '$1)')}`);
      }
      notes.push(closed.join('; '));
      log(`rep ${rep + 1}: ${closed.join('; ')}`);
    }
    const m = { ours16: median(runs.ours16!), raw16: median(runs.raw16!), ours16x16: median(runs.ours16x16!) };
    const ratio = m.ours16 / m.raw16;
    const paired = median(runs.ours16!.map((x, i) => x / runs.raw16![i]!));
    console.log('');
    console.log(`PostgreSQL event store benchmark: median of ${REPEATS} runs, events/s (fsync on, synchronous_commit on)`);
    console.log(`${'measurement'.padEnd(50)} ${'events/s'.padStart(10)}`);
    console.log('-'.repeat(61));
    console.log(`${'PostgresEventStore, 1 instance, 16 writers'.padEnd(50)} ${fmt(m.ours16).padStart(10)}`);
    console.log(`${'raw pg INSERT, pool of 16, 16 writers'.padEnd(50)} ${fmt(m.raw16).padStart(10)}`);
    console.log(`${'(info) PostgresEventStore, 16 instances x 1 writer'.padEnd(50)} ${fmt(m.ours16x16).padStart(10)}`);
    console.log('');
    console.log(`ratio ours16 / raw16: ${ratio.toFixed(2)} (paired ${paired.toFixed(2)}), target >= ${TARGET}: ${ratio >= TARGET ? 'PASS' : 'MISS'}`);
    console.log(`(info) ours 16 instances / raw16: ${(m.ours16x16 / m.raw16).toFixed(2)}`);
    console.log(JSON.stringify({ bench: 'postgres', events: EVENTS, repeats: REPEATS, eventsPerSecond: m, runs, ratio: Number(ratio.toFixed(3)), pairedRatio: Number(paired.toFixed(3)), targetMet: ratio >= TARGET, seconds: Number(((performance.now() - started) / 1000).toFixed(1)) }));
  } finally {
    await server.stop();
  }
}
