import { criteriaTitleCase } from '../../support/criteria-definitions.js';
import type { DomainActor } from '../../../src/shared/domain/decider.js';
import {
  BadInputError,
  ConcurrencyConflictError,
  ForbiddenError,
  NotFoundError,
  RuleViolationError,
} from '../../../src/shared/domain/errors.js';
import {
  criteriaById,
  criteriaDecider,
  criteriaInForce,
  criteriaStreamId,
  validateCriteriaDefinition,
  type ApproveRiskCriteria,
  type ProposeRiskCriteria,
} from '../../../src/risk-criteria/domain/criteria.decider.js';
import {
  criteriaEventSchemaVersions,
  upcastCriteriaEvent,
  type CriteriaEvent,
  type RiskCriteriaProposed,
} from '../../../src/risk-criteria/domain/criteria.events.js';
import { CRITERIA_STREAM, type CriteriaDefinition } from '../../../src/risk-criteria/domain/criteria.state.js';
import { given } from '../support/given-when-then.js';

const T0 = '2024-04-01T09:00:00.000Z';
const T1 = '2024-04-02T09:00:00.000Z';
const T2 = '2024-04-03T09:00:00.000Z';
const T3 = '2024-04-04T09:00:00.000Z';

const member: DomainActor = { id: 'u-com', name: 'Kenji Committee', roles: ['COMMITTEE_MEMBER'] };
const ciso: DomainActor = { id: 'u-ciso', name: 'Chika CISO', roles: ['CISO'] };
const ciso2: DomainActor = { id: 'u-ciso2', name: 'Deputy CISO', roles: ['CISO'] };
const assetManager: DomainActor = { id: 'u-mgr', name: 'Mina', roles: ['ASSET_MANAGER'], department: 'Custody' };
const auditor: DomainActor = { id: 'u-aud', name: 'Aiko', roles: ['AUDITOR'] };
const owner: DomainActor = { id: 'u-own', name: 'Ren', roles: ['RISK_OWNER'] };
const secretary: DomainActor = { id: 'u-sec', name: 'Sae', roles: ['BOARD_SECRETARY'] };
const admin: DomainActor = { id: 'u-adm', name: 'Admin', roles: ['ADMIN'] };

const definition = criteriaTitleCase;

const propose = (over: Partial<ProposeRiskCriteria> = {}): ProposeRiskCriteria => ({
  type: 'ProposeRiskCriteria',
  criteriaId: 'c1',
  definition: definition(),
  actor: member,
  at: T0,
  ...over,
});

const approve = (over: Partial<ApproveRiskCriteria> = {}): ApproveRiskCriteria => ({
  type: 'ApproveRiskCriteria',
  criteriaId: 'c1',
  actor: ciso,
  at: T1,
  ...over,
});

const proposed = (criteriaId: string, number: number, proposedBy = 'u-com', proposedAt = T0): RiskCriteriaProposed => ({
  type: 'RiskCriteriaProposed',
  data: { criteriaId, number, ...definition(), proposedBy, proposedAt },
});

const approved = (criteriaId: string, number: number, approvedAt = T1, supersedes?: string): CriteriaEvent => ({
  type: 'RiskCriteriaApproved',
  data: { criteriaId, number, approvedBy: 'u-ciso', approvedAt, ...(supersedes ? { supersedes } : {}) },
});

/** Validates a definition changed by `change`, returns the BadInputError's fields. */
function fieldsOf(change: (d: CriteriaDefinition) => void): Record<string, string> {
  const d = definition();
  change(d);
  try {
    validateCriteriaDefinition(d);
  } catch (e) {
    expect(e).toBeInstanceOf(BadInputError);
    return (e as BadInputError).fields;
  }
  throw new Error('expected validateCriteriaDefinition to throw');
}

