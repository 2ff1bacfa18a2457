/**
 * Event store benchmark: SqliteEventStore against raw better-sqlite3 on a plain events table at
 * the same durability (WAL, synchronous=FULL), on files in a temp dir.
 *
 *   (a) 20,000 appends of one ~300-byte event, exact expected version, 1 writer awaiting each
 *   (b) the same with 16 concurrent writers (raw: 16 async loops, one INSERT transaction each)
 *   (c) read the whole log in order (ours: readAll pages of 1000; raw: .iterate + JSON.parse)
 *   (d) fold 1,000 random streams (readStream each)
 *
 * Each measurement is repeated 3 times; the median events/s is reported, with ratios ours/raw.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite-event-store.js';
import { ExpectedVersion, type EventMetadata, type NewEvent } from '../src/event-store/event-store.port.js';
import { newEventId } from '../src/event-store/event-id.js';
import { signerFor, type ChainSigner } from '../src/event-store/signing.js';
import { measureAppendPreparation } from './support/append-preparation.js';

const EVENTS = 20_000;
const EVENTS_PER_STREAM = 10;
const STREAMS = EVENTS / EVENTS_PER_STREAM;
const WRITERS = 16;
const REPEATS = 3;
const FOLD_STREAMS = 1_000;
const READ_PAGE = 1_000;
/** Streams per interleaving chunk: 80 streams = 800 events = 5 streams per writer with 16 writers. */
const CHUNK_STREAMS = 80;

interface Payload {
  streamId: string;
  revision: number;
  type: string;
  data: Record<string, unknown>;
}

const METADATA: EventMetadata = {
  actor: { id: 'bench-user', name: 'Bench User', roles: ['risk-manager'] },
  occurredAt: '2025-01-01T00:00:00.000Z',
  correlationId: 'bench-correlation',
  causationId: 'bench-causation',
};

/** About 300 bytes of JSON per event. */
function makeData(stream: number, revision: number): Record<string, unknown> {
  return {
    assetId: `asset-${stream.toString().padStart(6, '0')}`,
    name: `Hot wallet signing service ${stream}`,
    classification: revision % 2 === 0 ? 'confidential' : 'internal',
    owner: { department: 'custody', contact: 'custody-team@example.com' },
    ratings: { confidentiality: 3, integrity: 3, availability: 2 },
    tags: ['wallet', 'signing', 'tier-1'],
    note: `revision ${revision}: reviewed under JVCEA chapter 4, control set A.12`,
  };
}

/** Events in stream-major order: stream s holds revisions 0..9. */
function makeWorkload(): Payload[] {
  const out: Payload[] = new Array(EVENTS);
  for (let s = 0; s < STREAMS; s++) {
    const streamId = `asset-${s}`;
    for (let r = 0; r < EVENTS_PER_STREAM; r++) {
      out[s * EVENTS_PER_STREAM + r] = { streamId, revision: r, type: r === 0 ? 'AssetRegistered' : 'AssetReclassified', data: makeData(s, r) };
    }
  }
  return out;
}

function toNewEvent(p: Payload, newId: () => string): NewEvent {
  return { eventId: newId(), type: p.type, schemaVersion: 1, data: p.data, metadata: METADATA };
}

/** Splits the streams over the writers; each writer appends its streams' events in order. */
function perWriter<T>(items: T[][], writers: number): T[][] {
  const out: T[][] = Array.from({ length: writers }, () => []);
  items.forEach((streamItems, i) => out[i % writers]!.push(...streamItems));
  return out;
}

function byStream<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += EVENTS_PER_STREAM) out.push(items.slice(i, i + EVENTS_PER_STREAM));
  return out;
}

// ------------------------------------------------------------------ raw baseline

