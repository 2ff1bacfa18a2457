import { describe, expect, it } from '@jest/globals';
import type { RiskEvent } from '../../../src/risk-register/domain/risk.events.js';
import { initialRiskState, type RiskControl, type RiskState, type RiskTreatment } from '../../../src/risk-register/domain/risk.state.js';
import { supersessionOf } from '../../../src/risk-register/projections/superseded.js';

/** What a decision of the cycle supersedes (auditor probe F6): the controls left out, a treatment replaced by another. */
describe('supersessionOf', () => {
  const control = (controlId: string, title = controlId): RiskControl => ({ controlId, title, description: 'd', ownerId: 'ops', dueDate: '2027-06-30', reason: 'r' });
  const treatment = (rationale: string, decidedAt = '2027-01-01T00:00:00.000Z'): RiskTreatment =>
    ({ options: ['REDUCE'], rationale, targetLikelihood: 1, targetImpact: 1, targetLevel: 'LOW', criteriaId: 'c1', criteriaNumber: 1, decidedBy: 'carol', decidedAt }) as RiskTreatment;
  const evidence = [{ evidenceId: 'ev-1', sha256: 'a'.repeat(64) }];
  const state: RiskState = {
    ...initialRiskState,
    exists: true,
    id: 'R8',
    cycle: 2,
    status: 'CONTROLS_DECIDED',
    treatment: treatment('MFA'),
    controls: [control('C1', 'Enforce MFA on VPN'), control('C2', 'Hardware keys')],
    controlProgress: { C1: { status: 'VERIFIED', progressPercent: 100, note: 'Checked', evidence } },
  };
  const controlsDecided = (controls: RiskControl[]): RiskEvent => ({ type: 'ControlsDecided', data: { riskId: 'R8', cycle: 2, controls, decidedBy: 'dave', decidedAt: '2027-02-01T00:00:00.000Z' } });
  const treatmentDecided = (t: RiskTreatment): RiskEvent => ({ type: 'RiskTreatmentDecided', data: { riskId: 'R8', cycle: 2, ...t } });

  it('keeps the controls left out, with the progress and evidence they reached; a control decided again (same id) is not superseded', () => {
    expect(supersessionOf(state, controlsDecided([{ ...control('C2', 'Hardware keys'), dueDate: '2027-09-30' }, control('C3', 'Reminder e-mail')]), 9)).toEqual({
      cycle: 2,
      revision: 9,
      supersededAt: '2027-02-01T00:00:00.000Z',
      supersededBy: 'dave',
      controls: [{ ...control('C1', 'Enforce MFA on VPN'), status: 'VERIFIED', progressPercent: 100, progressNote: 'Checked', evidence }],
      treatment: null,
    });
    expect(supersessionOf(state, controlsDecided([control('C1'), control('C2'), control('C3')]), 9)).toBeNull();
  });

  it('keeps a treatment replaced by another; the same treatment decided again replaces nothing', () => {
    const share = { ...treatment('Insured', '2027-03-01T00:00:00.000Z'), options: ['SHARE'], counterparty: 'Insurer', contractReference: 'P-1', decidedBy: 'dave' } as RiskTreatment;
    expect(supersessionOf(state, treatmentDecided(share), 11)).toEqual({ cycle: 2, revision: 11, supersededAt: '2027-03-01T00:00:00.000Z', supersededBy: 'dave', controls: [], treatment: treatment('MFA') });
    expect(supersessionOf(state, treatmentDecided(treatment('MFA', '2027-03-01T00:00:00.000Z')), 11)).toBeNull();
    expect(supersessionOf({ ...state, treatment: undefined }, treatmentDecided(share), 11)).toBeNull();
  });
});
