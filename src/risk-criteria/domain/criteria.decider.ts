/**
 * The risk-criteria register (Art. 13): one stream holds every numbered criteria version.
 * A version is proposed (COMMITTEE_MEMBER or CISO), then approved by a CISO who did not propose
 * it (Art. 23(3), separation of duties); approving a version supersedes the one in force, so
 * exactly one version is in force at any time. Pure: time and ids arrive in the command.
 */
import type { Decider, DomainActor } from '../../shared/domain/decider.js';
import { ConcurrencyConflictError, FieldErrors, NotFoundError } from '../../shared/domain/errors.js';
import { defineRules, isIntIn, isNonEmptyText, longerThan, dutiesSeparated, nameAsPerson, requireRole, samePerson, violation } from '../../shared/domain/guards.js';
import type { CriteriaEvent, RiskCriteriaApproved } from './criteria.events.js';
import {
  ANALYSIS_METHODS,
  CRITERIA_STREAM,
  type AnalysisMethod,
  type CriteriaDefinition,
  type CriteriaRegisterState,
  type CriteriaVersionState,
} from './criteria.state.js';

/** Stable rule ids (extensions.rule) and the article each comes from (Art. 23(3): separation of duties). */
export const CriteriaRules = defineRules({
  CRITERIA_APPROVER_IS_PROPOSER: 'Art.23(3)',
  CRITERIA_SUPERSEDED: 'Art.13',
  CRITERIA_OLDER_THAN_IN_FORCE: 'Art.13',
  CRITERIA_VERSION_IMMUTABLE: 'Art.13',
});

/** Bounds of the definition (beyond the ones the brief fixes, kept generous). */
export const CRITERIA_LIMITS = {
  minLevels: 2,
  maxLevels: 10,
  maxLabelLength: 100,
  minReviewDays: 1,
  maxReviewDays: 3660,
  minDetailedThreshold: 2,
  maxDetailedThreshold: 9,
} as const;

// ---------------------------------------------------------------------------------------------
// Commands (the events are in criteria.events.ts)
// ---------------------------------------------------------------------------------------------

export interface ProposeRiskCriteria {
  type: 'ProposeRiskCriteria';
  criteriaId: string;
  definition: CriteriaDefinition;
  actor: DomainActor;
  at: string;
}

export interface ApproveRiskCriteria {
  type: 'ApproveRiskCriteria';
  criteriaId: string;
  /** The criteria version's `version` as last read by the client. */
  expectedVersion?: number;
  actor: DomainActor;
  at: string;
}

export type CriteriaCommand = ProposeRiskCriteria | ApproveRiskCriteria;

/** Every criteria version lives in the one register stream; the argument is accepted for symmetry and ignored. */
export function criteriaStreamId(_criteriaId?: string): string {
  return CRITERIA_STREAM;
}

// ---------------------------------------------------------------------------------------------
// State helpers
// ---------------------------------------------------------------------------------------------

export const initialCriteriaRegisterState: CriteriaRegisterState = { version: -1, versions: [] };

export function criteriaById(state: CriteriaRegisterState, id: string): CriteriaVersionState | undefined {
  return state.versions.find((v) => v.id === id);
}

/** A criteria version's `version` as clients read it and send it back as expectedVersion (the register event that last changed it); -1 for none. */
export function criteriaVersionNumber(state: CriteriaRegisterState, id: string): number {
  return criteriaById(state, id)?.version ?? -1;
}

export function criteriaInForce(state: CriteriaRegisterState): CriteriaVersionState | undefined {
  return state.inForceId === undefined ? undefined : criteriaById(state, state.inForceId);
}

