/**
 * planLagsRisk: whether a plan's item still lags what its risk holds, the test behind the
 * removal's and closing's settling and behind UnsettledItems (no coming into force over it).
 */
import { criteriaStreamId } from '../../../src/risk-criteria/domain/criteria.decider.js';
import type { CriteriaRegisterState } from '../../../src/risk-criteria/domain/criteria.state.js';
import { riskDecider } from '../../../src/risk-register/domain/risk.decider.js';
import { riskStreams } from '../../../src/risk-register/domain/risk.events.js';
import type { RiskState } from '../../../src/risk-register/domain/risk.state.js';
import { planJoint, planLagsRisk, unsettledItems } from '../../../src/treatment-plan/application/plan-joint-commands.js';
import type { PlanCommand } from '../../../src/treatment-plan/domain/plan.commands.js';
import { planStreamId, type PlanState } from '../../../src/treatment-plan/domain/plan.state.js';
import { turnsDuring } from '../../support/turns.js';
import { criteriaV1 } from '../risk-register/fixtures.js';
import { committee, oneAccepted, PLAN, r1, r1Awaiting, stateOf, T_SUBMIT } from './plan.fixtures.js';

type Consent = NonNullable<RiskState['consent']>;
const riskWith = (consent: Partial<Consent>): RiskState =>
  ({ id: r1.id, consent: { planId: PLAN, planRevision: 1, status: 'ACCEPTED', atVersion: r1Awaiting.version - 2, fingerprint: r1.stateHash, ...consent } }) as unknown as RiskState;

describe('planLagsRisk: an ACCEPTED item lags a risk whose acceptance is another one', () => {
  const plan = stateOf(oneAccepted);
  const record = plan.items.find((i) => i.riskId === r1.id)!.consentRecord!;

  it('does not lag the risk holding the acceptance the plan recorded', () => {
    expect(record).toMatchObject({ riskVersion: r1Awaiting.version, riskStateHash: r1.stateHash });
    expect(planLagsRisk(plan, riskWith({}))).toBe(false);
  });

  it('lags a risk changed, asked again and accepted again before the plan learnt any of it (probe p9)', () => {
    // Other content accepted: the plan's record pins the content before the change.
    expect(planLagsRisk(plan, riskWith({ atVersion: r1Awaiting.version + 3, fingerprint: 'sha256:r1-b' }))).toBe(true);
    // The same content again (changed and changed back), asked after the recorded acceptance.
    expect(planLagsRisk(plan, riskWith({ atVersion: r1Awaiting.version + 3 }))).toBe(true);
  });

  it('lags a risk whose consent went stale or was declined, and not a risk of another plan revision', () => {
    expect(planLagsRisk(plan, riskWith({ status: 'STALE', atVersion: r1Awaiting.version + 2 }))).toBe(true);
    expect(planLagsRisk(plan, riskWith({ status: 'DECLINED', atVersion: r1Awaiting.version + 3 }))).toBe(true);
    expect(planLagsRisk(plan, riskWith({ planRevision: 2 }))).toBe(true); // the plan counts an acceptance the risk does not hold for it
  });
});

describe('unsettledItems reads the other items only when the command could bring the plan into force', () => {
  const items = (consents: string[]) => consents.map((consent, i) => ({ riskId: `r-${i}`, consent })) as unknown as PlanState['items'];
  const reading = () => {
    const read: string[] = [];
    // A risk that holds no consent of this plan: an item the plan counts ACCEPTED lags it.
    // No criteria in force: the check of residual levels against them reads no risk (see below).
    const reader = { state: async (streamId: string, decider: { initialState: unknown }) => (streamId === criteriaStreamId() ? decider.initialState : (read.push(streamId), { id: streamId.replace(/^risk-/, '') } as unknown as RiskState)) };
    return { read, reader: reader as never };
  };

  it('reads none while another item is not ACCEPTED, or the plan is not APPROVED (probe p10: every answer to 1,999 items read them all)', async () => {
    for (const plan of [
      { id: PLAN, status: 'APPROVED', revision: 1, items: items(['ACCEPTED', 'PENDING', 'ACCEPTED']) },
      { id: PLAN, status: 'IN_FORCE', revision: 1, items: items(['ACCEPTED', 'ACCEPTED', 'ACCEPTED']) },
      { id: PLAN, status: 'DRAFT', revision: 1, items: items(['PENDING', 'PENDING', 'PENDING']) },
    ]) {
      const { read, reader } = reading();
      expect(await unsettledItems(plan as unknown as PlanState, reader, 'r-0')).toEqual([]);
      expect(read).toEqual([]);
    }
  });

  it('reads every other item when they are all ACCEPTED, whatever the one answering, and names those it lags', async () => {
    const { read, reader } = reading();
    const plan = { id: PLAN, status: 'APPROVED', revision: 1, items: items(['PENDING', 'ACCEPTED', 'ACCEPTED']) } as unknown as PlanState;
    expect(await unsettledItems(plan, reader, 'r-0')).toEqual(['r-1', 'r-2']);
    expect(read).toEqual(['risk-r-1', 'risk-r-2']);
  });
});

