/**
 * Runs every benchmark in turn: `npm run bench` (builds, then `node dist/bench/run-all.js`).
 * Add a bench by adding one line to the list below.
 */
import { runEventStoreBench } from './event-store.bench.js';

const benches: Array<[name: string, run: () => Promise<void>]> = [
  ['event-store', runEventStoreBench],
];

for (const [name, run] of benches) {
  console.log(`\n=== bench: ${name} ===`);
  await run();
}
