import { assetDecider, assetStreamId } from '../../asset-inventory/domain/asset.decider.js';
import type { AssetState } from '../../asset-inventory/domain/asset.state.js';
import { criteriaDecider, criteriaInForce, criteriaStreamId } from '../../risk-criteria/domain/criteria.decider.js';
import { acceptanceAnswer, answerInPlan, consentFingerprint, type ConsentAnswer } from '../../risk-register/domain/plan-and-consent.js';
import type { RiskCommand } from '../../risk-register/domain/risk.commands.js';
import { riskDecider } from '../../risk-register/domain/risk.decider.js';
import { riskStreamId, type RiskEvent } from '../../risk-register/domain/risk.events.js';
import { acceptableUnder, analysisBeyondScales, residualMeetsAcceptance, type RiskState } from '../../risk-register/domain/risk.state.js';
import type { AttemptReader, JointCommand, StreamDecision } from '../../shared/application/command-executor.js';
import { mapInTurns } from '../../shared/application/turns.js';
import { ConcurrencyConflictError } from '../../shared/domain/errors.js';
import type { PlanCommand } from '../domain/plan.commands.js';
import { mayComeIntoForceWith, planDecider } from '../domain/plan.decider.js';
import { planStreamId, type PlanState, type RiskSnapshot } from '../domain/plan.state.js';

/** A plan command before the application has read the risks it concerns. */
export type PlanRequest =
  | Exclude<PlanCommand, { type: 'AddRiskToPlan' } | { type: 'SubmitPlan' }>
  | (Omit<Extract<PlanCommand, { type: 'AddRiskToPlan' }>, 'risk'> & { riskId: string })
  | Omit<Extract<PlanCommand, { type: 'SubmitPlan' }>, 'risks'>;

/** What the plan may know of a risk: version, owner, status, levels and the fingerprint of what an owner consents to. */
export function riskSnapshot(risk: RiskState): RiskSnapshot {
  return {
    id: risk.id,
    version: risk.version,
    title: risk.title,
    ownerId: risk.ownerId,
    status: risk.status,
    stateHash: consentFingerprint(risk),
    criteriaNumber: risk.evaluation?.criteriaNumber ?? risk.criteriaNumber,
    level: risk.level,
    targetLevel: risk.treatment?.targetLevel,
  };
}

/**
 * The plan has not yet learnt an answer its risk already holds: the owner's acceptance or decline
 * of this revision (the reactions carry it to the plan), or a consent the plan counts as ACCEPTED
 * that the risk no longer holds (stale, reopened). A decision taken on the plan's item now (closing
 * the plan, removing the item) would leave plan and risk disagreeing for good: the plan learns
 * nothing once closed, nor about an item it removed.
 */
export class PlanLagsRisk extends ConcurrencyConflictError {
  // A race the plan pipeline retries itself (counted as a conflict in the metrics); never answered.
  constructor(readonly riskId: string) {
    super(-1, -1, `the plan has not yet learnt risk ${riskId}'s latest answer`);
    this.name = 'PlanLagsRisk';
  }
}

/**
 * Risks read through one attempt between two turns of the event loop: a submission, closure or
 * removal reads every item's risk, and a plan of 2,000 items read them all in one task (probe p12).
 */
const RISKS_PER_TURN = 200;

/**
 * The items of `plan` that do not count for coming into force (the command's UnsettledItems), read
 * through the attempt (so version-checked at its append): those (but `except`) whose risks the plan
 * lags, and those accepted that criteria approved since the submission would not let be accepted
 * (acceptedNotAcceptable). `except` is the item the command settles: removed, or answered (then,
 * with `answered`, its risk's residual is judged too).
 */
