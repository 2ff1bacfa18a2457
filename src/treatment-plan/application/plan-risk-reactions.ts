import { isCurrentAcceptance } from '../../risk-register/domain/plan-and-consent.js';
import { riskDecider } from '../../risk-register/domain/risk.decider.js';
import { riskStreamId, type RiskEvent } from '../../risk-register/domain/risk.events.js';
import { reactionContext, reactTo, type Consumed, type EventReaction, type ReactionDeps } from '../../shared/application/reactions.js';
import type { EventStore, RecordedEvent } from '../../event-store/event-store.port.js';
import type { CriteriaEvent } from '../../risk-criteria/domain/criteria.events.js';
import type { PlanCommand } from '../domain/plan.commands.js';
import { mayComeIntoForceWith, planDecider } from '../domain/plan.decider.js';
import type { PlanEvent } from '../domain/plan.events.js';
import { planStreamId, planStreams } from '../domain/plan.state.js';
import { unsettledItems } from './plan-joint-commands.js';
import { planCommandLearntFrom } from './plan-learns-from-risk.js';

/** The acceptance being learnt is no longer the risk's (see the reaction to ResidualRiskAcceptedByOwner). */
class AcceptanceTakenBack extends Error {}

/**
 * How the plan (Art.19-20) and the risks keep each other in step. Decisions that must agree at
 * once (membership, freezing) are appended together by the commands themselves
 * (plan-joint-commands.ts); what is left here flows one way per fact, from the stream that
 * decides it to the one that learns it:
 * - plan → risk: an approved plan asks each owner for consent;
 * - risk → plan: the owner's answer, a material change, a review finding, an AVOID and a new owner (appended with the
 *   risk's decision since: plan-follow-ups.ts; these reactions cover older logs and appends made
 *   outside the command pipeline, and find the rest learnt);
 * - risk → risk: a consent made stale by a material change is asked for again.
 * Each turns one recorded event into idempotent commands.
 */
