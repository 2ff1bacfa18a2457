/**
 * Runs every benchmark in turn: `npm run bench` (builds, then `node dist/bench/run-all.js`).
 * Add a bench by adding one line to the list below.
 */
import { runEventStoreBench } from './event-store.bench.js';
import { runAsOfBench } from './as-of.bench.js';
import { runPostgresBench } from './postgres.bench.js';
import { runLongStreamBench } from './long-stream.bench.js';

const benches: Array<[name: string, run: () => Promise<void>]> = [
  ['event-store', runEventStoreBench],
  ['as-of', runAsOfBench],
  ['postgres', runPostgresBench],
  ['long-stream', runLongStreamBench],
];

const only = process.argv[2];
for (const [name, run] of benches) {
  if (only && only !== name) continue;
  console.log(`\n=== bench: ${name} ===`);
  await run();
}
