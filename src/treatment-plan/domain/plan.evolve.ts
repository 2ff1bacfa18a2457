/**
 * evolve of the InformationSecurityManagementPlan aggregate: folds one event (plan.events.ts)
 * into the state (plan.state.ts). Never refuses: an event is a fact.
 */
import type { PlanEvent } from './plan.events.js';
import type { BoardResolution, PlanItem, PlanRevisionRecord, PlanState } from './plan.state.js';

export function evolve(state: PlanState, event: PlanEvent): PlanState {
  return { ...apply(state, event), version: state.version + 1 };
}

function apply(s: PlanState, e: PlanEvent): PlanState {
  switch (e.type) {
    case 'PlanDrafted':
      return {
        ...s,
        exists: true,
        id: e.data.planId,
        revision: 1,
        status: 'DRAFT',
        title: e.data.title,
        period: e.data.period,
        draftedBy: e.data.draftedBy,
        draftedAt: e.data.draftedAt,
        items: [],
        resolutions: [],
        revisions: [{ revision: 1, items: [], outcome: 'OPEN' }],
        preparedBy: [{ actorId: e.data.draftedBy, did: 'DRAFTED', revision: 1 }],
      };
    case 'PlanRiskAdded': {
      const d = e.data;
      const item: PlanItem = {
        riskId: d.riskId,
        ownerId: d.ownerId,
        riskTitle: d.riskTitle,
        riskVersion: d.riskVersion,
        riskStateHash: d.riskStateHash,
        addedBy: d.addedBy,
        addedAt: d.addedAt,
        consent: 'PENDING',
      };
      return {
        ...s,
        items: [...s.items, item],
        preparedBy: [...s.preparedBy, { actorId: d.addedBy, did: 'ADDED_RISK', revision: s.revision, riskId: d.riskId }],
        revisions: updateCurrentRevision(s, (r) => ({
          ...r,
          items: [...r.items, { riskId: d.riskId, riskVersion: d.riskVersion, riskTitle: d.riskTitle, ownerId: d.ownerId }],
        })),
      };
    }
    case 'PlanSubmitted':
      return {
        ...s,
        items: s.items.map((i) => ({ ...i, residualLevel: e.data.residualLevels?.[i.riskId] ?? null })),
        status: 'SUBMITTED',
        submittedAt: e.data.submittedAt,
        submittedBy: e.data.submittedBy,
        ...(e.data.criteria ? { submittedUnderCriteria: e.data.criteria } : {}),
        preparedBy: [...s.preparedBy, { actorId: e.data.submittedBy, did: 'SUBMITTED', revision: s.revision }],
        revisions: updateCurrentRevision(s, (r) => ({
          ...r,
          items: s.items.map((i) => ({ riskId: i.riskId, riskVersion: i.riskVersion, riskTitle: i.riskTitle, ownerId: i.ownerId })),
          outcome: 'SUBMITTED',
          submittedAt: e.data.submittedAt,
          submittedBy: e.data.submittedBy,
        })),
      };
    case 'BoardResolutionRecorded': {
      // The event's id and log position are known once it is recorded: readers that fold recorded events pass them.
      const { eventId, position } = e as { eventId?: string; position?: string };
      const resolution: BoardResolution = { ...e.data, ...(eventId !== undefined ? { id: eventId } : {}), ...(position !== undefined ? { position } : {}) };
      return {
        ...s,
        resolution,
        resolutions: [...s.resolutions, resolution],
        revisions: s.revisions.map((r) =>
          r.revision === e.data.revision
            ? { ...r, outcome: e.data.decision, resolutionNumber: e.data.resolutionNumber, decidedAt: e.data.recordedAt }
            : r,
        ),
      };
    }
    case 'PlanApproved':
      return decidedAt(
        {
          ...s,
          status: 'APPROVED',
          approvedAt: e.data.approvedAt,
          items: s.items.map((i) => ({ ...i, consent: 'PENDING' })),
        },
        e.data.resolutionNumber,
        (e as { position?: string }).position,
      );
    case 'PlanReturnedToDraft':
      return decidedAt(backToDraft(s, e.data.revision, s.revisions), e.data.resolutionNumber, (e as { position?: string }).position);
    case 'ResidualRiskAccepted': {
      const d = e.data;
      return updateItem(s, d.riskId, (i) => {
        const { declineReason: _r, declinedAt: _d, declinedBy: _b, declinedRiskVersion: _dv, declinedRiskStateHash: _dh, staleReason: _s, staleSinceRiskVersion: _v, ...rest } = i;
        return {
          ...rest,
          ownerId: d.ownerId,
          consent: 'ACCEPTED',
          consentRecord: {
            ownerId: d.ownerId,
            statement: d.statement,
            riskVersion: d.riskVersion,
            riskStateHash: d.riskStateHash,
            riskLevel: d.riskLevel,
            residualLevel: d.residualLevel ?? null,
            planVersion: d.planVersion,
            planRevision: d.planRevision,
            criteriaNumber: d.criteriaNumber,
            acceptedAt: d.acceptedAt,
          },
        };
      });
    }
    case 'ResidualRiskDeclined': {
      const d = e.data;
      return updateItem(s, d.riskId, (i) => {
        const { staleReason: _s, staleSinceRiskVersion: _v, ...rest } = i;
        return { ...rest, ownerId: d.ownerId, consent: 'DECLINED', declineReason: d.reason, declinedAt: d.declinedAt, declinedBy: d.ownerId, declinedRiskVersion: d.riskVersion, ...(d.riskStateHash ? { declinedRiskStateHash: d.riskStateHash } : {}) };
      });
    }
    case 'ResidualConsentBecameStale': {
      const d = e.data;
      // Logged on a closed plan by builds before 2026-12-05 (a change to a risk after its plan
      // closed): the closed plan keeps the answer it closed with.
      if (s.status === 'CLOSED') return s;
      return updateItem(s, d.riskId, (i) => ({
        ...i,
        consent: 'STALE',
        staleSinceRiskVersion: d.riskVersion,
        staleReason: d.reason,
      }));
    }
    case 'PlanCameIntoForce': {
      const { leftForceAt: _l, ...rest } = s;
      return { ...rest, status: 'IN_FORCE', inForceSince: e.data.cameIntoForceAt };
    }
    case 'PlanLeftForce': {
      const { inForceSince: _i, ...rest } = s;
      return { ...rest, status: 'APPROVED', leftForceAt: e.data.leftAt };
    }
    case 'PlanWithdrawn': {
      // Withdrawing takes the plan back from the board to be changed: whoever did shaped the revision it opens.
      const back = backToDraft(s, e.data.revision, s.revisions.map((r): PlanRevisionRecord => (r.revision === e.data.previousRevision ? { ...r, outcome: 'WITHDRAWN', withdrawnBy: e.data.withdrawnBy, withdrawnAt: e.data.withdrawnAt, withdrawalReason: e.data.reason } : r)));
      return { ...back, preparedBy: [...back.preparedBy, { actorId: e.data.withdrawnBy, did: 'WITHDREW', revision: e.data.revision }] };
    }
    case 'PlanClosed': {
      const { inForceSince: _i, ...rest } = s;
      return { ...rest, status: 'CLOSED', closedAt: e.data.closedAt, closedReason: e.data.reason };
    }
    case 'PlanRiskRemoved': {
      const removed = s.items.find((i) => i.riskId === e.data.riskId);
      const record = removed ? [{ ...removed, removedFromRevision: s.revision, removedBy: e.data.removedBy, removedAt: e.data.removedAt, removalReason: e.data.reason }] : [];
      return {
        ...s,
        items: s.items.filter((i) => i.riskId !== e.data.riskId),
        removedItems: [...(s.removedItems ?? []), ...record],
        // Removing an item from a draft shapes what the board will decide; removing a declined or reopened one after approval does not.
        ...(s.status === 'DRAFT' ? { preparedBy: [...s.preparedBy, { actorId: e.data.removedBy, did: 'REMOVED_RISK' as const, revision: s.revision, riskId: e.data.riskId }] } : {}),
        revisions: s.status === 'DRAFT' ? updateCurrentRevision(s, (r) => ({ ...r, items: r.items.filter((i) => i.riskId !== e.data.riskId) })) : s.revisions,
      };
    }
    case 'PlanItemReopened':
      return updateItem(s, e.data.riskId, (i) => ({ ...i, consent: 'REOPENED' }));
    case 'PlanItemRiskClosed':
      return updateItem(s, e.data.riskId, (i) => ({ ...i, riskClosedAt: e.data.closedAt }));
    case 'PlanItemOwnerChanged': {
      const owned = updateItem(s, e.data.riskId, (i) => ({ ...i, ownerId: e.data.ownerId }));
      // A draft's revision is what the board will be asked to decide: it names the owner too. A
      // revision already decided stays as it was decided.
      if (s.status !== 'DRAFT') return owned;
      return { ...owned, revisions: updateCurrentRevision(s, (r) => ({ ...r, items: r.items.map((i) => (i.riskId === e.data.riskId ? { ...i, ownerId: e.data.ownerId } : i)) })) };
    }
    case 'ResidualRiskExplained': {
      const { riskId, ...explanation } = e.data;
      return updateItem(s, riskId, (i) => ({ ...i, explanations: [...(i.explanations ?? []), explanation] }));
    }
    default:
      return s;
  }
}

