import { describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '../../../src/event-store/event-store.port.js';
import { NOTICE_OF_EVENT, noticeFor, type NoticeSources } from '../../../src/notifications/application/notice-mapping.js';
import { NOTICE_TYPES, noticeId } from '../../../src/notifications/domain/notice.js';
import type { RiskState } from '../../../src/risk-register/domain/risk.state.js';
import type { PlanState } from '../../../src/treatment-plan/domain/plan.state.js';
import type { CriteriaVersionState } from '../../../src/risk-criteria/domain/criteria.state.js';
import { risksDueForReview } from '../../../src/risk-register/application/review-schedule.js';
import type { RiskEvent } from '../../../src/risk-register/domain/risk.events.js';
import { RISK, acceptedEvents, continueHistory, reassignOwner, stateOf } from '../risk-register/builders.js';
import { criteriaMatrixChanged, criteriaV1, otherOwner, owner } from '../risk-register/fixtures.js';

let seq = 0;
function recorded(streamId: string, type: string, data: Record<string, unknown>): RecordedEvent {
  seq++;
  return {
    eventId: `event-${seq}`, type, schemaVersion: 1, data, streamId, revision: seq, position: String(seq).padStart(20, '0'),
    recordedAt: '2026-05-02T00:00:01.000Z', prevHash: '', hash: '',
    metadata: { actor: { id: 'system:clock', name: 'clock', roles: [] }, occurredAt: `2026-05-01T00:00:0${seq % 10}.000Z`, correlationId: 'c', causationId: 'c' },
  };
}

/** Analysed HIGH, accepted at the target LOW. */
function risk(riskId: string): RiskState {
  return { ...stateOf(acceptedEvents()), id: riskId, title: 'Theft of hot-wallet keys', ownerId: 'owner-1' };
}

/** The risk, the plan and the criteria as the sources would fold them; records which points were asked for. */
function sources(): NoticeSources & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    riskAt: async (riskId, position) => {
      asked.push(`risk ${riskId} @${position}`);
      return risk(riskId);
    },
    riskAtRevision: async (riskId, revision) => {
      asked.push(`risk ${riskId} #${revision}`);
      return risk(riskId);
    },
    criteriaAt: async (position) => {
      asked.push(`criteria @${position}`);
      return criteriaV1;
    },
    planAt: async (planId, position) => {
      asked.push(`plan ${planId} @${position}`);
      return {
        id: planId, title: 'FY2026 plan', period: 'FY2026',
        items: [{ riskId: 'r-1', riskTitle: 'Theft of hot-wallet keys', ownerId: 'owner-1', residualLevel: 'LOW' }, { riskId: 'r-2', riskTitle: 'Outage', ownerId: 'owner-2' }],
      } as unknown as PlanState;
    },
  };
}

describe('notices from the log', () => {
  it('maps each of the five notice types from its event, at the event position, with a stable id and the event time', async () => {
    const s = sources();
    const overdue = recorded('risk-r-1', 'ControlBecameOverdue', { riskId: 'r-1', controlId: 'c-1', title: 'Cold storage', ownerId: 'ops-lead', dueDate: '2026-04-30' });
    expect(await noticeFor(overdue, s)).toEqual({
      type: 'ControlOverdue', id: noticeId('ControlOverdue', overdue.eventId), occurredAt: overdue.metadata.occurredAt,
      data: { riskId: 'r-1', riskTitle: 'Theft of hot-wallet keys', riskOwnerId: 'owner-1', controlId: 'c-1', title: 'Cold storage', ownerId: 'ops-lead', dueDate: '2026-04-30' },
    });
    const due = recorded('risk-r-1', 'RiskReviewBecameDue', { riskId: 'r-1', dueOn: '2026-05-01', ownerId: 'owner-1' });
    expect(await noticeFor(due, s)).toEqual({
      type: 'ReviewDue', id: noticeId('ReviewDue', due.eventId), occurredAt: due.metadata.occurredAt,
      data: { riskId: 'r-1', riskTitle: 'Theft of hot-wallet keys', ownerId: 'owner-1', dueOn: '2026-05-01', level: 'LOW', status: 'ACCEPTED' },
    });
    const asked = recorded('risk-r-1', 'RiskAwaitingResidualConsent', { riskId: 'r-1', planId: 'p-1', planRevision: 2, ownerId: 'owner-1', fingerprint: 'f'.repeat(64), atVersion: 7, residualLevel: 'LOW', requestedAt: '2026-05-01T01:00:00.000Z' });
    expect(await noticeFor(asked, s)).toEqual({
      type: 'ConsentRequested', id: noticeId('ConsentRequested', asked.eventId), occurredAt: asked.metadata.occurredAt,
      data: { riskId: 'r-1', riskTitle: 'Theft of hot-wallet keys', ownerId: 'owner-1', planId: 'p-1', planTitle: 'FY2026 plan', planRevision: 2, residualLevel: 'LOW', requestedAt: '2026-05-01T01:00:00.000Z' },
    });
    const stale = recorded('risk-r-1', 'ResidualConsentInvalidated', { riskId: 'r-1', planId: 'p-1', planRevision: 2, reason: 'CONTROLS_REVISED', atVersion: 9, invalidatedAt: '2026-05-01T02:00:00.000Z' });
    expect(await noticeFor(stale, s)).toEqual({
      type: 'ConsentStale', id: noticeId('ConsentStale', stale.eventId), occurredAt: stale.metadata.occurredAt,
      data: { riskId: 'r-1', riskTitle: 'Theft of hot-wallet keys', ownerId: 'owner-1', planId: 'p-1', planTitle: 'FY2026 plan', planRevision: 2, reason: 'CONTROLS_REVISED', invalidatedAt: '2026-05-01T02:00:00.000Z' },
    });
    const submitted = recorded('plan-p-1', 'PlanSubmitted', { revision: 1, riskIds: ['r-1', 'r-2'], residualLevels: { 'r-1': 'LOW', 'r-2': null }, submittedBy: 'committee-1', submittedAt: '2026-04-20T00:00:00.000Z' });
    expect(await noticeFor(submitted, s)).toEqual({
      type: 'PlanSubmitted', id: noticeId('PlanSubmitted', submitted.eventId), occurredAt: submitted.metadata.occurredAt,
      data: {
        planId: 'p-1', title: 'FY2026 plan', period: 'FY2026', revision: 1, submittedBy: 'committee-1', submittedAt: '2026-04-20T00:00:00.000Z',
        risks: [{ riskId: 'r-1', title: 'Theft of hot-wallet keys', ownerId: 'owner-1', residualLevel: 'LOW' }, { riskId: 'r-2', title: 'Outage', ownerId: 'owner-2', residualLevel: null }],
      },
    });
    // Titles and owners come from the aggregates as they stood at the event, never later (the owner of
    // a stale consent: just before the change at atVersion 9).
    expect(s.asked).toEqual([
      `risk r-1 @${overdue.position}`, `risk r-1 @${due.position}`, `criteria @${due.position}`, `risk r-1 @${asked.position}`, `plan p-1 @${asked.position}`,
      `risk r-1 @${stale.position}`, `risk r-1 #8`, `plan p-1 @${stale.position}`, `plan p-1 @${submitted.position}`,
    ]);
    expect(new Set(Object.values(NOTICE_OF_EVENT))).toEqual(new Set(NOTICE_TYPES));
  });

  it('gives no notice for the other events (the plan-side echo of a stale consent included)', async () => {
    const s = sources();
    for (const [stream, type] of [['plan-p-1', 'ResidualConsentBecameStale'], ['plan-p-1', 'PlanApproved'], ['risk-r-1', 'RiskIdentified'], ['asset-a-1', 'AssetRegistered']] as const) {
      expect(await noticeFor(recorded(stream, type, { riskId: 'r-1' }), s)).toBeNull();
    }
    expect(s.asked).toEqual([]);
  });

  it('gives the same notice for the same event (a redelivery is identical)', async () => {
    const event = recorded('risk-r-1', 'RiskAwaitingResidualConsent', { riskId: 'r-1', planId: 'p-1', planRevision: 1, ownerId: 'owner-1', fingerprint: 'f', atVersion: 3, requestedAt: '2026-05-01T01:00:00.000Z' });
    const first = await noticeFor(event, sources());
    expect(await noticeFor(event, sources())).toEqual(first);
    expect(first!.data.residualLevel).toBeNull();
  });
});

