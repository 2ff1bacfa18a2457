import type { RecordedEvent } from '../../event-store/event-store.port.js';
import { withNameReservation } from '../../asset-inventory/application/asset-name-reservation.js';
import { riskDecider, type RiskEvent } from '../../risk-register/domain/risk.decider.js';
import { riskStreamId } from '../../risk-register/domain/risk.state.js';
import type { Clock } from '../../shared/application/clock.js';
import type { CommandContext, CommandExecutor } from '../../shared/application/command-executor.js';
import type { DomainActor } from '../../shared/domain/decider.js';
import { planDecider, type PlanCommand, type PlanEvent } from '../domain/plan.decider.js';
import { planStreamId } from '../domain/plan.state.js';

/** The actor of commands the system issues itself; the causing event's actor is one causationId away. */
export const PROCESS_MANAGER_ACTOR: DomainActor = { id: 'system:process-manager', name: 'Risk Ledger process manager', roles: [] };

/** The events these reactions consume, typed by their stream's decider. */
type Consumed<E extends { type: string; data: object }> = RecordedEvent & { type: E['type']; data: E['data'] & Record<string, unknown> };
const is = <E extends { type: string; data: object }, T extends E['type']>(event: RecordedEvent, type: T): event is Consumed<Extract<E, { type: T }>> => event.type === type;

/**
 * How the plan (Art.19-20) and the risks keep each other in step, and how avoiding a risk retires
 * its assets (Art.17). Decisions that must agree at once (membership, freezing) are appended
 * together by the commands themselves (plan-joint-commands.ts); what is left here flows one way
 * per fact, from the stream that decides it to the one that learns it:
 * - plan → risk: an approved plan asks each owner for consent; a stale consent is asked for again;
 * - risk → plan: the owner's answer, a material change (stale), a review finding (reopened);
 * - risk → assets: avoidance retires them (and frees their names).
 * Each turns one recorded event into idempotent commands.
 */
export function planRiskReactions(executor: CommandExecutor, clock: Clock) {
  const ctx = (event: RecordedEvent): CommandContext => ({
    actor: PROCESS_MANAGER_ACTOR,
    at: clock.now().toISOString(),
    correlationId: event.metadata.correlationId,
    causationId: event.eventId,
  });
  const base = (event: RecordedEvent) => ({ actor: PROCESS_MANAGER_ACTOR, at: ctx(event).at });
  const onRisk = (event: RecordedEvent, command: Parameters<typeof riskDecider.decide>[0]) =>
    executor.execute({ streamId: riskStreamId(command.riskId), decider: riskDecider }, command, ctx(event));
  const onPlan = (event: RecordedEvent, command: PlanCommand) => executor.execute({ streamId: planStreamId(command.planId), decider: planDecider }, command, ctx(event));
  const planIdOf = (event: RecordedEvent) => event.streamId.slice('plan-'.length);

  return async (event: RecordedEvent): Promise<void> => {
    // Plan → risk
    if (is<PlanEvent, 'PlanApproved'>(event, 'PlanApproved')) {
      for (const item of event.data.items) {
        await onRisk(event, { type: 'AwaitResidualConsent', ...base(event), riskId: item.riskId, planId: planIdOf(event), planRevision: event.data.revision });
      }
    } else if (is<PlanEvent, 'ResidualConsentBecameStale'>(event, 'ResidualConsentBecameStale')) {
      // A stale consent is asked for again, on the changed risk (Art.20).
      const plan = (await executor.load(event.streamId, planDecider)).state;
      await onRisk(event, { type: 'AwaitResidualConsent', ...base(event), riskId: event.data.riskId, planId: planIdOf(event), planRevision: plan.revision });
    }
    // Risk → plan: the owner's answer (decided on the risk), in the risk's order.
    else if (is<RiskEvent, 'ResidualRiskAcceptedByOwner'>(event, 'ResidualRiskAcceptedByOwner')) {
      const d = event.data;
      await onPlan(event, {
        type: 'LearnResidualConsent', ...base(event), planId: d.planId, riskId: d.riskId, accepted: true, ownerId: d.ownerId, planRevision: d.planRevision,
        riskVersion: event.revision - 1, riskStateHash: d.fingerprint, riskLevel: d.level ?? null, residualLevel: d.residualLevel ?? null,
        criteriaNumber: d.criteriaNumber ?? null, statement: d.statement ?? '', reason: '',
      });
    } else if (is<RiskEvent, 'ResidualRiskDeclinedByOwner'>(event, 'ResidualRiskDeclinedByOwner')) {
      const d = event.data;
      await onPlan(event, {
        type: 'LearnResidualConsent', ...base(event), planId: d.planId, riskId: d.riskId, accepted: false, ownerId: d.ownerId, planRevision: d.planRevision,
        riskVersion: event.revision - 1, riskStateHash: '', riskLevel: null, residualLevel: null, criteriaNumber: null, statement: '', reason: d.reason,
      });
    } else if (is<RiskEvent, 'ResidualConsentInvalidated'>(event, 'ResidualConsentInvalidated')) {
      // A material change after consent makes the consent stale (Art.20).
      await onPlan(event, { type: 'MarkConsentStale', ...base(event), planId: event.data.planId, riskId: event.data.riskId, riskVersion: event.revision, reason: event.data.reason });
    } else if (is<RiskEvent, 'RiskReassessmentOpened'>(event, 'RiskReassessmentOpened')) {
      // A review finding (Art.12(3)) reopens the risk's item in its plan.
      const d = event.data;
      if (d.planId) await onPlan(event, { type: 'MarkItemReopened', ...base(event), planId: d.planId, riskId: d.riskId, riskVersion: event.revision, reviewId: d.reviewId });
    }
    // Risk → assets: avoiding a risk retires the assets concerned (Art.17) and frees their names.
    else if (is<RiskEvent, 'RiskClosed'>(event, 'RiskClosed')) {
      for (const assetId of event.data.assetIds) {
        await executor.executeJoint(
          withNameReservation({ type: 'RetireAsset', ...base(event), assetId, reason: `Risk ${event.data.riskId} avoided (Art.17)`, avoidedRiskId: event.data.riskId }),
          ctx(event),
        );
      }
    }
  };
}
