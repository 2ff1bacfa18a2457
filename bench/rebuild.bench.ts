/**
 * Projection rebuild and replay speed (issue 13): every read model rebuilt from a register-shaped
 * log of ~100,000 events (bench/support/register-log.ts), through
 *   (a) ProjectionRunner.rebuild onto a read-model file, as `npm run cli -- rebuild` does, and
 *       (a') the same with the server's catch-up settings (the ADMIN mutation's rebuild);
 *   (b) AsOfReplayer replaying the whole log into a fresh replay database (a file of its own since 2026-12-07; a cold asOf at the head).
 * and, as the baseline of each run, (c) the same log read raw with better-sqlite3 in pages of 1,000
 * (every column, JSON.parse of each event's data, nothing applied): the floor any rebuild in this
 * process sits on, since every projection needs every event's data.
 * The log's shape: 16 clients each carrying one risk at a time through its analyses (default), or
 * BENCH_LANES=1000, every risk analysed in turn (a register reviewed cycle after cycle, whose
 * events scatter over the read models' tables).
 * BENCH_REBUILD_PAGE and BENCH_REBUILD_COMMIT set the runner's page and commit sizes (CatchUpOptions).
 * The server's settings run twice in each round: as the server runs them (a page applied in slices
 * of CATCH_UP.sliceMs, the event loop turning between) and with pages applied whole, the baseline;
 * for both, how long the event loop was held (perf_hooks' loop delay: max and p99), which is how
 * long a request or /health/live waits behind a live rebuild.
 * Median of RUNS each, events/s; memory sampled at every commit and every 20 ms (RSS and V8 heap): the baseline
 * after a GC before the run, the peak during it, and the heap in the first and last tenth of the
 * run (flat memory: the last tenth is no higher than the first).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../src/event-store/sqlite/sqlite-event-store.js';
import { FEATURES } from '../src/features.js';
import { projectionsOf, upcastersOf } from '../src/platform/feature-contribution.js';
import { AsOfReplayer } from '../src/projections/as-of-replay.js';
import { OFFLINE_CATCH_UP, ProjectionRunner, type CatchUpOptions } from '../src/projections/projection-runner.js';
import { openReadModelDatabase } from '../src/projections/read-model-database.js';
import { JsonLogger } from '../src/shared/logging/json-logger.js';
import { writeRegisterLog } from './support/register-log.js';
import { EVENT_COLUMNS } from '../src/event-store/internal/event-rows.js';

const ASSETS = Number(process.env.BENCH_ASSETS ?? 1_000);
const ANALYSES_PER_RISK = Number(process.env.BENCH_ANALYSES ?? 96);
const RUNS = Number(process.env.BENCH_REBUILD_RUNS ?? 3);
const LANES = Number(process.env.BENCH_LANES ?? 16);
/** The runner's catch-up settings: the CLI's, unless overridden. */
const CATCH_UP: CatchUpOptions = {
  ...OFFLINE_CATCH_UP,
  ...(process.env.BENCH_REBUILD_PAGE ? { pageSize: Number(process.env.BENCH_REBUILD_PAGE) } : {}),
  ...(process.env.BENCH_REBUILD_COMMIT ? { commitEvery: Number(process.env.BENCH_REBUILD_COMMIT) } : {}),
};
const TARGET = 150_000;

const MB = 1024 * 1024;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const cpuMs = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

interface MemoryTrace {
  baseRss: number;
  baseHeap: number;
  peakRss: number;
  peakHeap: number;
  /** Highest heap among the first and among the last tenth of the samples. */
  firstTenthHeap: number;
  lastTenthHeap: number;
}