/** The criteria revised: the same scales, but Rare x Moderate (1, 2), the accepted target, is now MEDIUM. */
const revised = criteriaMatrixChanged;

/** A risk's stream as the store records it (revisions from 0), and the sources folding it up to a point. */
function riskLog(events: RiskEvent[]): { log: RecordedEvent[]; sources: (criteria?: CriteriaVersionState) => NoticeSources } {
  const log = events.map((e, revision) => ({ ...recorded(`risk-${RISK}`, e.type, e.data as Record<string, unknown>), revision }));
  const fold = (keep: (r: RecordedEvent) => boolean) => stateOf(log.filter(keep).map((r) => ({ type: r.type, data: r.data }) as RiskEvent));
  return {
    log,
    sources: (criteria) => ({
      riskAt: async (_riskId, position) => fold((r) => r.position <= position),
      riskAtRevision: async (_riskId, revision) => fold((r) => r.revision <= revision),
      planAt: async (planId) => ({ id: planId, title: 'FY2025 plan', items: [] }) as unknown as PlanState,
      criteriaAt: async () => criteria,
    }),
  };
}

describe('notices say what the register says', () => {
  it('ReviewDue carries the level that set its due date, as risksDueForReview lists it, not the analysed level (probe p14 M3)', async () => {
    for (const [criteria, level] of [[criteriaV1, 'LOW'], [revised, 'MEDIUM']] as const) {
      // Analysed HIGH, accepted at the target LOW (1, 2); the deadline watch records the review due.
      const at = '2030-01-01T00:00:00.000Z';
      const events = continueHistory(acceptedEvents(), { type: 'RecordPassedDeadlines', riskId: RISK, actor: owner, at, criteria });
      const { log, sources } = riskLog(events);
      const due = log.at(-1)!;
      expect(due.type).toBe('RiskReviewBecameDue');
      const [listed] = risksDueForReview([stateOf(acceptedEvents())], criteria, new Date(at));
      expect(stateOf(events).level).toBe('HIGH');
      expect(listed).toMatchObject({ level, dueOn: due.data.dueOn });
      const notice = await noticeFor(due, sources(criteria));
      expect(notice!.data).toMatchObject({ dueOn: listed!.dueOn, level: listed!.level });
    }
  });

  it('ConsentStale names the owner whose consent went stale, not the owner it was reassigned to (probe p14 L6)', async () => {
    const events = continueHistory(acceptedEvents(), reassignOwner(otherOwner.id));
    const { log, sources } = riskLog(events);
    const stale = log.at(-1)!;
    expect(stale).toMatchObject({ type: 'ResidualConsentInvalidated', data: { reason: 'OWNER_REASSIGNED' } });
    expect(stateOf(events).ownerId).toBe(otherOwner.id);
    const notice = await noticeFor(stale, sources(criteriaV1));
    expect(notice!.data).toMatchObject({ riskId: RISK, ownerId: owner.id, reason: 'OWNER_REASSIGNED' });
  });
});
