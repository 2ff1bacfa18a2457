/**
 * The plans read model stores a plan's items as rows and its revisions, preparations and removed items apart,
 * writing each part only when it differs from what the rows hold: an owner's answer to a plan of
 * 2,000 items wrote the whole 1.3 MB state back (probe p12). Whatever the path (an answer, items
 * added, an item removed, back to draft), the read model must give the aggregate's state exactly.
 */
import { describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import type { RecordedEvent } from '../../../src/event-store/event-store.port.js';
import { asDomainEvent } from '../../../src/shared/application/aggregate-reader.js';
import type { PlanCommand } from '../../../src/treatment-plan/domain/plan.commands.js';
import type { PlanEvent } from '../../../src/treatment-plan/domain/plan.events.js';
import { planDecider } from '../../../src/treatment-plan/domain/plan.decider.js';
import { planStreamId, type PlanState, type RiskSnapshot } from '../../../src/treatment-plan/domain/plan.state.js';
import { PlanProjection, PlanQueries } from '../../../src/treatment-plan/projections/plan.projection.js';
import { accept, add, awaiting, decline, draft, PLAN, r1, resolve, submit } from './plan.fixtures.js';

const risk = (i: number): RiskSnapshot => ({ ...r1, id: `r-${i}`, title: `Risk ${i}`, stateHash: `sha256:r${i}` });

describe('PlanProjection: items as rows, parts written when they differ', () => {
  it('gives the aggregate state after every page, and an answer writes one item row', () => {
    const db = new Database(':memory:');
    const projection = new PlanProjection();
    projection.setup(db);
    const plans = new PlanQueries(db);
    const changes = db.prepare('SELECT total_changes()').pluck();
    let state: PlanState = planDecider.initialState;
    let position = 0;
    // One command's events as one page of the runner: applied, then flushed.
    const run = (command: PlanCommand): number => {
      const before = changes.get() as number;
      db.transaction(() => {
        for (const event of planDecider.decide(command, state)) {
          position++;
          const recorded = { eventId: `e-${position}`, streamId: planStreamId(PLAN), revision: state.version + 1, position: String(position).padStart(20, '0'), schemaVersion: 1, recordedAt: command.at, prevHash: '', hash: '', metadata: {}, ...event } as unknown as RecordedEvent;
          // Folded as the aggregate reader folds the log (the event's id and position included).
          state = planDecider.evolve(state, asDomainEvent<PlanEvent>(recorded));
          projection.apply(recorded, db);
        }
        projection.flush();
      })();
      expect(plans.byId(PLAN)).toEqual(state);
      return (changes.get() as number) - before;
    };

    run(draft());
    for (let i = 0; i < 40; i++) run(add(risk(i)));
    run({ type: 'RemoveRiskFromPlan', planId: PLAN, riskId: 'r-10', reason: 'not ready', actor: draft().actor, at: draft().at });
    // The removed item is kept in a column of its own, not in the row's state written at every event.
    const removedRow = db.prepare('SELECT doc, removed_items FROM plans').get() as { doc: string; removed_items: string };
    expect(JSON.parse(removedRow.removed_items)).toEqual([expect.objectContaining({ riskId: 'r-10', removalReason: 'not ready' })]);
    expect(removedRow.doc).not.toContain('removalReason');
    run(add(risk(10))); // back, at the end
    run(submit({ risks: state.items.map((item) => ({ ...risk(Number(item.riskId.slice(2))), targetLevel: 'LOW' })) }));
    run(resolve({ decision: 'REJECTED', notes: 'Not yet' })); // back to draft as revision 2: every item rewritten
    run(submit({ risks: state.items.map((item) => ({ ...risk(Number(item.riskId.slice(2))), targetLevel: 'LOW' })) }));
    run(resolve({ resolutionNumber: 'BR-2026-015' }));
    // An owner's answer: the plan's row and that one item's row, nothing else.
    expect(run(accept(awaiting(risk(5)), { planRevision: state.revision }))).toBe(2);
    expect(run(decline(awaiting(risk(7)), { planRevision: state.revision }))).toBe(2);
    expect(plans.page(null, 10).rows.map((r) => r.state)).toEqual([state]);

    // Nothing kept in memory (a page rolled back, a restart): the plan is read back from its rows.
    projection.discard();
    expect(run(accept(awaiting(risk(8)), { planRevision: state.revision }))).toBe(2);
    db.close();
  });
});