/** Samples memory on every page (rebuild) or every 20 ms (replay, which reports no progress). */
class MemorySampler {
  private readonly baseRss: number;
  private readonly baseHeap: number;
  private readonly samples: { rss: number; heap: number }[] = [];
  constructor() {
    gc();
    const m = process.memoryUsage();
    this.baseRss = m.rss;
    this.baseHeap = m.heapUsed;
  }
  sample = (): void => {
    const m = process.memoryUsage();
    this.samples.push({ rss: m.rss, heap: m.heapUsed });
  };
  done(): MemoryTrace {
    const s = this.samples;
    const tenth = Math.max(1, Math.floor(s.length / 10));
    const maxHeap = (xs: { heap: number }[]) => Math.max(0, ...xs.map((x) => x.heap));
    return {
      baseRss: this.baseRss,
      baseHeap: this.baseHeap,
      peakRss: Math.max(this.baseRss, ...s.map((x) => x.rss)),
      peakHeap: Math.max(this.baseHeap, maxHeap(s)),
      firstTenthHeap: maxHeap(s.slice(0, tenth)),
      lastTenthHeap: maxHeap(s.slice(-tenth)),
    };
  }
}

interface Run {
  ms: number;
  /** CPU time of this process (user + system) during the run: what the code costs, whatever the machine's load. */
  cpuMs: number;
  memory: MemoryTrace;
  /** The event loop's delay during the run (ms): the longest and the 99th percentile. */
  loop?: { max: number; p99: number };
}