describe('validateCriteriaDefinition (Art.13)', () => {
  it('accepts a sound definition', () => {
    expect(() => validateCriteriaDefinition(definition())).not.toThrow();
  });

  it('needs at least 2 likelihood levels', () => {
    expect(
      fieldsOf((d) => {
        d.likelihoodLevels = ['Only'];
      }),
    ).toHaveProperty('likelihoodLevels');
  });

  it('needs at least 2 impact levels', () => {
    expect(
      fieldsOf((d) => {
        d.impactLevels = ['Only'];
      }),
    ).toHaveProperty('impactLevels');
  });

  it('needs at least 2 risk levels', () => {
    expect(
      fieldsOf((d) => {
        d.riskLevels = ['Low'];
      }),
    ).toHaveProperty('riskLevels');
  });

  it('rejects empty labels', () => {
    expect(
      fieldsOf((d) => {
        d.impactLevels[1] = '  ';
      }),
    ).toHaveProperty(['impactLevels[1]']);
  });

  it('rejects duplicate labels within a list (case-insensitive)', () => {
    const f = fieldsOf((d) => {
      d.likelihoodLevels = ['Rare', 'Possible', 'rare'];
      d.riskLevels = ['Low', 'Medium', 'Medium'];
    });
    expect(f).toHaveProperty(['likelihoodLevels[2]']);
    expect(f).toHaveProperty(['riskLevels[2]']);
  });

  it('allows the same label in different lists', () => {
    expect(() =>
      validateCriteriaDefinition({
        ...definition(),
        likelihoodLevels: ['Low', 'Medium', 'High'],
        impactLevels: ['Low', 'Medium', 'High'],
      }),
    ).not.toThrow();
  });

  it('needs exactly N matrix rows', () => {
    expect(
      fieldsOf((d) => {
        d.matrix.pop();
      }),
    ).toHaveProperty('matrix');
  });

  it('needs exactly M cells per row', () => {
    expect(
      fieldsOf((d) => {
        d.matrix[1] = ['Low', 'Medium'];
      }),
    ).toHaveProperty(['matrix[1]']);
  });

  it('needs every cell to be a known risk level', () => {
    expect(
      fieldsOf((d) => {
        d.matrix[1][2] = 'Critical';
      }),
    ).toEqual({ 'matrix[1][2]': expect.stringContaining('risk levels') });
  });

  it('rejects a matrix whose level falls as impact rises (cell lower than the one to its left)', () => {
    const f = fieldsOf((d) => {
      d.matrix[2] = ['Medium', 'High', 'Medium'];
    });
    expect(f).toHaveProperty(['matrix[2][2]']);
  });

  it('rejects a matrix whose level falls as likelihood rises (cell lower than the one below it)', () => {
    const f = fieldsOf((d) => {
      d.matrix[0] = ['Medium', 'Medium', 'Medium'];
      d.matrix[1] = ['Low', 'Medium', 'High'];
    });
    expect(f).toEqual({ 'matrix[1][0]': expect.stringContaining('likelihood') });
  });

  it('accepts a constant-step monotone matrix', () => {
    expect(() =>
      validateCriteriaDefinition({
        ...definition(),
        matrix: [
          ['Low', 'Low', 'Low'],
          ['Low', 'Low', 'Low'],
          ['Low', 'Low', 'High'],
        ],
      }),
    ).not.toThrow();
  });

  it('needs the acceptance level to be one of the risk levels', () => {
    expect(
      fieldsOf((d) => {
        d.acceptanceLevel = 'Negligible';
      }),
    ).toHaveProperty('acceptanceLevel');
  });

  it('rejects the highest risk level as acceptance level (nothing would ever be treated)', () => {
    expect(
      fieldsOf((d) => {
        d.acceptanceLevel = 'High';
      }),
    ).toEqual({ acceptanceLevel: expect.stringContaining('highest') });
  });

  it("refuses an acceptance level below every cell of the matrix (no target could meet it: every treatment refused, compliance probe 2026-12-04)", () => {
    // A level under the others that no cell takes: accepting only it would let nothing be retained or treated.
    expect(
      fieldsOf((d) => {
        d.riskLevels = ['Very low', 'Low', 'Medium', 'High'];
        d.acceptanceLevel = 'Very low';
        d.reviewIntervalDays = [...d.reviewIntervalDays, { level: 'Very low', days: 730 }];
      }),
    ).toEqual({ acceptanceLevel: 'must be at least the matrix\'s lowest level ("Low"): no risk and no treatment target could ever meet it' });
    // The matrix's lowest level itself is accepted.
    const lowest = definition();
    lowest.riskLevels = ['Very low', 'Low', 'Medium', 'High'];
    lowest.reviewIntervalDays = [...lowest.reviewIntervalDays, { level: 'Very low', days: 730 }];
    expect(() => validateCriteriaDefinition(lowest)).not.toThrow();
  });

  it('needs exactly 3 impactByAssetValue entries', () => {
    expect(
      fieldsOf((d) => {
        d.impactByAssetValue = [1, 2];
      }),
    ).toHaveProperty('impactByAssetValue');
  });

  it('needs impactByAssetValue entries to be integers 1..M', () => {
    const f = fieldsOf((d) => {
      d.impactByAssetValue = [0, 2, 4];
    });
    expect(f).toHaveProperty(['impactByAssetValue[0]']);
    expect(f).toHaveProperty(['impactByAssetValue[2]']);
  });

  it('needs impactByAssetValue non-decreasing', () => {
    expect(
      fieldsOf((d) => {
        d.impactByAssetValue = [2, 1, 3];
      }),
    ).toEqual({ 'impactByAssetValue[1]': expect.stringContaining('non-decreasing') });
  });

  it('needs N-1 baseline gap thresholds', () => {
    expect(
      fieldsOf((d) => {
        d.baselineGapThresholds = [0.5];
      }),
    ).toHaveProperty('baselineGapThresholds');
  });

  it('needs baseline gap thresholds in (0, 1]', () => {
    const f = fieldsOf((d) => {
      d.baselineGapThresholds = [0, 1.5];
    });
    expect(f).toHaveProperty(['baselineGapThresholds[0]']);
    expect(f).toHaveProperty(['baselineGapThresholds[1]']);
    expect(() => validateCriteriaDefinition({ ...definition(), baselineGapThresholds: [0.5, 1] })).not.toThrow();
  });

  it('needs baseline gap thresholds strictly ascending', () => {
    expect(
      fieldsOf((d) => {
        d.baselineGapThresholds = [0.5, 0.5];
      }),
    ).toEqual({ 'baselineGapThresholds[1]': expect.stringContaining('ascending') });
  });

  it('needs N-1 detailed likelihood thresholds', () => {
    expect(
      fieldsOf((d) => {
        d.detailedLikelihoodThresholds = [2, 4, 6];
      }),
    ).toHaveProperty('detailedLikelihoodThresholds');
  });

  it('needs detailed thresholds to be integers 2..9', () => {
    const f = fieldsOf((d) => {
      d.detailedLikelihoodThresholds = [1, 9.5];
    });
    expect(f).toHaveProperty(['detailedLikelihoodThresholds[0]']);
    expect(f).toHaveProperty(['detailedLikelihoodThresholds[1]']);
  });

  it('needs detailed thresholds strictly ascending', () => {
    expect(
      fieldsOf((d) => {
        d.detailedLikelihoodThresholds = [6, 3];
      }),
    ).toEqual({ 'detailedLikelihoodThresholds[1]': expect.stringContaining('ascending') });
  });

  it('needs requiredMethods minAssetValue to be 1..3', () => {
    expect(
      fieldsOf((d) => {
        d.requiredMethods[0].minAssetValue = 4;
      }),
    ).toHaveProperty(['requiredMethods[0].minAssetValue']);
  });

  it('needs requiredMethods method to be known', () => {
    expect(
      fieldsOf((d) => {
        d.requiredMethods[0].method = 'GUESSWORK' as never;
      }),
    ).toHaveProperty(['requiredMethods[0].method']);
  });

  it('rejects duplicate (minAssetValue, method) pairs', () => {
    expect(
      fieldsOf((d) => {
        d.requiredMethods.push({ minAssetValue: 3, method: 'DETAILED' });
      }),
    ).toHaveProperty(['requiredMethods[2]']);
  });

  it('accepts an empty requiredMethods list', () => {
    expect(() => validateCriteriaDefinition({ ...definition(), requiredMethods: [] })).not.toThrow();
  });

  it('needs a review interval for every risk level', () => {
    expect(
      fieldsOf((d) => {
        d.reviewIntervalDays.pop();
      }),
    ).toEqual({ reviewIntervalDays: expect.stringContaining('High') });
  });

  it('rejects two review intervals for one level', () => {
    expect(
      fieldsOf((d) => {
        d.reviewIntervalDays.push({ level: 'Low', days: 30 });
      }),
    ).toHaveProperty(['reviewIntervalDays[3].level']);
  });

  it('rejects a review interval for an unknown level', () => {
    expect(
      fieldsOf((d) => {
        d.reviewIntervalDays[0].level = 'Tiny';
      }),
    ).toHaveProperty(['reviewIntervalDays[0].level']);
  });

  it('needs review days to be integers 1..3660', () => {
    const f = fieldsOf((d) => {
      d.reviewIntervalDays[0].days = 0;
      d.reviewIntervalDays[1].days = 3661;
      d.reviewIntervalDays[2].days = 1.5;
    });
    expect(Object.keys(f).sort()).toEqual(['reviewIntervalDays[0].days', 'reviewIntervalDays[1].days', 'reviewIntervalDays[2].days']);
  });

  it('refuses review intervals that grow as the level rises (auditor probe F10: Low every 30 days, High every 3,650)', () => {
    expect(
      fieldsOf((d) => {
        d.reviewIntervalDays = [
          { level: 'Low', days: 30 },
          { level: 'Medium', days: 180 },
          { level: 'High', days: 3650 },
        ];
      }),
    ).toEqual({
      'reviewIntervalDays[1].days': 'must not be greater than reviewIntervalDays[0].days (30 days for "Low"): a higher risk level ("Medium") is reviewed at least as often as a lower one',
      'reviewIntervalDays[2].days': 'must not be greater than reviewIntervalDays[1].days (180 days for "Medium"): a higher risk level ("High") is reviewed at least as often as a lower one',
    });
  });

  it('judges review intervals in level order, whatever the order of the entries, and allows equal intervals', () => {
    // High listed first: it is compared with Medium (index 2), not with its neighbour in the list.
    expect(
      fieldsOf((d) => {
        d.reviewIntervalDays = [
          { level: 'High', days: 200 },
          { level: 'Low', days: 365 },
          { level: 'Medium', days: 180 },
        ];
      }),
    ).toEqual({ 'reviewIntervalDays[0].days': expect.stringContaining('reviewIntervalDays[2].days (180 days for "Medium")') });
    const equal = definition();
    equal.reviewIntervalDays = [
      { level: 'High', days: 90 },
      { level: 'Medium', days: 90 },
      { level: 'Low', days: 90 },
    ];
    expect(() => validateCriteriaDefinition(equal)).not.toThrow();
  });

  it('compares review intervals only between usable entries (an out-of-range one is reported once, for its range)', () => {
    expect(
      fieldsOf((d) => {
        d.reviewIntervalDays[1].days = 3661;
      }),
    ).toEqual({ 'reviewIntervalDays[1].days': expect.stringContaining('from 1 to 3660') });
  });

  it('reports every problem at once', () => {
    const f = fieldsOf((d) => {
      d.matrix[1][2] = 'Critical';
      d.acceptanceLevel = 'High';
      d.baselineGapThresholds = [0.9, 0.1];
      d.requiredMethods[0].method = 'X' as never;
      d.reviewIntervalDays[0].days = 0;
    });
    expect(Object.keys(f).sort()).toEqual([
      'acceptanceLevel',
      'baselineGapThresholds[1]',
      'matrix[1][2]',
      'requiredMethods[0].method',
      'reviewIntervalDays[0].days',
    ]);
  });

  it('does not crash on missing lists', () => {
    const f = (() => {
      try {
        validateCriteriaDefinition({} as CriteriaDefinition);
      } catch (e) {
        return (e as BadInputError).fields;
      }
      return {};
    })();
    expect(Object.keys(f)).toEqual(
      expect.arrayContaining(['likelihoodLevels', 'impactLevels', 'riskLevels', 'matrix', 'acceptanceLevel', 'reviewIntervalDays']),
    );
  });
});

