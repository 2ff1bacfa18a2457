import type { RecordedEvent } from '../../event-store/event-store.port.js';
import { assetDecider, assetStreamId } from '../../asset-inventory/domain/asset.decider.js';
import { riskDecider } from '../../risk-register/domain/risk.decider.js';
import { riskStreamId } from '../../risk-register/domain/risk.state.js';
import type { Clock } from '../../shared/application/clock.js';
import type { CommandContext, CommandExecutor } from '../../shared/application/command-executor.js';
import type { DomainActor } from '../../shared/domain/decider.js';
import { planDecider } from '../domain/plan.decider.js';
import { planStreamId } from '../domain/plan.state.js';

/** The actor of commands the system issues itself; the causing event's actor is one causationId away. */
export const PROCESS_MANAGER_ACTOR: DomainActor = { id: 'system:process-manager', name: 'Risk Ledger process manager', roles: [] };

/**
 * How the plan (Art.19-20) and the risks keep each other in step, and how avoiding a risk
 * retires its assets (Art.17). Each rule turns one recorded event into idempotent commands.
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
  const d = (event: RecordedEvent) => event.data as Record<string, any>;
  const planId = (event: RecordedEvent) => event.streamId.slice('plan-'.length);

  return async (event: RecordedEvent): Promise<void> => {
    switch (event.type) {
      // Plan → risk
      case 'PlanRiskAdded':
        await onRisk(event, { type: 'IncludeInPlan', ...base(event), riskId: d(event).riskId, planId: planId(event) });
        return;
      case 'PlanApproved':
        for (const item of d(event).items as { riskId: string }[]) {
          await onRisk(event, { type: 'AwaitResidualConsent', ...base(event), riskId: item.riskId, planId: planId(event), planRevision: d(event).revision });
        }
        return;
      case 'ResidualRiskAccepted':
        await onRisk(event, { type: 'RecordResidualConsent', ...base(event), riskId: d(event).riskId, planId: planId(event), accepted: true, statement: d(event).statement, consentedBy: d(event).ownerId });
        return;
      case 'ResidualRiskDeclined':
        await onRisk(event, { type: 'RecordResidualConsent', ...base(event), riskId: d(event).riskId, planId: planId(event), accepted: false, reason: d(event).reason, consentedBy: d(event).ownerId });
        return;
      // A stale consent is asked for again, on the changed risk (Art.20).
      case 'ResidualConsentBecameStale': {
        const plan = (await executor.load(event.streamId, planDecider)).state;
        await onRisk(event, { type: 'AwaitResidualConsent', ...base(event), riskId: d(event).riskId, planId: planId(event), planRevision: plan.revision });
        return;
      }
      // Risk → plan: a material change after consent makes the consent stale (Art.20).
      case 'ResidualConsentInvalidated':
        await executor.execute(
          { streamId: planStreamId(d(event).planId), decider: planDecider },
          { type: 'MarkConsentStale', ...base(event), planId: d(event).planId, riskId: d(event).riskId, riskVersion: event.revision, reason: d(event).reason },
          ctx(event),
        );
        return;
      // Risk → assets: avoiding a risk retires the assets concerned (Art.17).
      case 'RiskClosed':
        for (const assetId of d(event).assetIds as string[]) {
          await executor.execute(
            { streamId: assetStreamId(assetId), decider: assetDecider },
            { type: 'RetireAsset', ...base(event), assetId, reason: `Risk ${d(event).riskId} avoided (Art.17)`, avoidedRiskId: d(event).riskId },
            ctx(event),
          );
        }
        return;
    }
  };
}
