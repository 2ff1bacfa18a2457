/**
 * Register exports (`npm run bench -- documents`): the XLSX workbook, a CSV section and the
 * controls record (controls.md, from the risks' states) of a synthetic register of 1,000 and
 * 4,000 risks (5 analyses and 2 controls each), rendered in this process while a 1 ms timer measures the event loop: wall time, and the longest the loop was
 * held (what every other request waits). Median of RUNS renders after one warm-up. The rows come
 * from the real registerExport over an in-memory DocumentData, so the row building is measured too.
 */
import { controlsDocumentFrame } from '../src/documents/application/controls-document-view.js';
import { controlsMarkdown } from '../src/documents/application/documents.service.js';
import { registerExport } from '../src/documents/application/register-export.js';
import { controlsDocument } from '../src/risk-register/application/controls-document.js';
import type { DocumentData } from '../src/documents/application/document-source.js';
import { messagesFor } from '../src/documents/messages/index.js';
import { registerCsv } from '../src/documents/render/csv.js';
import { registerXlsx } from '../src/documents/render/xlsx.js';
import type { RiskRow } from '../src/risk-register/projections/risk-register.projection.js';

const SIZES = [1_000, 4_000];
const RUNS = Number(process.env.BENCH_DOCUMENTS_RUNS ?? 5);

function register(n: number): DocumentData {
  const at = '2026-01-01T00:00:00.000Z';
  const rows = Array.from({ length: n }, (_, i) => ({
    needsReevaluation: i % 3 === 0,
    sortKey: String(i),
    priority: null,
    assetsRetired: false,
    state: {
      id: `risk-${String(i).padStart(6, '0')}-0000-4000-8000-000000000000`, title: `ホットウォレットの鍵の盗難 ${i}`, status: 'ACCEPTED', ownerId: 'owner-1', assetIds: ['asset-1'],
      level: 'HIGH', likelihood: 3, impact: 3, criteriaNumber: 2, evaluation: { decision: 'TREAT', criteriaNumber: 2 },
      treatment: { options: ['REDUCE'], rationale: 'コールドウォレットへの移管 '.repeat(4), targetLikelihood: 1, targetImpact: 1, targetLevel: 'LOW', criteriaNumber: 2, decidedBy: 'committee', decidedAt: at },
      planId: 'plan-1', consent: { status: 'ACCEPTED' }, identifiedAt: at, updatedAt: at,
      controls: [
        { controlId: `c-${i}-1`, title: 'マルチシグ出金', description: '3鍵中2鍵の承認 '.repeat(3), ownerId: 'ops-lead', dueDate: '2027-03-31', reason: '単一の鍵で資金が動かない' },
        { controlId: `c-${i}-2`, title: '出金上限', description: '1時間あたりの上限', ownerId: 'ops-lead', dueDate: '2027-06-30', reason: '一件の損失を限る' },
      ],
    },
    analyses: () => Array.from({ length: 5 }, (_, k) => ({ analysisId: `a-${i}-${k}`, cycle: k + 1, method: 'INFORMAL', likelihood: 3, impact: 3, level: 'HIGH', criteriaNumber: 2, analysedBy: 'owner-1', analysedAt: at })),
    // The register's reviews section reads them since 2026-12-06 (the bench, built with a cast, went on without them and failed).
    reviews: () => [],
  })) as unknown as RiskRow[];
  return {
    head: { position: '0000000000000100000', recordedAt: at } as DocumentData['head'],
    criteria: undefined,
    eachRiskPage: async (each) => {
      await each(rows);
    },
    riskStates: async () => rows.map((r) => r.state),
    riskState: () => null,
    plan: () => null,
    assetLabel: (id) => ({ id, name: 'Hot wallet', status: 'ACTIVE' }),
    threatNames: () => ({}),
    assets: async () => [],
    criteriaVersions: () => [],
    contextVersions: async () => [],
    db: undefined as unknown as DocumentData['db'],
    closedCycles: () => new Map(),
    superseded: () => new Map(),
    evidenceOf: () => [],
  };
}

/** Runs `work` while a 1 ms timer notes the longest gap between its ticks. */
async function measured(work: () => Promise<unknown>): Promise<{ ms: number; heldMs: number }> {
  let last = performance.now();
  let held = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    held = Math.max(held, now - last);
    last = now;
  }, 1);
  await new Promise((resolve) => setTimeout(resolve, 5));
  last = performance.now();
  held = 0;
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  held = Math.max(held, performance.now() - last);
  clearInterval(timer);
  return { ms, heldMs: held };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runDocumentsBench(): Promise<void> {
  const m = messagesFor('ja');
  const table: string[] = ['| export | risks (rows) | wall ms | longest hold of the event loop, ms |', '| --- | ---: | ---: | ---: |'];
  for (const n of SIZES) {
    const data = register(n);
    for (const [name, render] of [
      ['register.xlsx', async () => registerXlsx(await registerExport(data, 'ja', m, 'xlsx'))],
      ['register.csv?section=analyses', async () => registerCsv((await registerExport(data, 'ja', m, 'csv', 'analyses')).tables[0]!, 'ja')],
      ['controls.md', async () => {
        const { entries } = await controlsDocument(await data.riskStates(), '2026-01-01T00:00:00.000Z');
        return controlsMarkdown(controlsDocumentFrame(entries, 'ja', m, { head: data.head, riskId: null }), entries);
      }],
    ] as const) {
      await render(); // warm-up
      const runs: { ms: number; heldMs: number }[] = [];
      for (let r = 0; r < RUNS; r++) runs.push(await measured(render));
      const rows = name === 'register.xlsx' ? n * 9 : name === 'controls.md' ? n * 2 : n * 5;
      table.push(`| ${name} | ${n.toLocaleString('en')} (${rows.toLocaleString('en')}) | ${median(runs.map((x) => x.ms)).toFixed(0)} | ${median(runs.map((x) => x.heldMs)).toFixed(0)} (max ${Math.max(...runs.map((x) => x.heldMs)).toFixed(0)}) |`);
    }
  }
  console.log(`\nRegister exports rendered in this process, median of ${RUNS} after a warm-up\n`);
  console.log(table.join('\n'));
}