describe('RiskCriteria: ProposeRiskCriteria', () => {
  it('refuses a proposal whose review intervals grow with the level, and appends nothing', () => {
    const rising = definition();
    rising.reviewIntervalDays = [
      { level: 'Low', days: 30 },
      { level: 'Medium', days: 30 },
      { level: 'High', days: 3650 },
    ];
    given(criteriaDecider, []).when(propose({ definition: rising })).thenRejectsFields('reviewIntervalDays[2].days');
  });

  it('still folds a proposal from an older log whose review intervals grow with the level (only new proposals are refused)', () => {
    const old: RiskCriteriaProposed = {
      type: 'RiskCriteriaProposed',
      data: {
        ...proposed('c1', 1).data,
        reviewIntervalDays: [
          { level: 'Low', days: 30 },
          { level: 'Medium', days: 180 },
          { level: 'High', days: 3650 },
        ],
      },
    };
    const { state } = given(criteriaDecider, [old, approved('c1', 1)]).when(propose({ criteriaId: 'c2', at: T2 })).then([proposed('c2', 2, 'u-com', T2)]);
    expect(criteriaInForce(state)?.reviewIntervalDays).toEqual(old.data.reviewIntervalDays);
  });

  it('proposes version number 1 with the definition', () => {
    const { state } = given(criteriaDecider, []).when(propose()).then([proposed('c1', 1)]);
    expect(state.version).toBe(0);
    expect(criteriaById(state, 'c1')).toMatchObject({ id: 'c1', number: 1, version: 0, status: 'PROPOSED', proposedBy: 'u-com', acceptanceLevel: 'Low' });
    expect(criteriaInForce(state)).toBeUndefined();
  });

  it('numbers the next proposal after the existing ones', () => {
    given(criteriaDecider, [proposed('c1', 1), approved('c1', 1)])
      .when(propose({ criteriaId: 'c2', at: T2 }))
      .then([proposed('c2', 2, 'u-com', T2)]);
  });

  it('trims labels before validating and recording them', () => {
    const d = definition();
    d.riskLevels = [' Low', 'Medium ', 'High'];
    d.matrix[0][0] = 'Low ';
    d.acceptanceLevel = ' Low ';
    given(criteriaDecider, []).when(propose({ definition: d })).then([proposed('c1', 1)]);
  });

  it('rejects an invalid definition with BAD_USER_INPUT fields', () => {
    const d = definition();
    d.acceptanceLevel = 'High';
    given(criteriaDecider, []).when(propose({ definition: d })).thenRejectsFields('acceptanceLevel');
  });

  it('is idempotent: the same id with the same definition yields nothing', () => {
    given(criteriaDecider, [proposed('c1', 1)]).when(propose({ at: T1 })).thenNothing();
  });

  it('rejects the same id with another definition (CRITERIA_VERSION_IMMUTABLE)', () => {
    const d = definition();
    d.acceptanceLevel = 'Medium';
    given(criteriaDecider, [proposed('c1', 1)])
      .when(propose({ definition: d }))
      .thenThrows(RuleViolationError, { rule: 'CRITERIA_VERSION_IMMUTABLE', article: 'Art.13' });
  });

  it('lets a COMMITTEE_MEMBER or the CISO propose', () => {
    given(criteriaDecider, []).when(propose({ actor: ciso })).then([proposed('c1', 1, 'u-ciso')]);
  });

  it.each([
    ['ASSET_MANAGER', assetManager],
    ['RISK_OWNER', owner],
    ['BOARD_SECRETARY', secretary],
    ['AUDITOR', auditor],
    ['ADMIN', admin],
  ])('forbids a %s to propose', (_role, actor) => {
    given(criteriaDecider, []).when(propose({ actor })).thenThrows(ForbiddenError);
  });
});