function updateCurrentRevision(s: PlanState, f: (r: PlanRevisionRecord) => PlanRevisionRecord): PlanRevisionRecord[] {
  return s.revisions.map((r) => (r.revision === s.revision ? f(r) : r));
}

/** A rejected or withdrawn plan: DRAFT again as a new revision that starts with the same items. */
/**
 * A resolution is recorded together with what it decides (PlanApproved, PlanReturnedToDraft), in
 * one commit: its position is that commit's last event, so that `atPosition` at it shows the plan
 * as the board decided it, not the moment between the two events.
 */
function decidedAt(s: PlanState, resolutionNumber: string, position: string | undefined): PlanState {
  if (position === undefined) return s;
  const at = (r: BoardResolution): BoardResolution => (r.resolutionNumber === resolutionNumber ? { ...r, position } : r);
  return { ...s, ...(s.resolution ? { resolution: at(s.resolution) } : {}), resolutions: s.resolutions.map(at) };
}

function backToDraft(s: PlanState, revision: number, earlier: PlanRevisionRecord[]): PlanState {
  const { submittedAt: _submittedAt, submittedBy: _submittedBy, submittedUnderCriteria: _criteria, ...rest } = s;
  const items = s.items.map((i) => ({ riskId: i.riskId, riskVersion: i.riskVersion, riskTitle: i.riskTitle, ownerId: i.ownerId }));
  // Back in draft, no residual level is fixed any more: the next submission fixes it again.
  const current = s.items.map(({ residualLevel: _level, ...item }) => item);
  return { ...rest, items: current, status: 'DRAFT', revision, revisions: [...earlier, { revision, items, outcome: 'OPEN' }] };
}

function updateItem(s: PlanState, riskId: string, f: (i: PlanItem) => PlanItem): PlanState {
  return { ...s, items: s.items.map((i) => (i.riskId === riskId ? f(i) : i)) };
}
