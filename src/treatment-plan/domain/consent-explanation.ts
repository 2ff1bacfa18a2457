/**
 * Art. 20: "explain the plan and the risk to be accepted fully to each risk owner, and obtain their
 * agreement". The agreement is the owner's own (acceptResidualRisk, decided on the risk); the
 * explanation is the committee's, recorded here on the plan: who explained, on which day, what was
 * shown, to whom, and the state of the risk when it was recorded. Recorded once the board has
 * approved the revision (the owners are told the plan the board decided), for an item whose risk
 * is still open and not reopened by a review.
 */
import { BadInputError, FieldErrors } from '../../shared/domain/errors.js';
import { dayInJapan, isRealDate, requiredText, requireRole, violation } from '../../shared/domain/guards.js';
import type { ExplainResidualRisk } from './plan.commands.js';
import type { PlanEvent } from './plan.events.js';
import { PLAN_LIMITS, PLAN_RULES, requireExists, requireItem } from './plan.rules.js';
import type { PlanState } from './plan.state.js';

export function explainResidualRisk(c: ExplainResidualRisk, s: PlanState): PlanEvent[] {
  requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], "record the explanation of a plan's residual risk to its owner");
  const errors = new FieldErrors();
  const riskId = requiredText(errors, 'riskId', c.riskId, 200);
  const summary = requiredText(errors, 'summary', c.summary, PLAN_LIMITS.explanation);
  const explainedOn = typeof c.explainedOn === 'string' ? c.explainedOn.trim() : '';
  if (explainedOn === '') errors.add('explainedOn', 'is required');
  else if (!isRealDate(explainedOn)) errors.add('explainedOn', 'must be a real date (YYYY-MM-DD)');
  else if (explainedOn > dayInJapan(c.at)) errors.add('explainedOn', `must not be after ${dayInJapan(c.at)}`);
  errors.throwIfAny();
  requireExists(s, c.planId);
  const item = requireItem(s, riskId);

  // Explained to whom, about which state: the risk as read in the attempt (the item's record of it otherwise).
  const ownerId = c.risk?.ownerId || item.ownerId;
  const riskVersion = c.risk?.version ?? item.riskVersion;
  const riskStateHash = c.risk?.stateHash || item.riskStateHash;
  const ofRevision = (item.explanations ?? []).filter((e) => e.planRevision === s.revision);
  // The same explanation again: by the same person, on the same day, in the same words, to the same
  // owner, of the same state. The same words to a new owner, or of a state changed since, are
  // another explanation (probe of 2026-12-06, H1: one to the risk's new owner was taken for the one
  // given to the former owner, answered as recorded, and not recorded).
  const same = (e: (typeof ofRevision)[number]) =>
    e.explainedBy === c.actor.id && e.explainedOn === explainedOn && e.summary === summary && e.ownerId === ownerId && e.riskStateHash === riskStateHash;
  if (ofRevision.some(same)) return [];

  if (s.status !== 'APPROVED' && s.status !== 'IN_FORCE') {
    throw violation(PLAN_RULES.PLAN_NOT_APPROVED, `Plan ${s.id} is ${s.status}: its risks' owners are told the plan the board approved, while it is APPROVED or IN_FORCE`);
  }
  if (item.riskClosedAt !== undefined || c.risk?.status === 'CLOSED') {
    throw violation(PLAN_RULES.ITEM_RISK_CLOSED, `Risk ${riskId} was closed: its owner has no residual risk left to be told of`);
  }
  if (item.consent === 'REOPENED') {
    throw violation(PLAN_RULES.ITEM_REOPENED, `A review reopened risk ${riskId} for a new assessment (Art.12(3)): plan ${s.id} no longer asks its owner to accept anything; the plan that takes the risk again is explained`);
  }
  const approval = s.resolutions.find((r) => r.revision === s.revision && r.decision === 'APPROVED');
  if (approval && explainedOn < approval.meetingDate) {
    throw new BadInputError({ explainedOn: `must not be before ${approval.meetingDate}, the day of the board meeting that approved revision ${s.revision}` });
  }
  // Counted per owner: the explanation owed to a risk's new owner was refused once the former
  // owner had 50 (auditor probe of 2026-12-06, F3); all owners together stay bounded.
  const toOwner = ofRevision.filter((e) => e.ownerId === ownerId).length;
  if (toOwner >= PLAN_LIMITS.explanationsPerItem) {
    throw violation(PLAN_RULES.TOO_MANY_EXPLANATIONS, `Risk ${riskId} already has ${toOwner} explanations to ${ownerId} recorded for revision ${s.revision} of plan ${s.id}, the most one owner's item holds`);
  }
  if (ofRevision.length >= PLAN_LIMITS.explanationsPerItemAllOwners) {
    throw violation(PLAN_RULES.TOO_MANY_EXPLANATIONS, `Risk ${riskId} already has ${ofRevision.length} explanations recorded for revision ${s.revision} of plan ${s.id}, its owners together, the most one item holds`);
  }
  return [
    {
      type: 'ResidualRiskExplained',
      data: {
        riskId,
        planRevision: s.revision,
        ownerId,
        explainedBy: c.actor.id,
        explainedOn,
        summary,
        riskVersion,
        riskStateHash,
        residualLevel: item.residualLevel ?? null,
        recordedAt: c.at,
      },
    },
  ];
}
