/**
 * planLagsRisk: whether a plan's item still lags what its risk holds, the test behind the
 * removal's and closing's settling and behind UnsettledItems (no coming into force over it).
 */
import { planLagsRisk, unsettledItems } from '../../../src/treatment-plan/application/plan-joint-commands.js';
import type { PlanState } from '../../../src/treatment-plan/domain/plan.state.js';
import type { RiskState } from '../../../src/risk-register/domain/risk.state.js';
import { oneAccepted, PLAN, r1, r1Awaiting, stateOf } from './plan.fixtures.js';

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
    const reader = { state: async (streamId: string) => (read.push(streamId), { id: streamId.replace(/^risk-/, '') } as unknown as RiskState) };
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