function openRaw(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY,
    stream_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (stream_id, revision)
  )`);
  return db;
}

/** One write target of a session: a file, a number of writers, and the time spent appending. */
interface WriteTarget {
  name: string;
  ms: number;
  /** Appends one chunk of the workload (whole streams) with this target's writers; timed. */
  write(chunk: Payload[]): Promise<void>;
  close(): Promise<{ appendsPerTransaction?: number }>;
}

function lanesFor<T>(chunk: T[], writers: number): T[][] {
  return writers === 1 ? [chunk] : perWriter(byStream(chunk), writers);
}

function rawTarget(name: string, path: string, writers: number): WriteTarget {
  const db = openRaw(path);
  const insert = db.prepare('INSERT INTO events (stream_id, revision, type, data) VALUES (?, ?, ?, ?)');
  const insertOne = db.transaction((p: Payload) => insert.run(p.streamId, p.revision, p.type, JSON.stringify(p.data)));
  // The same async shape as the store's writers; better-sqlite3 runs each transaction synchronously.
  const append = async (p: Payload): Promise<void> => {
    insertOne(p);
  };
  const target: WriteTarget = {
    name,
    ms: 0,
    async write(chunk) {
      const lanes = lanesFor(chunk, writers);
      const t0 = performance.now();
      await Promise.all(
        lanes.map(async (lane) => {
          for (const p of lane) await append(p);
        }),
      );
      target.ms += performance.now() - t0;
    },
    async close() {
      db.close();
      return {};
    },
  };
  return target;
}

function rawRead(path: string): { ms: number; count: number } {
  const db = openRaw(path);
  const stmt = db.prepare('SELECT position, stream_id, revision, type, data FROM events ORDER BY position');
  const t0 = performance.now();
  let count = 0;
  let sink = 0;
  for (const row of stmt.iterate() as IterableIterator<{ position: number; stream_id: string; revision: number; type: string; data: string }>) {
    const data = JSON.parse(row.data) as Record<string, unknown>;
    if (data.assetId) sink++;
    count++;
  }
  const ms = performance.now() - t0;
  db.close();
  if (sink !== count) throw new Error('raw read mismatch');
  return { ms, count };
}

function rawFold(path: string, streamIds: string[]): { ms: number; count: number } {
  const db = openRaw(path);
  const stmt = db.prepare('SELECT position, stream_id, revision, type, data FROM events WHERE stream_id = ? ORDER BY revision');
  const t0 = performance.now();
  let count = 0;
  for (const streamId of streamIds) {
    const rows = stmt.all(streamId) as { revision: number; type: string; data: string }[];
    let state: { version: number; classification?: unknown } = { version: -1 };
    for (const row of rows) {
      const data = JSON.parse(row.data) as Record<string, unknown>;
      state = { version: row.revision, classification: data.classification };
      count++;
    }
    if (state.version !== EVENTS_PER_STREAM - 1) throw new Error('raw fold mismatch');
  }
  const ms = performance.now() - t0;
  db.close();
  return { ms, count };
}

// ------------------------------------------------------------------ SqliteEventStore

/** One Ed25519 key for the run, as the server's SIGNING_KEY_PATH. */
const SIGNER: ChainSigner = signerFor(generateKeyPairSync('ed25519').privateKey);

/**
 * Our adapter as the server configures it (createEventStore and platform.module.ts: WAL
 * checkpoints off the event loop, each commit's chain head signed, the file's sole writer), with
 * event ids made as the application makes them (time-ordered, src/event-store/event-id.ts)
 * unless told otherwise. `signed: false` leaves the signature out (the bench's 'ours' until
 * 2026-12-07 18:40, which also did not declare itself the sole writer): what signing costs.
 */
async function oursTarget(name: string, path: string, writers: number, newId: () => string = () => newEventId(), signed = true): Promise<WriteTarget> {
  const store = new SqliteEventStore({ path, checkpointOffLoop: {}, soleWriter: true, ...(signed ? { signer: SIGNER } : {}) });
  await store.init();
  const target: WriteTarget = {
    name,
    ms: 0,
    async write(chunk) {
      const items = chunk.map((p) => ({ p, e: toNewEvent(p, newId) })); // ids made outside the timing
      const lanes = lanesFor(items, writers);
      const t0 = performance.now();
      await Promise.all(
        lanes.map(async (lane) => {
          for (const { p, e } of lane) {
            await store.append(p.streamId, [e], { expectedVersion: ExpectedVersion.exact(p.revision - 1) });
          }
        }),
      );
      target.ms += performance.now() - t0;
    },
    async close() {
      const stats = store.stats();
      await store.close();
      return { appendsPerTransaction: stats.appends / stats.transactions };
    },
  };
  return target;
}

async function oursRead(path: string): Promise<{ ms: number; count: number }> {
  const store = new SqliteEventStore({ path });
  await store.init();
  const t0 = performance.now();
  let count = 0;
  let after: string | null = null;
  for (;;) {
    const page = await store.readAll({ after, maxCount: READ_PAGE });
    if (page.length === 0) break;
    count += page.length;
    after = page[page.length - 1]!.position;
  }
  const ms = performance.now() - t0;
  await store.close();
  return { ms, count };
}

async function oursFold(path: string, streamIds: string[]): Promise<{ ms: number; count: number }> {
  const store = new SqliteEventStore({ path });
  await store.init();
  const t0 = performance.now();
  let count = 0;
  for (const streamId of streamIds) {
    const events = await store.readStream(streamId);
    let state: { version: number; classification?: unknown } = { version: -1 };
    for (const e of events) {
      state = { version: e.revision, classification: e.data.classification };
      count++;
    }
    if (state.version !== EVENTS_PER_STREAM - 1) throw new Error('fold mismatch');
  }
  const ms = performance.now() - t0;
  await store.close();
  return { ms, count };
}

// ------------------------------------------------------------------ driver

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (count: number, ms: number): number => (count / ms) * 1000;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

export async function runEventStoreBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'risk-ledger-bench-'));
  const started = performance.now();
  const log = (msg: string): void => console.log(`[event-store bench +${((performance.now() - started) / 1000).toFixed(1)}s] ${msg}`);
  try {
    const payloads = makeWorkload();
    const bytes = payloads.reduce((n, p) => n + JSON.stringify(p.data).length, 0) / payloads.length;
    log(`${EVENTS} events, ${STREAMS} streams x ${EVENTS_PER_STREAM}, ~${Math.round(bytes)} bytes of JSON data each; files in ${dir}`);

    const results: Record<string, { ours: number[]; raw: number[] }> = {
      write1: { ours: [], raw: [] },
      write1Unsigned: { ours: [], raw: [] },
      write16: { ours: [], raw: [] },
      read: { ours: [], raw: [] },
      fold: { ours: [], raw: [] },
    };
    const batches: number[] = [];
    const v4Rates: number[] = [];
    let oursFile = '';
    let rawFile = '';
    let file = 0;
    const next = (name: string): string => join(dir, `${name}-${file++}.sqlite`);

    // The disks of these machines change speed from one minute to the next (commit rates vary
    // several-fold). So each repetition opens every write target on a fresh file and feeds them
    // the workload chunk by chunk (CHUNK_STREAMS whole streams at a time), each target writing
    // each chunk in turn, rotating who goes first: a slow spell hits ours and raw alike.
    for (let rep = 0; rep < REPEATS; rep++) {
      oursFile = next('ours-1w');
      rawFile = next('raw-1w');
      const targets = [
        await oursTarget('ours1', oursFile, 1),
        rawTarget('raw1', rawFile, 1),
        await oursTarget('ours1unsigned', next('ours-1w-unsigned'), 1, undefined, false),
        await oursTarget('ours16', next('ours-16w'), WRITERS),
        rawTarget('raw16', next('raw-16w'), WRITERS),
        await oursTarget('ours16v4', next('ours-16w-v4'), WRITERS, randomUUID),
      ];
      const chunks = Math.ceil(STREAMS / CHUNK_STREAMS);
      for (let c = 0; c < chunks; c++) {
        const chunk = payloads.slice(c * CHUNK_STREAMS * EVENTS_PER_STREAM, (c + 1) * CHUNK_STREAMS * EVENTS_PER_STREAM);
        for (let k = 0; k < targets.length; k++) {
          gc();
          await targets[(c + k) % targets.length]!.write(chunk);
        }
      }
      const byName = Object.fromEntries(targets.map((t) => [t.name, t]));
      const closed = await Promise.all(targets.map(async (t) => [t.name, await t.close()] as const));
      const perTxn = Object.fromEntries(closed)['ours16']!.appendsPerTransaction!;
      results.write1!.ours.push(rate(EVENTS, byName['ours1']!.ms));
      results.write1!.raw.push(rate(EVENTS, byName['raw1']!.ms));
      results.write1Unsigned!.ours.push(rate(EVENTS, byName['ours1unsigned']!.ms));
      results.write1Unsigned!.raw.push(rate(EVENTS, byName['raw1']!.ms));
      results.write16!.ours.push(rate(EVENTS, byName['ours16']!.ms));
      results.write16!.raw.push(rate(EVENTS, byName['raw16']!.ms));
      v4Rates.push(rate(EVENTS, byName['ours16v4']!.ms));
      batches.push(perTxn);
      log(
        `rep ${rep + 1}: (a) 1 writer ours ${fmt(results.write1!.ours[rep]!)} (unsigned ${fmt(results.write1Unsigned!.ours[rep]!)}) / raw ${fmt(results.write1!.raw[rep]!)} ev/s; ` +
          `(b) 16 writers ours ${fmt(results.write16!.ours[rep]!)} (${perTxn.toFixed(1)} appends/transaction) / raw ${fmt(results.write16!.raw[rep]!)} ev/s; ` +
          `16 writers, random v4 ids: ${fmt(v4Rates[rep]!)} ev/s`,
      );
    }
    const v4Rate = median(v4Rates);

    const streamIds = Array.from({ length: FOLD_STREAMS }, () => `asset-${Math.floor(Math.random() * STREAMS)}`);
    for (let rep = 0; rep < REPEATS; rep++) {
      gc();
      const o = await oursRead(oursFile);
      if (o.count !== EVENTS) throw new Error(`ours read ${o.count} events`);
      results.read!.ours.push(rate(o.count, o.ms));
      gc();
      const r = rawRead(rawFile);
      if (r.count !== EVENTS) throw new Error(`raw read ${r.count} events`);
      results.read!.raw.push(rate(r.count, r.ms));
      gc();
      const of = await oursFold(oursFile, streamIds);
      results.fold!.ours.push(rate(of.count, of.ms));
      gc();
      const rf = rawFold(rawFile, streamIds);
      results.fold!.raw.push(rate(rf.count, rf.ms));
      log(`(c) read rep ${rep + 1}: ours ${fmt(results.read!.ours[rep]!)}, raw ${fmt(results.read!.raw[rep]!)}; (d) fold: ours ${fmt(results.fold!.ours[rep]!)}, raw ${fmt(results.fold!.raw[rep]!)} ev/s`);
    }

    const m = Object.fromEntries(
      Object.entries(results).map(([k, v]) => [k, { ours: median(v.ours), raw: median(v.raw) }]),
    ) as Record<'write1' | 'write1Unsigned' | 'write16' | 'read' | 'fold', { ours: number; raw: number }>;
    // value: ratio of the medians; paired: median of the ratios within each repetition (the two
    // sides of a pair ran side by side, so this one is the less noisy).
    const paired = (a: number[], b: number[]): number => median(a.map((x, i) => x / b[i]!));
    const ratios = [
      { name: 'ours 1 writer / raw 1 writer', value: m.write1.ours / m.write1.raw, paired: paired(results.write1!.ours, results.write1!.raw), target: 0.85 },
      { name: 'ours 1 writer unsigned / raw', value: m.write1Unsigned.ours / m.write1.raw, paired: paired(results.write1Unsigned!.ours, results.write1!.raw), target: undefined as number | undefined },
      { name: 'ours 16 writers / raw 1 writer', value: m.write16.ours / m.write1.raw, paired: paired(results.write16!.ours, results.write1!.raw), target: 3 },
      { name: 'ours read / raw read', value: m.read.ours / m.read.raw, paired: paired(results.read!.ours, results.read!.raw), target: 0.5 },
      { name: 'ours fold / raw fold', value: m.fold.ours / m.fold.raw, paired: paired(results.fold!.ours, results.fold!.raw), target: undefined as number | undefined },
    ];

    const rows: [string, string, string][] = [
      ['(a) append, 1 writer', fmt(m.write1.ours), fmt(m.write1.raw)],
      ['(a) the same, unsigned', fmt(m.write1Unsigned.ours), fmt(m.write1.raw)],
      ['(b) append, 16 writers', fmt(m.write16.ours), fmt(m.write16.raw)],
      ['(c) read whole log', fmt(m.read.ours), fmt(m.read.raw)],
      ['(d) fold 1,000 streams', fmt(m.fold.ours), fmt(m.fold.raw)],
    ];
    console.log('');
    console.log(`Event store benchmark: median of ${REPEATS} runs, events/s (WAL, synchronous=FULL)`);
    console.log(`${'measurement'.padEnd(26)} ${'SqliteEventStore'.padStart(17)} ${'raw better-sqlite3'.padStart(19)}`);
    console.log('-'.repeat(64));
    for (const [name, ours, raw] of rows) console.log(`${name.padEnd(26)} ${ours.padStart(17)} ${raw.padStart(19)}`);
    console.log('');
    console.log(`${'ratio'.padEnd(34)} ${'value'.padStart(7)} ${'paired'.padStart(7)} ${'target'.padStart(8)}  result`);
    console.log('-'.repeat(64));
    for (const r of ratios) {
      const verdict = r.target === undefined ? '(info)' : r.value >= r.target ? 'PASS' : 'MISS';
      console.log(
        `${r.name.padEnd(34)} ${r.value.toFixed(2).padStart(7)} ${r.paired.toFixed(2).padStart(7)} ${(r.target === undefined ? '-' : `>= ${r.target}`).padStart(8)}  ${verdict}`,
      );
    }
    const one = ratios[0]!;
    console.log('');
    console.log('| measurement | ratio (of the medians) | paired | target |');
    console.log('| --- | ---: | ---: | --- |');
    console.log(`| one writer, store port vs raw better-sqlite3 (FULL) | ${one.value.toFixed(2)} | ${one.paired.toFixed(2)} | ≥ ${one.target}: ${one.value >= one.target! ? 'met' : '**missed**'} |`);
    console.log('');
    console.log(`group commit with 16 writers: median ${median(batches).toFixed(1)} appends per transaction`);
    console.log(
      `(info) 16 writers with random UUIDv4 event ids instead of the application's time-ordered ones: median ${fmt(v4Rate)} ev/s = ${(v4Rate / m.write1.raw).toFixed(2)} x raw 1 writer` +
        ' (random UUIDv4 ids scatter inserts over the event_id index)',
    );
    const prep = measureAppendPreparation();
    console.log(
      `append preparation (validation and JSON snapshot) of registerAsset's two events: ${prep.prepareEventsUs.toFixed(2)} µs, ` +
        `against ${prep.textRoundTripUs.toFixed(2)} µs for the text round trip used before (ratio ${prep.ratio.toFixed(2)}, median of 9 alternating rounds)`,
    );
    console.log(
      JSON.stringify({
        bench: 'event-store',
        events: EVENTS,
        repeats: REPEATS,
        eventsPerSecond: m,
        runs: results,
        ratios: Object.fromEntries(ratios.map((r) => [r.name, Number(r.value.toFixed(3))])),
        pairedRatios: Object.fromEntries(ratios.map((r) => [r.name, Number(r.paired.toFixed(3))])),
        targetsMet: ratios.every((r) => r.target === undefined || r.value >= r.target),
        appendsPerTransaction16: Number(median(batches).toFixed(2)),
        write16UuidV4: v4Rate,
        appendPreparation: prep,
        seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
