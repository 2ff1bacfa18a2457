import { withNameReservation } from '../../asset-inventory/application/asset-name-reservation.js';
import { reactionContext, reactTo, type EventReaction, type ReactionDeps } from '../../shared/application/reactions.js';
import type { RiskEvent } from '../domain/risk.events.js';

/** Avoiding a risk (Art.17) retires the assets concerned, and frees their names for reuse. */
export function avoidanceReactions({ executor, clock }: ReactionDeps): EventReaction[] {
  return [
    reactTo<RiskEvent>()('RiskClosed', async (event) => {
      const ctx = reactionContext(event, clock);
      for (const assetId of event.data.assetIds) {
        await executor.executeJoint(
          withNameReservation({ type: 'RetireAsset', actor: ctx.actor, at: ctx.at, assetId, reason: `Risk ${event.data.riskId} avoided (Art.17)`, avoidedRiskId: event.data.riskId }),
          ctx,
        );
      }
    }),
  ];
}