export async function runRebuildBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'risk-ledger-rebuild-'));
  // BENCH_REBUILD_LOG=<file>: keep the log there and reuse it on the next run (for profiling).
  const kept = process.env.BENCH_REBUILD_LOG;
  const reuse = kept !== undefined && existsSync(kept);
  const store = new SqliteEventStore({ path: kept ?? join(dir, 'events.sqlite') });
  await store.init();
  try {
    const t0 = performance.now();
    const total = reuse ? Number(await store.headPosition()) : await writeRegisterLog(store, { assets: ASSETS, analysesPerRisk: ANALYSES_PER_RISK, lanes: LANES });
    if (reuse) console.log(`log reused: ${fmt(total)} events from ${kept}`);
    else console.log(`log written: ${fmt(total)} events (${ASSETS} assets with a threat and a vulnerability, ${ASSETS} risks analysed ${ANALYSES_PER_RISK} times, ${LANES} interleaved lanes) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const upcasters = upcastersOf(FEATURES);
    const projections = projectionsOf(FEATURES);
    const logger = new JsonLogger('bench', 'error');

    const rebuilds: Run[] = [];
    const serverRebuilds: Run[] = [];
    const wholePageRebuilds: Run[] = [];
    const replays: Run[] = [];
    const raws: Run[] = [];
    const rawRead = (): Run => {
      const db = new Database(store.path, { readonly: true });
      const page = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT 1000`).raw(true);
      const start = performance.now();
      const cpu = process.cpuUsage();
      let after = 0;
      let n = 0;
      for (;;) {
        const rows = page.all(after) as unknown[][];
        if (rows.length === 0) break;
        for (const row of rows) JSON.parse(row[6] as string);
        n += rows.length;
        after = rows[rows.length - 1]![0] as number;
      }
      const run = { ms: performance.now() - start, cpuMs: cpuMs(cpu), memory: new MemorySampler().done() };
      db.close();
      if (n !== total) throw new Error(`raw read ${n} of ${total} events`);
      return run;
    };
    /** One timed rebuild onto a new read-model file, memory sampled at every commit and every 20 ms. */
    const timedRebuild = async (file: string, options?: CatchUpOptions): Promise<Run> => {
      const db = openReadModelDatabase(join(dir, file));
      const runner = new ProjectionRunner(store, db, projections(), upcasters.upcast, logger, options);
      const sampler = new MemorySampler();
      const sampling = setInterval(sampler.sample, 20);
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const start = performance.now();
      const cpu = process.cpuUsage();
      const result = await runner.rebuild(sampler.sample);
      delay.disable();
      const loop = { max: delay.max / 1e6, p99: delay.percentile(99) / 1e6 };
      const run = { ms: performance.now() - start, cpuMs: cpuMs(cpu), memory: sampler.done(), loop };
      clearInterval(sampling);
      if (result.events !== total) throw new Error(`rebuild applied ${result.events} of ${total} events`);
      await runner.stop();
      db.close();
      return run;
    };
    for (let r = 0; r < RUNS; r++) {
      // (a) the CLI's rebuild, onto a file; (a') the same with the server's catch-up settings
      // (the ADMIN mutation's rebuild, a start behind the log).
      rebuilds.push(await timedRebuild(`read-models-${r}.sqlite`, CATCH_UP));
      // The two server settings in alternating order, so that neither always runs on the other's garbage.
      const sliced = async () => serverRebuilds.push(await timedRebuild(`read-models-server-${r}.sqlite`));
      const whole = async () => wholePageRebuilds.push(await timedRebuild(`read-models-whole-${r}.sqlite`, { sliceMs: Infinity }));
      for (const rebuild of r % 2 === 0 ? [sliced, whole] : [whole, sliced]) await rebuild();

      // (b) a cold asOf at the head: the whole log into a fresh replay database (replay-files.ts).
      const replayer = new AsOfReplayer(store, upcasters, projections, 1);
      const sampler = new MemorySampler();
      const sampling = setInterval(sampler.sample, 20);
      const start = performance.now();
      const cpu = process.cpuUsage();
      const risks = await replayer.read({ asOf: new Date(Date.now() + 60_000) }, (rdb) => rdb.prepare('SELECT COUNT(*) FROM risks').pluck().get() as number);
      const ms = performance.now() - start;
      clearInterval(sampling);
      replays.push({ ms, cpuMs: cpuMs(cpu), memory: sampler.done() });
      replayer.close();
      if (risks !== ASSETS) throw new Error(`replay holds ${risks} risks, expected ${ASSETS}`);
      raws.push(rawRead());
      const held = (x: Run) => `max ${x.loop!.max.toFixed(1)} ms, p99 ${x.loop!.p99.toFixed(1)}`;
      console.log(`run ${r + 1}: server settings ${fmt((total / serverRebuilds[r]!.ms) * 1000)} events/s, loop held ${held(serverRebuilds[r]!)}; pages whole ${fmt((total / wholePageRebuilds[r]!.ms) * 1000)} events/s, loop held ${held(wholePageRebuilds[r]!)}`);
      console.log(`run ${r + 1}: raw read ${fmt((total / raws[r]!.ms) * 1000)} events/s; rebuild ${fmt((total / rebuilds[r]!.ms) * 1000)} events/s (${(rebuilds[r]!.ms / 1000).toFixed(2)} s, CPU ${(rebuilds[r]!.cpuMs / 1000).toFixed(2)} s); replay ${fmt((total / ms) * 1000)} events/s (${(ms / 1000).toFixed(2)} s, CPU ${(replays[r]!.cpuMs / 1000).toFixed(2)} s)`);
    }

    // Memory flatness without the garbage between collections: one more, untimed rebuild that
    // collects every 10,000 events and samples what is still alive.
    const live: number[] = [];
    {
      const db = openReadModelDatabase(join(dir, 'read-models-live-heap.sqlite'));
      const runner = new ProjectionRunner(store, db, projections(), upcasters.upcast, logger, CATCH_UP);
      let sampled = 0;
      await runner.rebuild((applied) => {
        if (applied - sampled < 10_000) return;
        sampled = applied;
        gc();
        live.push(process.memoryUsage().heapUsed);
      });
      await runner.stop();
      db.close();
    }

    const rate = (runs: Run[]) => (total / median(runs.map((x) => x.ms))) * 1000;
    const cpuRate = (runs: Run[]) => (total / median(runs.map((x) => x.cpuMs))) * 1000;
    const mem = (runs: Run[]) => runs.find((x) => x.ms === median(runs.map((y) => y.ms)))!.memory;
    console.log('');
    console.log(`Rebuild and replay of ${fmt(total)} events, median of ${RUNS} (memory of the median run)`);
    console.log('');
    console.log('| measurement | events/s (wall) | events per CPU-second | target | peak RSS (base) | peak heap (base) | heap, first tenth → last tenth |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    console.log(`| baseline: the log read raw (better-sqlite3, pages of 1,000, JSON.parse of data; nothing applied) | ${fmt(rate(raws))} | ${fmt(cpuRate(raws))} | — | — | — | — |`);
    for (const [name, runs] of [
      ['projection rebuild (runner, read-model file)', rebuilds],
      ["the same with the server's catch-up settings (pages of 1,000, slices of 20 ms)", serverRebuilds],
      ['the same, pages applied whole (the baseline of the slices)', wholePageRebuilds],
      ['asOf replay from zero (replay file)', replays],
    ] as const) {
      const m = mem(runs);
      const r = rate(runs);
      console.log(
        `| ${name} | ${fmt(r)} | ${fmt(cpuRate(runs))} | ≥ ${fmt(TARGET)} ${r >= TARGET ? 'met' : '**missed**'} | ${(m.peakRss / MB).toFixed(0)} MB (${(m.baseRss / MB).toFixed(0)}) | ${(m.peakHeap / MB).toFixed(0)} MB (${(m.baseHeap / MB).toFixed(0)}) | ${(m.firstTenthHeap / MB).toFixed(0)} → ${(m.lastTenthHeap / MB).toFixed(0)} MB |`,
      );
    }
    console.log('');
    console.log(`Live heap during an untimed rebuild, after a GC every 10,000 events: ${live.map((b) => (b / MB).toFixed(0)).join(' ')} MB (first ${(live[0]! / MB).toFixed(0)}, last ${(live[live.length - 1]! / MB).toFixed(0)}, max ${(Math.max(...live) / MB).toFixed(0)}).`);
    const loopOf = (runs: Run[]) => `max ${median(runs.map((x) => x.loop!.max)).toFixed(1)} ms, p99 ${median(runs.map((x) => x.loop!.p99)).toFixed(1)} ms`;
    console.log(`Event loop held during the server's rebuild (medians of the runs): in slices ${loopOf(serverRebuilds)}; pages whole ${loopOf(wholePageRebuilds)}; rate ${(rate(serverRebuilds) / rate(wholePageRebuilds)).toFixed(2)} of the pages-whole rate.`);
    console.log(`Against the raw read in the same runs: rebuild ${(rate(rebuilds) / rate(raws)).toFixed(2)}, replay ${(rate(replays) / rate(raws)).toFixed(2)} (per CPU-second: ${(cpuRate(rebuilds) / cpuRate(raws)).toFixed(2)}, ${(cpuRate(replays) / cpuRate(raws)).toFixed(2)}).`);
    console.log(
      JSON.stringify({
        bench: 'rebuild',
        rawReadEventsPerSecond: Math.round(rate(raws)),
        liveHeapMB: live.map((b) => Math.round(b / MB)),
        events: total,
        runs: RUNS,
        rebuildEventsPerSecond: Math.round(rate(rebuilds)),
        serverRebuildEventsPerSecond: Math.round(rate(serverRebuilds)),
        wholePageRebuildEventsPerSecond: Math.round(rate(wholePageRebuilds)),
        serverRebuildLoopMs: serverRebuilds.map((x) => x.loop),
        wholePageRebuildLoopMs: wholePageRebuilds.map((x) => x.loop),
        replayEventsPerSecond: Math.round(rate(replays)),
        rebuildEventsPerCpuSecond: Math.round(cpuRate(rebuilds)),
        replayEventsPerCpuSecond: Math.round(cpuRate(replays)),
        rebuildMs: rebuilds.map((x) => Math.round(x.ms)),
        replayMs: replays.map((x) => Math.round(x.ms)),
        rebuildMemoryMB: Object.fromEntries(Object.entries(mem(rebuilds)).map(([k, v]) => [k, Math.round(v / MB)])),
        replayMemoryMB: Object.fromEntries(Object.entries(mem(replays)).map(([k, v]) => [k, Math.round(v / MB)])),
      }),
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
