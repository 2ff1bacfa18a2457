/**
 * What a page of the read models runs inside its transaction is on every command's path (the
 * command waits for it). No statement there may build an ephemeral table or a sorter at each run:
 * the checkpoints' one UPDATE of every projection (`name IN (?, ?, ...)`) built an ephemeral table
 * of its bound list every page, 85–90 µs at the median under the e2e bench's load, against 1.5–3 µs
 * for each single-row UPDATE that replaced it (README, "The read models' checkpoint statement").
 * The log is the benches' register (assets with a threat and a vulnerability, criteria, risks
 * identified and analysed), applied in pages of one event, as live pages mostly are.
 */
import { describe, expect, it } from '@jest/globals';
import { writeRegisterLog } from '../../../bench/support/register-log.js';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { FEATURES } from '../../../src/features.js';
import { projectionsOf, upcastersOf } from '../../../src/platform/feature-contribution.js';
import { ProjectionRunner } from '../../../src/projections/projection-runner.js';
import { openReadModelDatabase, type ReadDb } from '../../../src/projections/read-model-database.js';
import { JsonLogger } from '../../../src/shared/logging/json-logger.js';

/** The SQL of every statement `db` runs while a transaction is open, as prepared. */
function statementsInTransactions(db: ReadDb): Set<string> {
  const seen = new Set<string>();
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const statement = prepare(sql);
    for (const method of ['run', 'get', 'all', 'iterate'] as const) {
      const original = (statement[method] as (...args: unknown[]) => unknown).bind(statement);
      (statement as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        if (db.inTransaction) seen.add(sql);
        return original(...args);
      };
    }
    return statement;
  }) as typeof db.prepare;
  return seen;
}

/** The opcodes that build a temporary b-tree each time the statement runs. */
function temporaryBTrees(db: ReadDb, sql: string): string[] {
  const parameters = (sql.match(/\?/g) ?? []).length;
  const plan = db.prepare(`EXPLAIN ${sql}`).all(...new Array<null>(parameters).fill(null)) as { opcode: string }[];
  return plan.map((op) => op.opcode).filter((opcode) => opcode === 'OpenEphemeral' || opcode === 'SorterOpen');
}

describe("a read-model page's statements", () => {
  it('build no ephemeral table and no sorter (pages of one event over a register-shaped log)', async () => {
    const store = new InMemoryEventStore();
    const written = await writeRegisterLog(store, { assets: 6, analysesPerRisk: 3, lanes: 3 });
    const head = await store.headPosition();
    expect(head).not.toBeNull();
    const db = openReadModelDatabase(':memory:');
    const seen = statementsInTransactions(db);
    const runner = new ProjectionRunner(store, db, projectionsOf(FEATURES)(), upcastersOf(FEATURES).upcast, new JsonLogger('test', 'error'), { pageSize: 1 });
    runner.start();
    await runner.waitFor(head!);
    await runner.stop();
    expect(runner.failed).toBeUndefined();
    expect(written).toBeGreaterThan(40);

    const dml = [...seen].filter((sql) => /^\s*(INSERT|UPDATE|DELETE|REPLACE|SELECT|WITH)\b/i.test(sql));
    // The checkpoints, an asset's row and a risk's analysis at least: the wrapper saw the pages.
    expect(dml.some((sql) => sql.includes('projection_checkpoints'))).toBe(true);
    expect(dml.some((sql) => /INSERT\b.*\bassets\b/.test(sql))).toBe(true);
    expect(dml.some((sql) => sql.includes('risk_analyses'))).toBe(true);
    const offenders = dml.map((sql) => ({ sql, opcodes: temporaryBTrees(db, sql) })).filter((s) => s.opcodes.length > 0);
    expect(offenders).toEqual([]);
    db.close();
  });
});
