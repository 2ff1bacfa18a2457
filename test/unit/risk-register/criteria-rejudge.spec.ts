/**
 * Criteria approved: every open risk is judged again against them (needsReevaluation). The risk
 * register does it at the flush that ends the event's page, and a replay's flush (flushUntil) in
 * steps between which the event loop turns: in one task it parsed every open risk's document and
 * held the loop ~0.3 s on 4,564 risks for each replay that crossed an approval (soak probe of
 * 2026-12-06, M1). Judged in steps or at once, the rows are the same.
 */
import { describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import type { RecordedEvent } from '../../../src/event-store/event-store.port.js';
import { RiskRegisterProjection } from '../../../src/risk-register/projections/risk-register.projection.js';

/** 130 open risks just analysed (needsReevaluation: true whatever the criteria) whose rows say otherwise, and 20 closed ones. */
function register(): Database.Database {
  const db = new Database(':memory:');
  new RiskRegisterProjection().setup(db);
  const insert = db.prepare('INSERT INTO risks (id, seq, status, owner_id, prioritised, sort_key, needs_reevaluation, assets_retired, version, doc) VALUES (?, ?, ?, ?, 0, ?, 0, 0, 1, ?)');
  for (let i = 0; i < 150; i++) {
    const id = `r-${String(i).padStart(3, '0')}`;
    const status = i < 130 ? 'ANALYSED' : 'CLOSED';
    insert.run(id, i + 1, status, 'owner', `1|${id}`, JSON.stringify({ id, exists: true, status, version: 1 }));
  }
  return db;
}

const approved = { type: 'RiskCriteriaApproved', streamId: 'criteria-c1', data: { criteriaId: 'c1' }, position: '1', revision: 1, recordedAt: '2026-01-01T00:00:00.000Z' } as unknown as RecordedEvent;
const flagged = (db: Database.Database) => db.prepare('SELECT COUNT(*) FROM risks WHERE needs_reevaluation = 1').pluck().get();

describe('open risks judged again when criteria are approved', () => {
  it('in steps of a replay flush, each ending once its time is up, to the rows one flush writes', () => {
    const inSteps = register();
    const replayed = new RiskRegisterProjection({ replay: true });
    replayed.apply(approved, inSteps);
    expect(flagged(inSteps)).toBe(0);
    // A deadline already past: one step (50 risks) per call.
    const done: boolean[] = [];
    for (let i = 0; i < 5 && !done.includes(true); i++) done.push(replayed.flushUntil(inSteps, 0));
    expect(done).toEqual([false, false, true]);
    expect(flagged(inSteps)).toBe(130);

    const atOnce = register();
    const live = new RiskRegisterProjection();
    live.apply(approved, atOnce);
    live.flush(atOnce);
    const rows = (db: Database.Database) => db.prepare('SELECT id, status, needs_reevaluation FROM risks ORDER BY id').all();
    expect(rows(inSteps)).toEqual(rows(atOnce));
    expect(flagged(atOnce)).toBe(130);
    // Nothing pending after: the next flush judges nothing again.
    atOnce.exec('UPDATE risks SET needs_reevaluation = 0');
    expect(live.flushUntil(atOnce, 0)).toBe(true);
    expect(flagged(atOnce)).toBe(0);
  });

  it('forgets a judging still pending when its page is rolled back (discard)', () => {
    const db = register();
    const projection = new RiskRegisterProjection({ replay: true });
    projection.apply(approved, db);
    projection.discard();
    projection.flush(db);
    expect(flagged(db)).toBe(0);
  });
});
