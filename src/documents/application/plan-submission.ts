import type { EventStore } from '../../event-store/event-store.port.js';
import type { ReplayHead } from '../../projections/as-of-replay.js';
import { happenedBy } from '../../shared/application/point-in-time.js';
import type { ConsentStatus, PlanState } from '../../treatment-plan/domain/plan.state.js';
import { planStreamId } from '../../treatment-plan/domain/plan.state.js';
import type { PlanRiskRemoved, PlanSubmitted } from '../../treatment-plan/domain/plan.events.js';

/** An item the board was asked to decide on, as the submission listed it. */
export interface SubmittedItem {
  riskId: string;
  riskTitle: string;
  ownerId: string;
  residualLevel: string | null;
}

/** An item taken out of the plan after its submission (a declined, reopened or avoided risk's). */
export interface RemovalAfterSubmission {
  reason: string;
  removedAt: string;
  consent: ConsentStatus;
}

/** The submission of a plan's current revision, as the log recorded it by a point. */
export interface PlanSubmission {
  revision: number;
  submittedBy: string;
  /** The risk criteria in force at the submission (absent in events before it was recorded). */
  criteria?: { number: number; acceptanceLevel: string };
  /** The position of the submission's commit: the risks as the board was asked to decide on them. */
  position: string;
  submittedAt: string;
  items: SubmittedItem[];
  removed: ReadonlyMap<string, RemovalAfterSubmission>;
}

/**
 * The submission of the plan's revision at `head` (the document's point), or null when that
 * revision was never submitted (a draft, a plan closed before its submission): the plan
 * document then shows the draft as it stands. A plan just returned to draft (rejected, or
 * withdrawn), with nothing done to the new draft yet, shows the revision the board was asked to
 * decide on: at a rejection's position, what the board rejected (compliance probe F7). Read from
 * the plan's own stream, cut at the head.
 */
export async function planSubmissionAt(store: EventStore, plan: PlanState, head: ReplayHead | null): Promise<PlanSubmission | null> {
  if (head === null) return null;
  const events = (await store.readStream(planStreamId(plan.id))).filter(happenedBy({ atPosition: head.position }));
  const justReturned = events.at(-1)?.type === 'PlanReturnedToDraft' || events.at(-1)?.type === 'PlanWithdrawn';
  if (plan.status === 'DRAFT' && !justReturned) return null;
  const revision = plan.status === 'DRAFT' ? plan.revision - 1 : plan.revision;
  let at = -1;
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === 'PlanSubmitted' && (e.data as PlanSubmitted['data']).revision === revision) {
      at = i;
      break;
    }
  }
  if (at < 0) return null;
  const submitted = events[at]!;
  const data = submitted.data as PlanSubmitted['data'];
  const record = plan.revisions.find((r) => r.revision === revision);
  const known = new Map((record?.items ?? []).map((i) => [i.riskId, i]));
  const removed = new Map<string, RemovalAfterSubmission>();
  for (const e of events.slice(at + 1)) {
    if (e.type !== 'PlanRiskRemoved') continue;
    const d = e.data as PlanRiskRemoved['data'];
    removed.set(d.riskId, { reason: d.reason, removedAt: d.removedAt, consent: d.consent });
  }
  return {
    revision: data.revision,
    submittedBy: data.submittedBy,
    ...(data.criteria ? { criteria: data.criteria } : {}),
    position: submitted.position,
    submittedAt: data.submittedAt,
    items: data.riskIds.map((riskId) => ({
      riskId,
      riskTitle: known.get(riskId)?.riskTitle ?? riskId,
      ownerId: known.get(riskId)?.ownerId ?? '',
      residualLevel: data.residualLevels?.[riskId] ?? null,
    })),
    removed,
  };
}