describe('unsettledItems names the items accepted above the acceptance level of criteria approved since the submission (Art.13(1), 20; auditor probe F1)', () => {
  // Under criteriaV1 (acceptance LOW) the target (1,2) is LOW; under `strict` (1,2) is MEDIUM.
  const strict = { ...criteriaV1, id: 'crit-2', number: 2, matrix: [['LOW', 'MEDIUM', 'MEDIUM'], ...criteriaV1.matrix.slice(1)] };
  const register = (inForce: typeof criteriaV1) => ({ version: 1, versions: [criteriaV1, strict], inForceId: inForce.id }) as unknown as CriteriaRegisterState;
  const treatedTo = (id: string, targetImpact: number) =>
    ({ id, exists: true, status: 'ACCEPTED', treatment: { targetLikelihood: 1, targetImpact, targetLevel: 'LOW', criteriaNumber: 1 }, consent: { planId: PLAN, planRevision: 1, status: 'ACCEPTED' } }) as unknown as RiskState;
  const risks: Record<string, RiskState> = { 'risk-r-0': treatedTo('r-0', 2), 'risk-r-1': treatedTo('r-1', 1), 'risk-r-2': treatedTo('r-2', 2) };
  const readerOf = (inForce: typeof criteriaV1) => {
    const folded: string[] = [];
    const reader = { state: async (streamId: string) => (streamId === criteriaStreamId() ? register(inForce) : (folded.push(streamId), risks[streamId])) };
    return { folded, reader: reader as never };
  };
  const plan = (submittedUnder: number) =>
    ({ id: PLAN, exists: true, status: 'APPROVED', revision: 1, submittedUnderCriteria: { number: submittedUnder, acceptanceLevel: 'LOW' }, items: ['PENDING', 'ACCEPTED', 'ACCEPTED'].map((consent, i) => ({ riskId: `r-${i}`, consent })) }) as unknown as PlanState;

  it('under criteria approved since the submission: the accepted items placed above, and the answering one with `answered`', async () => {
    const { reader } = readerOf(strict);
    // r-1 (Rare, Minor) is LOW under both; r-2 (Rare, Moderate) is MEDIUM under the new criteria. Neither lags.
    expect(await unsettledItems(plan(1), reader, 'r-0')).toEqual(['r-2']);
    expect(await unsettledItems(plan(1), readerOf(strict).reader, 'r-0', true)).toEqual(['r-2', 'r-0']);
  });

  it('under the criteria the plan was submitted under: nothing more is read or named', async () => {
    const { folded, reader } = readerOf(criteriaV1);
    expect(await unsettledItems(plan(1), reader, 'r-0', true)).toEqual([]);
    // Only the lag check's reads of the other items: none for the residual levels.
    expect(folded).toEqual(['risk-r-1', 'risk-r-2']);
    // Submitted under other criteria than those in force: judged, and here within them.
    expect(await unsettledItems(plan(2), readerOf(criteriaV1).reader, 'r-0')).toEqual([]);
  });
});

describe('a plan command over every item reads their risks in turns of the event loop (probe p12: 2,000 read in one task)', () => {
  const many = 1_000;
  const planOf = (status: string) =>
    ({ id: PLAN, exists: true, status, revision: 1, items: Array.from({ length: many }, (_, i) => ({ riskId: `r-${i}`, consent: 'PENDING' })) }) as unknown as PlanState;
  // Every read settles at once, as a read from memory does: only the reader's own pauses let the loop turn.
  const readerOf = (plan: PlanState) => {
    const read: string[] = [];
    const reader = {
      state: async (streamId: string, decider: { initialState: unknown }) => {
        if (streamId === planStreamId(PLAN)) return plan;
        const id = riskStreams.idOf(streamId);
        if (id === undefined) return decider.initialState;
        read.push(streamId);
        return { ...(riskDecider.initialState as RiskState), exists: true, id, title: 'a risk', ownerId: 'u-owner-1', status: 'CONTROLS_DECIDED', version: 4 };
      },
    };
    return { read, reader: reader as never };
  };

  it('submitting: every risk read and frozen, the loop turning meanwhile', async () => {
    const { read, reader } = readerOf(planOf('DRAFT'));
    const [joint, turns] = await turnsDuring(() => planJoint({ type: 'SubmitPlan', planId: PLAN, actor: committee, at: T_SUBMIT })(reader));
    expect(read).toHaveLength(many);
    expect(joint.others).toHaveLength(many);
    expect((joint.primary.command as Extract<PlanCommand, { type: 'SubmitPlan' }>).risks.map((r) => r.id)).toEqual(Array.from({ length: many }, (_, i) => `r-${i}`));
    expect(turns).toBeGreaterThanOrEqual(4);
  });

  it('submitting a plan no longer in DRAFT reads no risk (the decider leaves it as it is; 95 such aliases were one 7 s task)', async () => {
    for (const status of ['SUBMITTED', 'APPROVED', 'IN_FORCE', 'CLOSED']) {
      const { read, reader } = readerOf(planOf(status));
      const joint = await planJoint({ type: 'SubmitPlan', planId: PLAN, actor: committee, at: T_SUBMIT })(reader);
      expect(read).toEqual([]);
      expect(joint.others ?? []).toEqual([]);
    }
  });

  it('closing an approved plan: every item checked as settled, the loop turning meanwhile', async () => {
    const { read, reader } = readerOf(planOf('APPROVED'));
    const [joint, turns] = await turnsDuring(() => planJoint({ type: 'ClosePlan', planId: PLAN, actor: committee, at: T_SUBMIT, reason: 'superseded' })(reader));
    expect(read).toHaveLength(many);
    expect(joint.others).toHaveLength(many);
    expect(turns).toBeGreaterThanOrEqual(4);
  });
});