/** The definition part of a criteria version (what was proposed). */
export function definitionOf(v: CriteriaDefinition): CriteriaDefinition {
  return {
    likelihoodLevels: [...v.likelihoodLevels],
    impactLevels: [...v.impactLevels],
    riskLevels: [...v.riskLevels],
    matrix: v.matrix.map((row) => [...row]),
    acceptanceLevel: v.acceptanceLevel,
    impactByAssetValue: [...v.impactByAssetValue],
    baselineGapThresholds: [...v.baselineGapThresholds],
    detailedLikelihoodThresholds: [...v.detailedLikelihoodThresholds],
    requiredMethods: v.requiredMethods.map((r) => ({ minAssetValue: r.minAssetValue, method: r.method })),
    reviewIntervalDays: v.reviewIntervalDays.map((r) => ({ level: r.level, days: r.days })),
  };
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

const trimIfString = (v: unknown): unknown => (typeof v === 'string' ? v.trim() : v);
const mapIfArray = <T>(v: unknown, f: (x: unknown) => T): T[] | unknown => (Array.isArray(v) ? v.map(f) : v);

/**
 * Trims every label (levels, matrix cells, acceptance level, review-interval levels) and copies
 * the structure. Leaves anything of the wrong type as it is, for validateCriteriaDefinition to
 * report.
 */
export function normalizeCriteriaDefinition(def: CriteriaDefinition): CriteriaDefinition {
  const d = (def ?? {}) as unknown as Record<string, unknown>;
  return {
    likelihoodLevels: mapIfArray(d.likelihoodLevels, trimIfString),
    impactLevels: mapIfArray(d.impactLevels, trimIfString),
    riskLevels: mapIfArray(d.riskLevels, trimIfString),
    matrix: mapIfArray(d.matrix, (row) => mapIfArray(row, trimIfString)),
    acceptanceLevel: trimIfString(d.acceptanceLevel),
    impactByAssetValue: mapIfArray(d.impactByAssetValue, (x) => x),
    baselineGapThresholds: mapIfArray(d.baselineGapThresholds, (x) => x),
    detailedLikelihoodThresholds: mapIfArray(d.detailedLikelihoodThresholds, (x) => x),
    requiredMethods: mapIfArray(d.requiredMethods, (r) =>
      r && typeof r === 'object' ? { minAssetValue: (r as Record<string, unknown>).minAssetValue, method: (r as Record<string, unknown>).method } : r,
    ),
    reviewIntervalDays: mapIfArray(d.reviewIntervalDays, (r) =>
      r && typeof r === 'object' ? { level: trimIfString((r as Record<string, unknown>).level), days: (r as Record<string, unknown>).days } : r,
    ),
  } as CriteriaDefinition;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Checks one list of level labels; returns the labels when the list is usable, else undefined. */
function checkLabels(errors: FieldErrors, field: string, value: unknown, what: string): string[] | undefined {
  if (!Array.isArray(value)) {
    errors.add(field, `must be a list of ${what} labels, lowest first`);
    return undefined;
  }
  let usable = true;
  if (value.length < CRITERIA_LIMITS.minLevels) {
    errors.add(field, `must have at least ${CRITERIA_LIMITS.minLevels} ${what} levels`);
    usable = false;
  } else if (value.length > CRITERIA_LIMITS.maxLevels) {
    errors.add(field, `must have at most ${CRITERIA_LIMITS.maxLevels} ${what} levels`);
    usable = false;
  }
  const seen = new Map<string, number>();
  value.forEach((label, i) => {
    if (!isNonEmptyText(label)) {
      errors.add(`${field}[${i}]`, 'must be a non-empty label');
      usable = false;
      return;
    }
    if (longerThan(label, CRITERIA_LIMITS.maxLabelLength)) {
      errors.add(`${field}[${i}]`, `must be at most ${CRITERIA_LIMITS.maxLabelLength} characters`);
      usable = false;
    }
    const key = label.trim().toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      errors.add(`${field}[${i}]`, `duplicates ${field}[${first}] ("${label}")`);
      usable = false;
    } else seen.set(key, i);
  });
  return usable ? (value as string[]) : undefined;
}

function checkAscending(
  errors: FieldErrors,
  field: string,
  value: unknown,
  count: number | undefined,
  valid: (x: unknown) => boolean,
  rangeText: string,
): void {
  if (!Array.isArray(value)) {
    errors.add(field, `must be a list of ${count ?? 'N-1'} thresholds`);
    return;
  }
  if (count !== undefined && value.length !== count) {
    errors.add(field, `must have exactly ${count} thresholds (one fewer than the likelihood levels)`);
  }
  value.forEach((t, i) => {
    if (!valid(t)) errors.add(`${field}[${i}]`, `must be ${rangeText}`);
    else if (i > 0 && valid(value[i - 1]) && !((t as number) > (value[i - 1] as number))) {
      errors.add(`${field}[${i}]`, `must be greater than ${field}[${i - 1}] (strictly ascending)`);
    }
  });
}

/**
 * Validates the shape and consistency of a criteria definition (Art. 13). Throws one
 * BadInputError naming every problem, keyed by field path (e.g. `matrix[1][2]`,
 * `requiredMethods[0].method`). Labels are compared exactly: normalise (trim) first.
 */
export function validateCriteriaDefinition(def: CriteriaDefinition): void {
  const errors = new FieldErrors();
  const d = (def ?? {}) as unknown as Record<string, unknown>;

  const likelihood = checkLabels(errors, 'likelihoodLevels', d.likelihoodLevels, 'likelihood');
  const impact = checkLabels(errors, 'impactLevels', d.impactLevels, 'impact');
  const levels = checkLabels(errors, 'riskLevels', d.riskLevels, 'risk');
  const rank = (label: unknown): number => (levels && typeof label === 'string' ? levels.indexOf(label) : -1);
  const N = likelihood?.length;
  const M = impact?.length;

  // matrix[likelihood-1][impact-1]
  const matrix = d.matrix;
  /** The lowest level of a complete matrix: the lowest any risk or target can have. */
  let lowestCell: string | undefined;
  if (!Array.isArray(matrix)) {
    errors.add('matrix', 'must be a list of rows, one per likelihood level');
  } else {
    let complete = levels !== undefined && N !== undefined && M !== undefined;
    if (N !== undefined && matrix.length !== N) {
      errors.add('matrix', `must have exactly ${N} rows (one per likelihood level)`);
      complete = false;
    }
    matrix.forEach((row: unknown, i: number) => {
      if (!Array.isArray(row)) {
        errors.add(`matrix[${i}]`, `must be a row of ${M ?? 'M'} risk level labels`);
        complete = false;
        return;
      }
      if (M !== undefined && row.length !== M) {
        errors.add(`matrix[${i}]`, `must have exactly ${M} cells (one per impact level)`);
        complete = false;
      }
      if (levels) {
        row.forEach((cell: unknown, j: number) => {
          if (rank(cell) < 0) {
            errors.add(`matrix[${i}][${j}]`, `must be one of the risk levels (${levels.join(', ')})`);
            complete = false;
          }
        });
      }
    });
    // Monotone: a cell is not lower than the cell below it (lower likelihood) nor the one to its left (lower impact).
    if (complete && N !== undefined && M !== undefined) {
      const m = matrix as string[][];
      lowestCell = m.flat().reduce((low, cell) => (rank(cell) < rank(low) ? cell : low));
      for (let i = 0; i < N; i++) {
        for (let j = 0; j < M; j++) {
          if (i > 0 && rank(m[i][j]) < rank(m[i - 1][j])) {
            errors.add(`matrix[${i}][${j}]`, `must not be lower than matrix[${i - 1}][${j}] ("${m[i - 1][j]}"): the level may not fall as likelihood rises`);
          } else if (j > 0 && rank(m[i][j]) < rank(m[i][j - 1])) {
            errors.add(`matrix[${i}][${j}]`, `must not be lower than matrix[${i}][${j - 1}] ("${m[i][j - 1]}"): the level may not fall as impact rises`);
          }
        }
      }
    }
  }

  // Acceptance criterion (Art. 13(1)).
  if (!isNonEmptyText(d.acceptanceLevel)) {
    errors.add('acceptanceLevel', 'is required');
  } else if (levels) {
    const r = rank(d.acceptanceLevel);
    if (r < 0) errors.add('acceptanceLevel', `must be one of the risk levels (${levels.join(', ')})`);
    else if (r === levels.length - 1) {
      errors.add('acceptanceLevel', 'must be below the highest risk level (otherwise no risk would ever be treated)');
    } else if (lowestCell !== undefined && rank(lowestCell) > r) {
      // No cell at or below it: no treatment target could ever meet it (TARGET_ABOVE_ACCEPTANCE for every one), and no risk be retained.
      errors.add('acceptanceLevel', `must be at least the matrix's lowest level ("${lowestCell}"): no risk and no treatment target could ever meet it`);
    }
  }

  // Impact for asset value 1, 2, 3.
  if (!Array.isArray(d.impactByAssetValue)) errors.add('impactByAssetValue', 'must be a list of 3 impact levels');
  else {
    const ibv = d.impactByAssetValue as unknown[];
    if (ibv.length !== 3) errors.add('impactByAssetValue', 'must have exactly 3 entries (for asset values 1, 2 and 3)');
    ibv.forEach((x, i) => {
      if (!isIntIn(x, 1, M ?? Infinity)) errors.add(`impactByAssetValue[${i}]`, `must be an integer from 1 to ${M ?? 'M'}`);
      else if (i > 0 && isInt(ibv[i - 1]) && x < (ibv[i - 1] as number)) {
        errors.add(`impactByAssetValue[${i}]`, `must not be lower than impactByAssetValue[${i - 1}] (non-decreasing)`);
      }
    });
  }

  const thresholds = N === undefined ? undefined : N - 1;
  checkAscending(
    errors,
    'baselineGapThresholds',
    d.baselineGapThresholds,
    thresholds,
    (x) => typeof x === 'number' && Number.isFinite(x) && x > 0 && x <= 1,
    'a number greater than 0 and at most 1',
  );
  checkAscending(
    errors,
    'detailedLikelihoodThresholds',
    d.detailedLikelihoodThresholds,
    thresholds,
    (x) => isIntIn(x, CRITERIA_LIMITS.minDetailedThreshold, CRITERIA_LIMITS.maxDetailedThreshold),
    `an integer from ${CRITERIA_LIMITS.minDetailedThreshold} to ${CRITERIA_LIMITS.maxDetailedThreshold}`,
  );

  // Assessment criteria (Art. 13(2)): which method an asset of a given value requires.
  if (!Array.isArray(d.requiredMethods)) errors.add('requiredMethods', 'must be a list');
  else {
    const seen = new Map<string, number>();
    (d.requiredMethods as unknown[]).forEach((r, i) => {
      const rm = (r ?? {}) as Record<string, unknown>;
      let ok = true;
      if (!isIntIn(rm.minAssetValue, 1, 3)) {
        errors.add(`requiredMethods[${i}].minAssetValue`, 'must be an integer from 1 to 3');
        ok = false;
      }
      if (!(ANALYSIS_METHODS as readonly unknown[]).includes(rm.method)) {
        errors.add(`requiredMethods[${i}].method`, `must be one of ${ANALYSIS_METHODS.join(', ')}`);
        ok = false;
      }
      if (ok) {
        const key = `${String(rm.minAssetValue)}/${String(rm.method)}`;
        const first = seen.get(key);
        if (first !== undefined) errors.add(`requiredMethods[${i}]`, `duplicates requiredMethods[${first}]`);
        else seen.set(key, i);
      }
    });
  }

  // Review interval per risk level.
  if (!Array.isArray(d.reviewIntervalDays)) errors.add('reviewIntervalDays', 'must be a list with one entry per risk level');
  else {
    const seen = new Map<string, number>();
    const entries = d.reviewIntervalDays as unknown[];
    entries.forEach((r, i) => {
      const ri = (r ?? {}) as Record<string, unknown>;
      if (levels && rank(ri.level) < 0) errors.add(`reviewIntervalDays[${i}].level`, `must be one of the risk levels (${levels.join(', ')})`);
      else if (typeof ri.level === 'string') {
        const first = seen.get(ri.level);
        if (first !== undefined) errors.add(`reviewIntervalDays[${i}].level`, `duplicates reviewIntervalDays[${first}].level`);
        else seen.set(ri.level, i);
      }
      if (!isIntIn(ri.days, CRITERIA_LIMITS.minReviewDays, CRITERIA_LIMITS.maxReviewDays)) {
        errors.add(`reviewIntervalDays[${i}].days`, `must be an integer from ${CRITERIA_LIMITS.minReviewDays} to ${CRITERIA_LIMITS.maxReviewDays}`);
      }
    });
    if (levels) {
      const missing = levels.filter((l) => !seen.has(l));
      if (missing.length > 0) errors.add('reviewIntervalDays', `must have one entry per risk level; missing ${missing.join(', ')}`);
      // Monotone, as the matrix: a higher level is reviewed at least as often as the level below it.
      const daysAt = (i: number | undefined): number | undefined => {
        const days = i === undefined ? undefined : ((entries[i] ?? {}) as Record<string, unknown>).days;
        return isIntIn(days, CRITERIA_LIMITS.minReviewDays, CRITERIA_LIMITS.maxReviewDays) ? days : undefined;
      };
      for (let k = 1; k < levels.length; k++) {
        const [i, below] = [seen.get(levels[k]), seen.get(levels[k - 1])];
        const [days, daysBelow] = [daysAt(i), daysAt(below)];
        if (days !== undefined && daysBelow !== undefined && days > daysBelow) {
          errors.add(
            `reviewIntervalDays[${i}].days`,
            `must not be greater than reviewIntervalDays[${below}].days (${daysBelow} days for "${levels[k - 1]}"): a higher risk level ("${levels[k]}") is reviewed at least as often as a lower one`,
          );
        }
      }
    }
  }

  errors.throwIfAny();
}

// ---------------------------------------------------------------------------------------------
// decide
// ---------------------------------------------------------------------------------------------

function sameDefinition(a: CriteriaDefinition, b: CriteriaDefinition): boolean {
  return JSON.stringify(definitionOf(a)) === JSON.stringify(definitionOf(b));
}

function decidePropose(c: ProposeRiskCriteria, state: CriteriaRegisterState): CriteriaEvent[] {
  requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'propose risk criteria');
  const definition = normalizeCriteriaDefinition(c.definition);
  validateCriteriaDefinition(definition);

  const existing = criteriaById(state, c.criteriaId);
  if (existing) {
    if (sameDefinition(existing, definition)) return [];
    throw violation(
      CriteriaRules.CRITERIA_VERSION_IMMUTABLE,
      `Risk criteria ${c.criteriaId} (number ${existing.number}) was already proposed with a different definition; propose a new version instead`,
    );
  }
  const number = state.versions.reduce((max, v) => Math.max(max, v.number), 0) + 1;
  return [
    {
      type: 'RiskCriteriaProposed',
      data: { criteriaId: c.criteriaId, number, ...definitionOf(definition), proposedBy: c.actor.id, proposedAt: c.at },
    },
  ];
}

