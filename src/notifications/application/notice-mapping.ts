import type { RecordedEvent } from '../../event-store/event-store.port.js';
import type { CriteriaVersionState } from '../../risk-criteria/domain/criteria.state.js';
import { reviewSchedule } from '../../risk-register/domain/review.js';
import type { RiskState } from '../../risk-register/domain/risk.state.js';
import type { RiskEvent } from '../../risk-register/domain/risk.events.js';
import type { PlanEvent } from '../../treatment-plan/domain/plan.events.js';
import { planStreams, type PlanState } from '../../treatment-plan/domain/plan.state.js';
import { noticeId, type Notice, type NoticeType } from '../domain/notice.js';

type Source =
  | Extract<RiskEvent, { type: 'ControlBecameOverdue' | 'RiskReviewBecameDue' | 'RiskAwaitingResidualConsent' | 'ResidualConsentInvalidated' }>
  | Extract<PlanEvent, { type: 'PlanSubmitted' }>;

/**
 * Which recorded event gives which notice; every other event gives none. A consent made stale
 * is the risk's ResidualConsentInvalidated (the risk owns the consent; it covers a pending request
 * as well as a given consent), not the plan's ResidualConsentBecameStale that follows it.
 */
export const NOTICE_OF_EVENT: Readonly<Record<Source['type'], NoticeType>> = {
  ControlBecameOverdue: 'ControlOverdue',
  RiskReviewBecameDue: 'ReviewDue',
  RiskAwaitingResidualConsent: 'ConsentRequested',
  ResidualConsentInvalidated: 'ConsentStale',
  PlanSubmitted: 'PlanSubmitted',
};

export function isNoticeSource(type: string): type is Source['type'] {
  return Object.prototype.hasOwnProperty.call(NOTICE_OF_EVENT, type);
}

/**
 * The aggregates as they stood at a log position (titles, owners): folded from their own streams
 * up to the event, so a redelivery of the same notice carries the same data.
 */
export interface NoticeSources {
  riskAt(riskId: string, position: string): Promise<RiskState>;
  /** The risk at one revision of its stream: as it stood before a change appended with the event. */
  riskAtRevision(riskId: string, revision: number): Promise<RiskState>;
  planAt(planId: string, position: string): Promise<PlanState>;
  /** The criteria version in force at a log position (undefined: none was). */
  criteriaAt(position: string): Promise<CriteriaVersionState | undefined>;
}

/** The notice an (upcast) recorded event gives, or null. */
export async function noticeFor(event: RecordedEvent, sources: NoticeSources): Promise<Notice | null> {
  if (!isNoticeSource(event.type)) return null;
  const source = { type: event.type, data: event.data } as Source;
  const type = NOTICE_OF_EVENT[source.type];
  const data = await noticeData(source, event, sources);
  return { type, id: noticeId(type, event.eventId), occurredAt: event.metadata.occurredAt ?? event.recordedAt, data };
}

async function noticeData(source: Source, event: RecordedEvent, sources: NoticeSources): Promise<Record<string, unknown>> {
  const at = event.position;
  switch (source.type) {
    case 'ControlBecameOverdue': {
      const d = source.data;
      const risk = await sources.riskAt(d.riskId, at);
      return { riskId: d.riskId, riskTitle: risk.title, riskOwnerId: risk.ownerId, controlId: d.controlId, title: d.title, ownerId: d.ownerId, dueDate: d.dueDate };
    }
    case 'RiskReviewBecameDue': {
      const d = source.data;
      const [risk, criteria] = await Promise.all([sources.riskAt(d.riskId, at), sources.criteriaAt(at)]);
      // The level that set dueOn (risksDueForReview's level), by the same schedule under the
      // criteria in force then; the analysed level is not it for an accepted risk or revised criteria.
      const level = (criteria ? reviewSchedule(risk, criteria)?.level : undefined) ?? null;
      return { riskId: d.riskId, riskTitle: risk.title, ownerId: d.ownerId, dueOn: d.dueOn, level, status: risk.status };
    }
    case 'RiskAwaitingResidualConsent': {
      const d = source.data;
      const [risk, plan] = await Promise.all([sources.riskAt(d.riskId, at), sources.planAt(d.planId, at)]);
      return {
        riskId: d.riskId, riskTitle: risk.title, ownerId: d.ownerId, planId: d.planId, planTitle: plan.title, planRevision: d.planRevision,
        residualLevel: d.residualLevel ?? null, requestedAt: d.requestedAt,
      };
    }
    case 'ResidualConsentInvalidated': {
      const d = source.data;
      // The consent was the owner's just before the material change (revision atVersion): after an
      // OWNER_REASSIGNED the risk already names the new owner, whose consent nothing made stale.
      const [risk, before, plan] = await Promise.all([sources.riskAt(d.riskId, at), sources.riskAtRevision(d.riskId, d.atVersion - 1), sources.planAt(d.planId, at)]);
      return {
        riskId: d.riskId, riskTitle: risk.title, ownerId: before.ownerId, planId: d.planId, planTitle: plan.title, planRevision: d.planRevision,
        reason: d.reason, invalidatedAt: d.invalidatedAt,
      };
    }
    case 'PlanSubmitted': {
      const d = source.data;
      const planId = planStreams.idOf(event.streamId) ?? '';
      const plan = await sources.planAt(planId, at);
      const items = new Map(plan.items.map((i) => [i.riskId, i]));
      return {
        planId, title: plan.title, period: plan.period, revision: d.revision, submittedBy: d.submittedBy, submittedAt: d.submittedAt,
        risks: d.riskIds.map((riskId) => ({
          riskId, title: items.get(riskId)?.riskTitle ?? null, ownerId: items.get(riskId)?.ownerId ?? null,
          residualLevel: d.residualLevels?.[riskId] ?? items.get(riskId)?.residualLevel ?? null,
        })),
      };
    }
  }
}