export async function unsettledItems(plan: PlanState, reader: AttemptReader, except: string, answered = false): Promise<string[]> {
  // They count only for coming into force: a command that cannot bring the plan into force needs
  // none, and its risks are neither read nor version-checked. Each answer to a plan of 1,999 items
  // read and checked all of them (0.26-2.4 s of event loop, and a conflict with any other answer: probe p10).
  if (!mayComeIntoForceWith(plan, except)) return [];
  const others = plan.items.filter((item) => item.riskId !== except);
  const lagging = await mapInTurns(others, RISKS_PER_TURN, (item) => itemLagsRiskRead(plan, item, reader));
  const judged = [...others.map((item) => item.riskId), ...(answered ? [except] : [])];
  return [...others.filter((_, i) => lagging[i]).map((item) => item.riskId), ...(await acceptedNotAcceptable(plan, reader, judged))];
}

/**
 * Art. 13(1), 16, 20 (auditor probe F1, compliance probe F2): of `riskIds`, the risks whose
 * residual level the criteria in force place above their acceptance level, or whose analysis lies
 * beyond their scales (not acceptableUnder), when those criteria were approved after the plan was
 * submitted. Their owners accepted under earlier criteria; the plan does not come into force over
 * them (an owner declines, and the risk is treated again, as an acceptance under the criteria in
 * force would be refused). Under the criteria the plan was
 * submitted under nothing is read: every acceptance since was judged under them when given. The
 * criteria are read in the attempt, so an approval racing the command makes it conflict and retry.
 */
async function acceptedNotAcceptable(plan: PlanState, reader: AttemptReader, riskIds: readonly string[]): Promise<string[]> {
  const criteria = criteriaInForce(await reader.state(criteriaStreamId(), criteriaDecider));
  if (!criteria || criteria.number === plan.submittedUnderCriteria?.number) return [];
  const refused = await mapInTurns(riskIds, RISKS_PER_TURN, async (id) => !acceptableUnder(await reader.state(riskStreamId(id), riskDecider), criteria));
  return riskIds.filter((_, i) => refused[i]);
}

/**
 * itemLagsRisk on the item's risk read through the attempt. An item ACCEPTED whose risk's only
 * event after the version the plan records is the owner's acceptance is judged from that event
 * (a tail read, version-checked at the append like a state read) instead of folding the risk:
 * the rule reads nothing of a risk but its answer (ConsentAnswer), and the acceptance sets that
 * whole (acceptanceAnswer). The last acceptance of a plan of 1,999 items folded 1,998 risks in its
 * request: 0.5 s on a fresh reader (bench plan-consent).
 */
async function itemLagsRiskRead(plan: PlanState, item: PlanState['items'][number], reader: AttemptReader): Promise<boolean> {
  const streamId = riskStreamId(item.riskId);
  if (item.consent === 'ACCEPTED' && item.consentRecord && reader.tail) {
    const tail = await reader.tail(streamId, item.consentRecord.riskVersion + 1);
    const last = tail?.length === 1 ? (tail[0] as RiskEvent) : undefined;
    if (last?.type === 'ResidualRiskAcceptedByOwner') return itemLagsRisk(plan, item, acceptanceAnswer(last.data));
  }
  return itemLagsRisk(plan, item, (await reader.state(streamId, riskDecider)).consent);
}

/**
 * Whether the plan's item of `risk` still lags what the risk holds (see PlanLagsRisk). An item
 * ACCEPTED lags a risk that is ACCEPTED too when the risk's acceptance is another one: the risk
 * was changed, asked again and accepted again before the plan learnt any of it (its consent
 * record names other content, or content asked for after the acceptance the plan holds).
 */
export function planLagsRisk(plan: PlanState, risk: RiskState): boolean {
  return itemLagsRisk(plan, plan.items.find((i) => i.riskId === risk.id), risk.consent);
}

/** planLagsRisk with the item already found (a loop over every item would search the list for each), on the risk's answer alone. */
function itemLagsRisk(plan: PlanState, item: PlanState['items'][number] | undefined, answer: ConsentAnswer | undefined): boolean {
  if (!item || item.consent === 'REOPENED' || (plan.status !== 'APPROVED' && plan.status !== 'IN_FORCE')) return false;
  const consent = answerInPlan(answer, plan);
  if (consent?.status === 'DECLINED') return item.consent !== 'DECLINED';
  if (consent?.status === 'ACCEPTED') return item.consent !== 'ACCEPTED' || !holdsAcceptance(item, consent);
  return item.consent === 'ACCEPTED';
}