function decideApprove(c: ApproveRiskCriteria, state: CriteriaRegisterState): CriteriaEvent[] {
  requireRole(c.actor, ['CISO'], 'approve risk criteria');
  const target = criteriaById(state, c.criteriaId);
  if (!target) throw new NotFoundError('RiskCriteria', c.criteriaId);
  if (target.status === 'IN_FORCE') return [];
  if (c.expectedVersion !== undefined && c.expectedVersion !== null && c.expectedVersion !== target.version) {
    throw new ConcurrencyConflictError(c.expectedVersion, target.version);
  }
  if (target.status === 'SUPERSEDED') {
    throw violation(
      CriteriaRules.CRITERIA_SUPERSEDED,
      `Risk criteria number ${target.number} was superseded by ${target.supersededBy}; it cannot be approved again`,
    );
  }
  if (samePerson(target.proposedBy, c.actor.id)) {
    throw dutiesSeparated(
      CriteriaRules.CRITERIA_APPROVER_IS_PROPOSER,
      `Risk criteria number ${target.number} was proposed by ${nameAsPerson(target.proposedBy, c.actor.id)}; duties are separated (Art.23(3)): another CISO must approve it`,
    );
  }
  const inForce = criteriaInForce(state);
  if (inForce && inForce.number > target.number) {
    throw violation(
      CriteriaRules.CRITERIA_OLDER_THAN_IN_FORCE,
      `Risk criteria number ${target.number} is older than number ${inForce.number}, which is in force; propose it again as a new version`,
    );
  }
  const approved: RiskCriteriaApproved = {
    type: 'RiskCriteriaApproved',
    data: {
      criteriaId: target.id,
      number: target.number,
      approvedBy: c.actor.id,
      approvedAt: c.at,
      ...(inForce ? { supersedes: inForce.id } : {}),
    },
  };
  if (!inForce) return [approved];
  return [
    approved,
    { type: 'RiskCriteriaSuperseded', data: { criteriaId: inForce.id, number: inForce.number, supersededBy: target.id, supersededAt: c.at } },
  ];
}

