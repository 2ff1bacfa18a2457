import fc from 'fast-check';
import { riskDecider } from '../../../src/risk-register/domain/risk.decider.js';
import type { RiskEvent } from '../../../src/risk-register/domain/risk.events.js';
import type { RiskState } from '../../../src/risk-register/domain/risk.state.js';

const LEVELS = ['LOW', 'MEDIUM', 'HIGH'];
const identified: RiskEvent = {
  type: 'RiskIdentified',
  data: { riskId: 'r', title: 't', description: '', assetIds: ['a'], threatId: 'th', threatAssetId: 'a', vulnerabilityId: 'v', ownerId: 'o', externalReferences: [], identifiedBy: 'o', identifiedAt: '2025-01-01T00:00:00.000Z' },
};

function analysed(i: number, criteria: number, rank: number, likelihood: number): RiskEvent {
  return {
    type: 'RiskAnalysed',
    data: {
      riskId: 'r', analysisId: `a${i}`, cycle: 1, method: 'INFORMAL', criteriaId: `c${criteria}`, criteriaNumber: criteria,
      likelihood, impact: rank + 1, level: LEVELS[rank]!, levelRank: rank, externalReferences: [], analysedBy: 'o', analysedAt: '2025-01-02T00:00:00.000Z',
      informal: { likelihood, impact: rank + 1, expert: 'e', rationale: 'r' },
    },
  };
}

describe('evolve keeps the current level incrementally', () => {
  it('gives the same level, likelihood and impact as recomputing over every analysis of the cycle', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ criteria: fc.integer({ min: 1, max: 2 }), rank: fc.integer({ min: 0, max: 2 }), likelihood: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 40 }), (analyses) => {
        const events = [identified, ...analyses.map((a, i) => analysed(i, a.criteria, a.rank, a.likelihood))];
        const fast = events.reduce(riskDecider.evolve, riskDecider.initialState);
        // Dropping the hint before every event forces the full recomputation.
        const slow = events.reduce((s: RiskState, e) => riskDecider.evolve({ ...s, currentLevelRank: undefined }, e), riskDecider.initialState);
        const view = (s: RiskState) => ({ level: s.level, likelihood: s.likelihood, impact: s.impact, criteriaId: s.criteriaId, criteriaNumber: s.criteriaNumber });
        expect(view(fast)).toEqual(view(slow));
      }),
      { numRuns: 300 },
    );
  });
});
