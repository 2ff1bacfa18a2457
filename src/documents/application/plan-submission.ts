import type { EventStore } from '../../event-store/event-store.port.js';
import type { ReplayHead } from '../../projections/as-of-replay.js';
import { happenedBy } from '../../shared/application/point-in-time.js';
import type { ConsentStatus, PlanItem, PlanState } from '../../treatment-plan/domain/plan.state.js';
import { planStreamId } from '../../treatment-plan/domain/plan.state.js';
import type { PlanEvent, PlanRiskRemoved, PlanSubmitted } from '../../treatment-plan/domain/plan.events.js';
import { planDecider } from '../../treatment-plan/domain/plan.decider.js';
import { asDomainEvent } from '../../shared/application/aggregate-reader.js';
import type { RecordedEvent } from '../../event-store/event-store.port.js';

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
  /** The item as it stood when it was removed: its owner's last answer (who, when, what was said). */
  item?: PlanItem;
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
  if (removed.size > 0) itemsAtRemoval(events, at, removed);
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

/** The plan's events about one item alone (the others, PlanLeftForce included, change the plan as a whole). */
const ITEM_EVENTS: ReadonlySet<string> = new Set<PlanEvent['type']>([
  'PlanRiskAdded', 'ResidualRiskAccepted', 'ResidualRiskDeclined', 'ResidualConsentBecameStale',
  'PlanRiskRemoved', 'PlanItemReopened', 'PlanItemRiskClosed', 'PlanItemOwnerChanged',
]);

/**
 * Each removed item as the plan held it just before its removal after the submission (at index
 * `submittedAt` of `events`), folded by the plan's own evolve (one home for what an answer does to
 * an item). Only the events of the removed risks and those of the plan as a whole are folded: a
 * plan of 2,000 items with a few removed costs a few thousand small steps, not a fold of every item.
 */
function itemsAtRemoval(events: readonly RecordedEvent[], submittedAt: number, removed: Map<string, RemovalAfterSubmission>): void {
  let state = planDecider.initialState;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const riskId = ITEM_EVENTS.has(e.type) ? (e.data as { riskId: string }).riskId : undefined;
    if (riskId !== undefined && !removed.has(riskId)) continue;
    if (i > submittedAt && e.type === 'PlanRiskRemoved') {
      const item = state.items.find((it) => it.riskId === riskId);
      if (item) removed.get(riskId!)!.item = item;
    }
    state = planDecider.evolve(state, asDomainEvent<PlanEvent>(e));
  }
}