describe("unsettledItems judges an item from its risk's last event when that is the acceptance the plan learnt (bench plan-consent)", () => {
  const record = (riskVersion: number) => ({ ownerId: 'u-owner-1', statement: '', riskVersion, riskStateHash: 'sha256:h', riskLevel: 'HIGH', residualLevel: 'LOW', planVersion: 3, planRevision: 1, criteriaNumber: 1, acceptedAt: T_SUBMIT });
  const plan = {
    id: PLAN, exists: true, status: 'APPROVED', revision: 1,
    items: [
      { riskId: 'r-0', consent: 'PENDING' },
      { riskId: 'r-1', consent: 'ACCEPTED', consentRecord: record(5) },
      { riskId: 'r-2', consent: 'ACCEPTED', consentRecord: record(5) },
      { riskId: 'r-3', consent: 'ACCEPTED' }, // no record (logs before records were kept): always folded
    ],
  } as unknown as PlanState;
  const acceptance = (riskId: string, over: Record<string, unknown> = {}) =>
    ({ type: 'ResidualRiskAcceptedByOwner', data: { riskId, planId: PLAN, planRevision: 1, ownerId: 'u-owner-1', fingerprint: 'sha256:h', atVersion: 4, residualLevel: 'LOW', acceptedAt: T_SUBMIT, ...over } });
  const readerWith = (tails: Record<string, object[]>) => {
    const folded: string[] = [];
    const tailed: Array<[string, number]> = [];
    const reader = {
      state: async (streamId: string, decider: { initialState: unknown }) => (streamId === criteriaStreamId() ? decider.initialState : (folded.push(streamId), { id: streamId.replace(/^risk-/, '') } as unknown as RiskState)),
      tail: async (streamId: string, fromRevision: number) => (tailed.push([streamId, fromRevision]), tails[streamId]),
    };
    return { folded, tailed, reader: reader as never };
  };

  it('an item whose risk holds only the acceptance it recorded since: not folded, not lagging', async () => {
    const { folded, tailed, reader } = readerWith({ 'risk-r-1': [acceptance('r-1')], 'risk-r-2': [acceptance('r-2')] });
    // r-3 has no record: folded, and (holding no consent of the plan) lagged.
    expect(await unsettledItems(plan, reader, 'r-0')).toEqual(['r-3']);
    expect(tailed).toEqual([['risk-r-1', 6], ['risk-r-2', 6]]);
    expect(folded).toEqual(['risk-r-3']);
  });

  it('judged as the folded risk would be: another content, an acceptance asked for later, another revision of the plan all lag', async () => {
    const cases = [{ fingerprint: 'sha256:other' }, { atVersion: 6 }, { planRevision: 2 }, { planId: 'another-plan' }];
    for (const over of cases) {
      const { folded, reader } = readerWith({ 'risk-r-1': [acceptance('r-1', over)], 'risk-r-2': [acceptance('r-2')] });
      expect(await unsettledItems(plan, reader, 'r-0')).toEqual(['r-1', 'r-3']);
      expect(folded).toEqual(['risk-r-3']);
      // The same judgement as on a risk holding that consent, folded (the rule's one home).
      const risk = { id: 'r-1', consent: { ...acceptance('r-1', over).data, status: 'ACCEPTED' } } as unknown as RiskState;
      expect(planLagsRisk(plan, risk)).toBe(true);
    }
  });

  it('any other tail (more events, another event, none) is folded', async () => {
    const invalidated = { type: 'ResidualConsentInvalidated', data: { riskId: 'r-1', planId: PLAN, planRevision: 1, reason: 'TREATMENT_CHANGED', atVersion: 6, invalidatedAt: T_SUBMIT } };
    const { folded, reader } = readerWith({ 'risk-r-1': [acceptance('r-1'), invalidated], 'risk-r-2': [invalidated] });
    expect(await unsettledItems(plan, reader, 'r-0')).toEqual(['r-1', 'r-2', 'r-3']);
    expect(folded).toEqual(['risk-r-1', 'risk-r-2', 'risk-r-3']);
  });
});
