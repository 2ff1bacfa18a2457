import { PRIORITISED_STATUSES, isPrioritised, sortKey } from '../../../src/risk-register/domain/priority.js';
import type { RiskState } from '../../../src/risk-register/domain/risk.state.js';
import {
  acceptedEvents,
  analysedEvents,
  awaitingConsentEvents,
  controlsDecidedEvents,
  inPlanEvents,
  printerRetainedEvents,
  stateOf,
  toTreatEvents,
  treatmentDecidedEvents,
} from './builders.js';

/** The register's key as the projection computed it before it moved to the domain (stored keys must not change). */
function storedKeyForm(s: RiskState, prioritised: number): string {
  const rank = s.evaluation && s.evaluation.cycle === s.cycle ? s.evaluation.levelRank : s.cycleAnalyses.reduce((m, c) => Math.max(m, c.top.levelRank), -1);
  const value = s.evaluation?.assetValue ?? 0;
  return [1 - prioritised, String(99 - rank).padStart(3, '0'), 3 - value, s.identifiedAt, s.id].join('|');
}

const histories = { analysedEvents, toTreatEvents, treatmentDecidedEvents, controlsDecidedEvents, inPlanEvents, awaitingConsentEvents, acceptedEvents, printerRetainedEvents };

describe('treatment priority (Art. 16)', () => {
  it.each(Object.entries(histories))('%s: the key is the one the register has always stored', (_name, events) => {
    const state = stateOf(events());
    expect(sortKey(state)).toBe(storedKeyForm(state, isPrioritised(state) ? 1 : 0));
  });

  it('prioritises the risks whose treatment is still to be carried through', () => {
    expect(PRIORITISED_STATUSES).toEqual(['TO_TREAT', 'TREATMENT_DECIDED', 'CONTROLS_DECIDED', 'IN_PLAN', 'AWAITING_CONSENT']);
    expect(isPrioritised(stateOf(toTreatEvents()))).toBe(true);
    expect(isPrioritised(stateOf(awaitingConsentEvents()))).toBe(true);
    expect(isPrioritised(stateOf(acceptedEvents()))).toBe(false);
    expect(isPrioritised(stateOf(printerRetainedEvents()))).toBe(false);
  });

  it('puts prioritised risks first, then by level, asset value and age', () => {
    const toTreat = stateOf(toTreatEvents());
    const retained = stateOf(printerRetainedEvents());
    expect(sortKey(toTreat).startsWith('0|')).toBe(true);
    expect(sortKey(retained).startsWith('1|')).toBe(true);
    expect(sortKey(toTreat) < sortKey(retained)).toBe(true);
  });
});