export function planRiskReactions({ executor, aggregates, store, clock }: ReactionDeps): EventReaction[] {
  const base = (event: RecordedEvent) => {
    const { actor, at } = reactionContext(event, clock);
    return { actor, at };
  };
  const onRisk = (event: RecordedEvent, command: Parameters<typeof riskDecider.decide>[0]) =>
    executor.execute({ streamId: riskStreamId(command.riskId), decider: riskDecider }, command, reactionContext(event, clock));
  const onPlan = (event: RecordedEvent, command: PlanCommand) =>
    executor.execute({ streamId: planStreamId(command.planId), decider: planDecider }, command, reactionContext(event, clock));
  const planIdOf = (event: RecordedEvent) => planStreams.idOf(event.streamId)!;
  // The plan command a risk event leads to, as the risk's own append builds it (one builder).
  // (A consumed risk event carries a RiskEvent's type and data; the union is not re-derived from it.)
  const learnt = (event: Consumed<RiskEvent>) => planCommandLearntFrom(event as unknown as RiskEvent, event.revision, base(event));
  // A stale consent is asked for again, on the changed risk, for the same plan revision (the
  // request keeps the level the board approved).
  const askAgain = (event: RecordedEvent, riskId: string, planId: string, planRevision: number) =>
    onRisk(event, { type: 'AwaitResidualConsent', ...base(event), riskId, planId, planRevision });
  const onPlanEvent = reactTo<PlanEvent>();
  const onRiskEvent = reactTo<RiskEvent>();
  const onCriteriaEvent = reactTo<CriteriaEvent>();

  return [
    // Criteria → plan: criteria approved since a plan's submission may have held it out of force
    // over its accepted residual levels (unsettledItems); new criteria may no longer do so. Each
    // approved plan whose every item is ACCEPTED is looked at again under them (probe 7 F1: eased
    // again, such a plan stayed APPROVED for good, every consent valid). The plans are found by
    // their approvals in the log (criteria approvals are rare; the read models are not the
    // reactions' to read).
    onCriteriaEvent('RiskCriteriaApproved', async (event) => {
      for (const planId of await approvedPlanIds(store)) {
        if (!mayComeIntoForceWith(await aggregates.state(planStreamId(planId), planDecider), '')) continue;
        await executor.executeJoint(async (reader) => {
          const plan = await reader.state(planStreamId(planId), planDecider);
          const unsettledRiskIds = await unsettledItems(plan, reader, '');
          return { primary: { streamId: planStreamId(planId), decider: planDecider, command: { type: 'ReconsiderForce', ...base(event), planId, unsettledRiskIds } } };
        }, reactionContext(event, clock));
      }
    }),
    // Plan → risk: an approved plan asks each owner, telling the risk the residual level the
    // board approved for it (the item's, fixed at submission).
    onPlanEvent('PlanApproved', async (event) => {
      const plan = await aggregates.state(event.streamId, planDecider);
      const residualLevels = new Map(plan.items.map((i) => [i.riskId, i.residualLevel]));
      for (const item of event.data.items) {
        const approvedResidualLevel = residualLevels.get(item.riskId) ?? null;
        await onRisk(event, { type: 'AwaitResidualConsent', ...base(event), riskId: item.riskId, planId: planIdOf(event), planRevision: event.data.revision, approvedResidualLevel });
      }
    }),
    // Logs written before the risk's own invalidation asked again (below) rely on this one; on
    // newer logs it finds the owner already asked and appends nothing.
    onPlanEvent('ResidualConsentBecameStale', async (event) => {
      const plan = await aggregates.state(event.streamId, planDecider);
      await askAgain(event, event.data.riskId, planIdOf(event), plan.revision);
    }),
    // Risk → plan: the owner's answer (decided on the risk), in the risk's order. In the
    // acceptance's own append since planLearnsRiskDecision; here for logs from before.
    onRiskEvent('ResidualRiskAcceptedByOwner', async (event) => {
      const d = event.data;
      const command = learnt(event)!;
      // An acceptance the risk has already taken back (a material change made it stale, or the
      // owner withdrew it) is not learnt: the plan would otherwise come into force, in the log,
      // after the change that voids the consent it stands on. The plan learns what followed. The
      // risk is read in the attempt, so its version is checked at the append: a decline recorded
      // between this read and the plan's append makes it conflict and look again.
      try {
        await executor.executeJoint(async (reader) => {
          if (!isCurrentAcceptance(await reader.state(riskStreamId(d.riskId), riskDecider), d)) throw new AcceptanceTakenBack();
          // Nor does it come into force over another item whose risk changed after this acceptance
          // and before this reaction (its own reaction, later in the log, has not run yet), nor over
          // this acceptance if criteria approved since place it above their acceptance level.
          const unsettledRiskIds = await unsettledItems(await reader.state(planStreamId(d.planId), planDecider), reader, d.riskId, true);
          return { primary: { streamId: planStreamId(d.planId), decider: planDecider, command: { ...command, unsettledRiskIds } } };
        }, reactionContext(event, clock));
      } catch (error) {
        if (!(error instanceof AcceptanceTakenBack)) throw error;
      }
    }),
    // In the decline's own append since planLearnsRiskDecision; here for logs from before.
    onRiskEvent('ResidualRiskDeclinedByOwner', async (event) => {
      await onPlan(event, learnt(event)!);
    }),
    // A material change after consent was asked for or given makes it stale (Art.20): the plan
    // learns it in the change's own append (planLearnsRiskDecision; here for logs from before, it
    // finds it learnt), and the owner is asked again, whatever the item said, so that no risk is
    // left STALE with no question to answer.
    onRiskEvent('ResidualConsentInvalidated', async (event) => {
      const d = event.data;
      await onPlan(event, learnt(event)!);
      await askAgain(event, d.riskId, d.planId, d.planRevision);
    }),
    // An AVOID (Art.17) marks the risk's item in its plan: its owner can no longer answer (in the
    // AVOID's own append since planLearnsRiskDecision; here for appends made outside it).
    onRiskEvent('RiskClosed', async (event) => {
      const command = learnt(event);
      if (command) await onPlan(event, command);
    }),
    // A new owner (Art.14(1)) is named on the risk's item (in the reassignment's own append since
    // RiskOwnerReassigned named the plan; here for appends made outside it).
    onRiskEvent('RiskOwnerReassigned', async (event) => {
      const command = learnt(event);
      if (command) await onPlan(event, command);
    }),
    // A review finding (Art.12(3)) reopens the risk's item in its plan (in the review's own
    // append since planLearnsRiskDecision; here for logs from before).
    onRiskEvent('RiskReassessmentOpened', async (event) => {
      const command = learnt(event);
      if (command) await onPlan(event, command);
    }),
  ];
}

/** The ids of the plans the board ever approved, from their PlanApproved events (the log read by type, a page at a time). */
async function approvedPlanIds(store: EventStore): Promise<string[]> {
  const ids = new Set<string>();
  for (let after: string | null = null; ; ) {
    const page = await store.readAll({ after, maxCount: 5_000, types: ['PlanApproved'] });
    if (page.length === 0) return [...ids];
    for (const e of page) {
      const id = planStreams.idOf(e.streamId);
      if (id !== undefined) ids.add(id);
    }
    after = page[page.length - 1]!.position;
  }
}