describe('RiskCriteria: ApproveRiskCriteria', () => {
  it('puts the first approved version in force', () => {
    const { state } = given(criteriaDecider, [proposed('c1', 1)])
      .when(approve())
      .then([{ type: 'RiskCriteriaApproved', data: { criteriaId: 'c1', number: 1, approvedBy: 'u-ciso', approvedAt: T1 } }]);
    expect(state.version).toBe(1);
    expect(criteriaInForce(state)).toMatchObject({ id: 'c1', status: 'IN_FORCE', version: 1, approvedBy: 'u-ciso', approvedAt: T1 });
  });

  it('supersedes the version in force when a newer one is approved', () => {
    const history = [proposed('c1', 1), approved('c1', 1), proposed('c2', 2, 'u-com', T2)];
    const { state } = given(criteriaDecider, history)
      .when(approve({ criteriaId: 'c2', at: T3 }))
      .then([
        { type: 'RiskCriteriaApproved', data: { criteriaId: 'c2', number: 2, approvedBy: 'u-ciso', approvedAt: T3, supersedes: 'c1' } },
        { type: 'RiskCriteriaSuperseded', data: { criteriaId: 'c1', number: 1, supersededBy: 'c2', supersededAt: T3 } },
      ]);
    expect(state.version).toBe(4);
    expect(state.inForceId).toBe('c2');
    expect(criteriaById(state, 'c2')).toMatchObject({ status: 'IN_FORCE', version: 3 });
    expect(criteriaById(state, 'c1')).toMatchObject({ status: 'SUPERSEDED', version: 4, supersededBy: 'c2', supersededAt: T3 });
    expect(state.versions.filter((v) => v.status === 'IN_FORCE')).toHaveLength(1);
  });

  it('is idempotent: approving the version already in force yields nothing', () => {
    given(criteriaDecider, [proposed('c1', 1), approved('c1', 1)]).when(approve({ at: T2 })).thenNothing();
  });

  it('is idempotent even with the expectedVersion read before the approval', () => {
    given(criteriaDecider, [proposed('c1', 1), approved('c1', 1)]).when(approve({ expectedVersion: 0 })).thenNothing();
  });

  it('rejects approving a superseded version (CRITERIA_SUPERSEDED)', () => {
    const history = [proposed('c1', 1), approved('c1', 1), proposed('c2', 2), approved('c2', 2, T2, 'c1')];
    history.push({ type: 'RiskCriteriaSuperseded', data: { criteriaId: 'c1', number: 1, supersededBy: 'c2', supersededAt: T2 } });
    given(criteriaDecider, history).when(approve()).thenThrows(RuleViolationError, { rule: 'CRITERIA_SUPERSEDED', article: 'Art.13' });
  });

  it('rejects approving a proposal older than the version in force', () => {
    const history = [proposed('c1', 1), proposed('c2', 2), approved('c2', 2)];
    given(criteriaDecider, history).when(approve({ criteriaId: 'c1' })).thenThrows(RuleViolationError, { rule: 'CRITERIA_OLDER_THAN_IN_FORCE' });
  });

  it('never lets the proposer approve their own version (Art.23(3))', () => {
    const err = given(criteriaDecider, [proposed('c1', 1, 'u-ciso')])
      .when(approve())
      .thenThrows(ForbiddenError, { rule: 'CRITERIA_APPROVER_IS_PROPOSER', article: 'Art.23(3)' });
    expect(err.message).toContain('Art.23(3)');
  });

  it.each([
    ['in another case', 'Zed'],
    ['in capitals', 'ZED'],
    ['in full width', 'ｚｅｄ'],
  ])('never lets the proposer approve under an id that differs only %s (%s): one person (Art.23(3))', (_how, id) => {
    const err = given(criteriaDecider, [proposed('c1', 1, 'zed')])
      .when(approve({ actor: { id, name: id, roles: ['CISO'] } }))
      .thenThrows(ForbiddenError, { rule: 'CRITERIA_APPROVER_IS_PROPOSER', article: 'Art.23(3)' });
    expect(err.message).toContain(`zed (the same person as ${id}`);
  });

  it('lets another CISO approve what a CISO proposed', () => {
    given(criteriaDecider, [proposed('c1', 1, 'u-ciso')])
      .when(approve({ actor: ciso2 }))
      .thenMatches([{ type: 'RiskCriteriaApproved', data: { approvedBy: 'u-ciso2' } }]);
  });

  it.each([
    ['COMMITTEE_MEMBER', member],
    ['ASSET_MANAGER', assetManager],
    ['RISK_OWNER', owner],
    ['BOARD_SECRETARY', secretary],
    ['AUDITOR', auditor],
    ['ADMIN', admin],
  ])('forbids a %s to approve', (_role, actor) => {
    given(criteriaDecider, [proposed('c1', 1)]).when(approve({ actor })).thenThrows(ForbiddenError);
  });

  it('answers NotFound for an unknown criteria id', () => {
    given(criteriaDecider, [proposed('c1', 1)]).when(approve({ criteriaId: 'c9' })).thenThrows(NotFoundError, { entity: 'RiskCriteria', id: 'c9' });
  });

  it('checks expectedVersion against the criteria version', () => {
    const history = [proposed('c1', 1), proposed('c2', 2)];
    given(criteriaDecider, history)
      .when(approve({ criteriaId: 'c1', expectedVersion: 1 }))
      .thenThrows(ConcurrencyConflictError, { expectedVersion: 1, actualVersion: 0 });
    given(criteriaDecider, history).when(approve({ criteriaId: 'c2', expectedVersion: 1 })).thenMatches([{ type: 'RiskCriteriaApproved' }]);
  });
});

describe('RiskCriteria: versions, schema and stream', () => {
  it('increments the register version for every event, each criteria keeps the revision of its last change', () => {
    const { state } = given(criteriaDecider, [proposed('c1', 1), proposed('c2', 2), approved('c2', 2)]);
    expect(state.version).toBe(2);
    expect(criteriaById(state, 'c1')?.version).toBe(0);
    expect(criteriaById(state, 'c2')?.version).toBe(2);
    expect(criteriaDecider.initialState).toEqual({ version: -1, versions: [] });
  });

  it('has schema version 1 for every event type and an identity upcaster', () => {
    expect(criteriaEventSchemaVersions).toEqual({ RiskCriteriaProposed: 1, RiskCriteriaApproved: 1, RiskCriteriaSuperseded: 1 });
    const e = proposed('c1', 1);
    expect(upcastCriteriaEvent(e.type, 1, e.data)).toEqual(e);
    expect(() => upcastCriteriaEvent('Nope', 1, {})).toThrow();
  });

  it('uses the single register stream', () => {
    expect(criteriaStreamId()).toBe(CRITERIA_STREAM);
    expect(criteriaStreamId('c1')).toBe('risk-criteria');
  });
});
