/**
 * Runs every benchmark in turn: `npm run bench` (builds, then `node dist/bench/run-all.js`).
 * Add a bench by adding one line to the list below.
 */
import { runEventStoreBench } from './event-store.bench.js';
import { runAsOfBench } from './as-of.bench.js';
import { runPostgresBench } from './postgres.bench.js';
import { runLongStreamBench } from './long-stream.bench.js';
import { runRebuildBench } from './rebuild.bench.js';
import { runE2eBench } from './e2e.bench.js';
import { runDocumentsBench } from './documents.bench.js';
import { runPlanConsentBench } from './plan-consent.bench.js';

const benches: Array<[name: string, run: () => Promise<void>]> = [
  ['event-store', runEventStoreBench],
  ['as-of', runAsOfBench],
  ['postgres', runPostgresBench],
  ['long-stream', runLongStreamBench],
  ['rebuild', runRebuildBench],
  ['documents', runDocumentsBench],
  // Not part of a plain `npm run bench`: it starts two servers and loads them for about 2 minutes.
  ['e2e', runE2eBench],
  // Nor this one: it builds plans of 200 and 1,999 items through GraphQL (about 4 minutes).
  ['plan-consent', runPlanConsentBench],
];

/** Run only when named (`npm run bench -- e2e`). */
const onRequest = new Set(['e2e', 'plan-consent']);
const only = process.argv[2];
for (const [name, run] of benches) {
  if (only ? only !== name : onRequest.has(name)) continue;
  console.log(`\n=== bench: ${name} ===`);
  await run();
}
