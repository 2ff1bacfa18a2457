/**
 * planLagsRisk: whether a plan's item still lags what its risk holds, the test behind the
 * removal's and closing's settling and behind UnsettledItems (no coming into force over it).
 */
import { planLagsRisk } from '../../../src/treatment-plan/application/plan-joint-commands.js';
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
