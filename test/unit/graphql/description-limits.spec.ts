/**
 * The character limits that input fields' descriptions state in schema.gql (what tool authors
 * read) are the ones the deciders enforce. Fifteen of them said 4,000 characters while the
 * deciders, and the contract's edge limit, allowed 10,000; the descriptions now interpolate the
 * deciders' own constants, and this table holds them to it.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { buildSchema, isInputObjectType } from 'graphql';
import { ASSET_DESCRIPTION_MAX_LENGTH } from '../../../src/asset-inventory/domain/asset.decider.js';
import { CATALOGUE_LIMITS } from '../../../src/baseline-catalogues/domain/catalogue.decider.js';
import { EVIDENCE_LIMITS } from '../../../src/evidence/domain/evidence-file.decider.js';
import { REVOCATION_LIMITS } from '../../../src/identity/domain/token-revocation.decider.js';
import { INCIDENT_LIMITS } from '../../../src/incidents/domain/incident.decider.js';
import { RISK_TEXT_MAX_LENGTH, RISK_TITLE_MAX_LENGTH } from '../../../src/risk-register/domain/risk.rules.js';
import { PLAN_LIMITS } from '../../../src/treatment-plan/domain/plan.decider.js';
import { statedCharacters } from '../../support/schema-descriptions.js';

/** Input field → the limit its decider enforces (the smaller of it and the edge's, where the edge is tighter). */
const ENFORCED: Record<string, number> = {
  'IdentifyRiskInput.description': RISK_TEXT_MAX_LENGTH,
  'IdentifyRiskInput.title': RISK_TITLE_MAX_LENGTH,
  'DecideTreatmentInput.rationale': RISK_TEXT_MAX_LENGTH,
  'DecideTreatmentInput.counterparty': RISK_TITLE_MAX_LENGTH,
  'RecordReviewInput.notes': RISK_TEXT_MAX_LENGTH,
  'RecordControlProgressInput.note': RISK_TEXT_MAX_LENGTH,
  'RecordBoardResolutionInput.notes': PLAN_LIMITS.notes,
  'RecordBoardResolutionInput.minutesReference': PLAN_LIMITS.minutesReference,
  'AcceptResidualRiskInput.statement': PLAN_LIMITS.statement,
  'DeclineResidualRiskInput.reason': PLAN_LIMITS.reason,
  'WithdrawPlanInput.reason': PLAN_LIMITS.reason,
  'ClosePlanInput.reason': PLAN_LIMITS.reason,
  'RemoveRiskFromPlanInput.reason': PLAN_LIMITS.reason,
  'BaselineRequirementInput.statement': CATALOGUE_LIMITS.maxStatementLength,
  'RegisterAssetInput.description': ASSET_DESCRIPTION_MAX_LENGTH,
  'IdentifyThreatInput.description': ASSET_DESCRIPTION_MAX_LENGTH,
  'IdentifyVulnerabilityInput.description': ASSET_DESCRIPTION_MAX_LENGTH,
  'RetireAssetInput.reason': ASSET_DESCRIPTION_MAX_LENGTH,
  'AttachEvidenceInput.description': EVIDENCE_LIMITS.description,
  'AddCommentInput.text': EVIDENCE_LIMITS.comment,
  'RecordIncidentInput.description': INCIDENT_LIMITS.description,
  'RevokeTokensInput.reason': REVOCATION_LIMITS.reason,
};

describe('input descriptions state the limits the deciders enforce', () => {
  const schema = buildSchema(readFileSync('schema.gql', 'utf8'));

  it.each(Object.entries(ENFORCED))('%s: %i characters', (path, limit) => {
    const [typeName, fieldName] = path.split('.') as [string, string];
    const type = schema.getType(typeName);
    if (!isInputObjectType(type)) throw new Error(`${typeName} is not an input type of schema.gql`);
    const field = type.getFields()[fieldName];
    expect(field?.description).toBeTruthy();
    expect(statedCharacters(field!.description!)).toBe(limit);
  });

  it('reads the forms the descriptions use', () => {
    expect(statedCharacters('Why it is closed; required, at most 10,000 characters.')).toBe(10_000);
    expect(statedCharacters('Why it leaves the inventory, 1 to 4,000 characters.')).toBe(4_000);
    expect(statedCharacters('Reference to the board minutes, 1–500 characters.')).toBe(500);
    expect(statedCharacters('Free text.')).toBeNull();
  });
});