/**
 * Whether the acceptance the plan's item records is the risk's `accepted` one: the same content
 * (the plan records the risk's fingerprint as riskStateHash), answered after the request that
 * acceptance answers (the plan records the risk's version before the answer; the risk, the
 * version the owner was asked at). An item without a record (logs before records were kept)
 * is taken as it says.
 */
function holdsAcceptance(item: PlanState['items'][number], accepted: ConsentAnswer): boolean {
  const record = item.consentRecord;
  if (!record) return true;
  return record.riskStateHash === accepted.fingerprint && record.riskVersion >= accepted.atVersion;
}

/**
 * A plan command with the decisions it implies on its risks, appended in the same atomic step so
 * that plan and risks can never disagree about membership or freezing (Art. 19):
 * - adding a risk: the risk joins the plan (its own stream refuses a second open plan);
 * - submitting: each risk is frozen while the board decides;
 * - withdrawing, or a rejecting resolution: each risk is released;
 * - removing an item, closing the plan: the risk(s) leave it.
 * Every risk read here is appended at the version read, so a concurrent change to one of them
 * makes the attempt start again on fresh state. Consent is not here: the risk decides it.
 */
export function planJoint(request: PlanRequest, options: { settled?: boolean } = {}): (reader: AttemptReader) => Promise<JointCommand<PlanState>> {
  const settled = options.settled ?? true;
  const readRisk = (reader: AttemptReader, riskId: string) => reader.state(riskStreamId(riskId), riskDecider);
  // Read in the attempt, so an answer recorded before the append makes it conflict and look again.
  const requireSettled = async (reader: AttemptReader, plan: PlanState) => {
    if (!settled) return;
    await mapInTurns(plan.items, RISKS_PER_TURN, async (item) => {
      if (itemLagsRisk(plan, item, (await readRisk(reader, item.riskId)).consent)) throw new PlanLagsRisk(item.riskId);
    });
  };
  const planStream = planStreamId(request.planId);
  const base = { actor: request.actor, at: request.at };
  const onRisk = (riskId: string, command: RiskCommand): StreamDecision => ({ streamId: riskStreamId(riskId), decider: riskDecider, command });
  return async (reader) => {
    const plan = await reader.state(planStream, planDecider);
    const itemIds = plan.items.map((i) => i.riskId);
    const primary = (command: PlanCommand) => ({ streamId: planStream, decider: planDecider, command });
    switch (request.type) {
      case 'AddRiskToPlan': {
        const { riskId, ...rest } = request;
        const risk = await readRisk(reader, riskId);
        const snapshot: RiskSnapshot = risk.exists ? riskSnapshot(risk) : { id: riskId, version: -1, title: '', ownerId: '', status: 'NONE', stateHash: '' };
        const others = risk.exists && plan.exists ? [onRisk(riskId, { type: 'IncludeInPlan', ...base, riskId, planId: request.planId })] : [];
        return { primary: primary({ ...rest, risk: snapshot }), others };
      }
      case 'SubmitPlan': {
        // Only a DRAFT is submitted: anything else is left as it is (the decider appends nothing),
        // and reading every item for it made 95 aliases of that no-op one 7 s task (probe p12).
        if (plan.status !== 'DRAFT') return { primary: primary({ ...request, risks: [], criteria: null }) };
        // Each risk's fingerprint (a hash of its state) is taken in the same turns as its read.
        // Read in the attempt: a criteria approval racing the submission makes the append conflict and retry.
        const criteria = criteriaInForce(await reader.state(criteriaStreamId(), criteriaDecider));
        const aboveAcceptance = new Set<string>();
        const beyondScales = new Set<string>();
        // And each risk's assets, so that each freeze records which were retired in log order (a
        // retirement landing before the append makes it conflict and read again): ASSET_RETIRED
        // compares that, not the commands' instants, which a step of the clock misorders (review M4).
        const assetsOf = new Map<string, AssetState[]>();
        const risks = await mapInTurns(itemIds, RISKS_PER_TURN, async (id) => {
          const risk = await readRisk(reader, id);
          if (risk.exists && risk.status !== 'CLOSED' && criteria) {
            if (analysisBeyondScales(risk, criteria)) beyondScales.add(id);
            else if (!residualMeetsAcceptance(risk, criteria)) aboveAcceptance.add(id);
          }
          if (!risk.exists) return undefined;
          const snapshot = riskSnapshot(risk);
          assetsOf.set(id, (await Promise.all(risk.assetIds.map((assetId) => reader.state(assetStreamId(assetId), assetDecider)))).filter((a) => a.exists));
          return snapshot;
        });
        const freeze = itemIds.map((id) => onRisk(id, { type: 'FreezeForBoard', ...base, riskId: id, planId: request.planId, planRevision: plan.revision, assets: assetsOf.get(id) ?? [] }));
        const submission = criteria ? { number: criteria.number, acceptanceLevel: criteria.acceptanceLevel } : null;
        return { primary: primary({ ...request, risks: risks.filter((r) => r !== undefined), criteria: submission, risksAboveAcceptance: itemIds.filter((id) => aboveAcceptance.has(id)), risksBeyondScales: itemIds.filter((id) => beyondScales.has(id)) }), others: freeze };
      }
      case 'WithdrawPlan':
      case 'RecordBoardResolution': {
        const releasing = plan.status === 'SUBMITTED' && (request.type === 'WithdrawPlan' || request.decision === 'REJECTED');
        const reason = request.type === 'WithdrawPlan' ? 'PLAN_WITHDRAWN' : 'PLAN_REJECTED';
        return { primary: primary(request), others: releasing ? itemIds.map((id) => onRisk(id, { type: 'ReleaseFromBoard', ...base, riskId: id, planId: request.planId, reason })) : [] };
      }
      case 'ClosePlan': {
        const closing = plan.status === 'APPROVED' || plan.status === 'IN_FORCE';
        if (closing) await requireSettled(reader, plan);
        return { primary: primary(request), others: closing ? itemIds.map((id) => onRisk(id, { type: 'LeavePlan', ...base, riskId: id, planId: request.planId, reason: 'PLAN_CLOSED' })) : [] };
      }
      case 'RemoveRiskFromPlan': {
        if (!itemIds.includes(request.riskId)) return { primary: primary(request) };
        // Every item, not only the one removed: the removal may bring the plan into force, which the
        // plan decides from what it knows of the others (a risk re-treated or avoided that it has not
        // yet learnt of was counted ACCEPTED: PlanCameIntoForce over a consent the risk no longer held).
        // The plan is given the time to learn them, and when it still lags one (deciding on what it
        // knows), that item does not count for coming into force.
        await requireSettled(reader, plan);
        const risk = await readRisk(reader, request.riskId);
        const unsettledRiskIds = await unsettledItems(plan, reader, request.riskId);
        const leaving = onRisk(request.riskId, { type: 'LeavePlan', ...base, riskId: request.riskId, planId: request.planId, reason: 'REMOVED_FROM_PLAN' });
        return { primary: primary({ ...request, riskClosed: risk.status === 'CLOSED', unsettledRiskIds }), others: [leaving] };
      }
      case 'ExplainResidualRisk': {
        // The state explained is the risk's as read in this attempt (appended at that version, so a
        // change racing the explanation makes it read again).
        if (!itemIds.includes(request.riskId)) return { primary: primary(request) };
        const risk = await readRisk(reader, request.riskId);
        return { primary: primary({ ...request, ...(risk.exists ? { risk: riskSnapshot(risk) } : {}) }) };
      }
      default:
        return { primary: primary(request) };
    }
  };
}