export function decideCriteria(command: CriteriaCommand, state: CriteriaRegisterState): CriteriaEvent[] {
  switch (command.type) {
    case 'ProposeRiskCriteria':
      return decidePropose(command, state);
    case 'ApproveRiskCriteria':
      return decideApprove(command, state);
    default: {
      const unknown: never = command;
      throw new Error(`Unknown risk-criteria command ${(unknown as { type: string }).type}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// evolve
// ---------------------------------------------------------------------------------------------

export function evolveCriteria(state: CriteriaRegisterState, event: CriteriaEvent): CriteriaRegisterState {
  const version = state.version + 1;
  const update = (id: string, f: (v: CriteriaVersionState) => CriteriaVersionState): CriteriaVersionState[] =>
    state.versions.map((v) => (v.id === id ? f(v) : v));
  switch (event.type) {
    case 'RiskCriteriaProposed': {
      const { criteriaId, number, proposedBy, proposedAt } = event.data;
      const added: CriteriaVersionState = {
        ...definitionOf(event.data),
        id: criteriaId,
        number,
        version,
        status: 'PROPOSED',
        proposedBy,
        proposedAt,
      };
      return { ...state, version, versions: [...state.versions, added] };
    }
    case 'RiskCriteriaApproved': {
      const d = event.data;
      return {
        ...state,
        version,
        inForceId: d.criteriaId,
        versions: update(d.criteriaId, (v) => ({ ...v, version, status: 'IN_FORCE', approvedBy: d.approvedBy, approvedAt: d.approvedAt })),
      };
    }
    case 'RiskCriteriaSuperseded': {
      const d = event.data;
      return {
        ...state,
        version,
        ...(state.inForceId === d.criteriaId ? { inForceId: d.supersededBy } : {}),
        versions: update(d.criteriaId, (v) => ({
          ...v,
          version,
          status: 'SUPERSEDED',
          supersededAt: d.supersededAt,
          supersededBy: d.supersededBy,
        })),
      };
    }
    default:
      return { ...state, version };
  }
}

export const criteriaDecider: Decider<CriteriaCommand, CriteriaEvent, CriteriaRegisterState> = {
  // Every version is in the one register stream; a proposal makes a new one (a new id each attempt).
  subjectOf: (c) => (c.type === 'ApproveRiskCriteria' ? c.criteriaId : undefined),
  // Snapshots of this state are kept under this version: bump it whenever the state's shape (or what evolve folds into it) changes.
  stateVersion: 'criteria/1',
  decide: decideCriteria,
  evolve: evolveCriteria,
  initialState: initialCriteriaRegisterState,
};

/** Convenience for callers that only know the method names. */
export function isAnalysisMethod(value: unknown): value is AnalysisMethod {
  return (ANALYSIS_METHODS as readonly unknown[]).includes(value);
}
